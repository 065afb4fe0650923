//! SparsePCA and MiniBatchSparsePCA: `transform` centres the rows on `mean_` and solves the
//! ridge problem `ridge_regression(components_.T, (X - mean_).T, ridge_alpha,
//! solver="cholesky")` as scikit-learn does: with `C = components_` (k × n), the normal
//! equations `(C Cᵀ + α I) u = C x` when `k ≤ n`, or their kernel form
//! `u = C (Cᵀ C + α I)⁻¹ x` when there are more components than features, each by a Cholesky
//! factorisation made once at load.

use ndarray::{Array1, Array2, Axis};

use super::algebra::Positive;
use super::likelihood::add_to_diagonal;
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Refusal, Transformer};
use crate::model::fitted;
use crate::model::input::{ColumnKind, Dtype};
use crate::model::state::State;

/// A fitted SparsePCA or MiniBatchSparsePCA.
#[derive(Debug)]
pub struct SparseProjection {
    class: SkClass,
    label: String,
    mean: Array1<f64>,
    /// `components_`: components × features.
    components: Array2<f64>,
    /// `C Cᵀ + α I`, or `Cᵀ C + α I` in the kernel form, factorised.
    system: Positive,
    kernel: bool,
}

pub fn read(state: &State<'_>) -> Result<SparseProjection, LoadError> {
    let components = fitted::matrix(state, "components_", None, None)?;
    let (k, n) = components.dim();
    if k == 0 {
        return Err(state.malformed("components_", "is empty"));
    }
    fitted::features(state, n, "components_")?;
    if let Some(stored) = state.count("n_components_")?
        && stored != k
    {
        return Err(state.malformed(
            "n_components_",
            format!("is {stored} but components_ has {k} rows"),
        ));
    }
    let mean = fitted::vector(state, "mean_", Some(n))?;
    let alpha = match state.number("ridge_alpha")? {
        None => 0.01,
        Some(a) if a.is_finite() && a >= 0.0 => a,
        Some(a) => {
            return Err(state.malformed(
                "ridge_alpha",
                format!("is {a}, not a finite number at least 0"),
            ));
        }
    };
    // ridge_regression's rule: the kernel form when the design (components_.T, n × k) has
    // more columns than rows.
    let kernel = k > n;
    let mut gram = if kernel {
        components.t().dot(&components)
    } else {
        components.dot(&components.t())
    };
    let side = gram.nrows();
    add_to_diagonal(&mut gram, std::iter::repeat_n(alpha, side));
    let system = Positive::factor(gram.view()).ok_or_else(|| {
        state.malformed(
            "components_",
            format!("with ridge_alpha {alpha} give a ridge system that is not positive definite"),
        )
    })?;
    Ok(SparseProjection {
        class: state.class,
        label: state.label(),
        mean,
        components,
        system,
        kernel,
    })
}

impl Transformer for SparseProjection {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.mean.len()
    }

    fn sources(&self) -> Vec<usize> {
        vec![0; self.components.nrows()]
    }

    fn feature_names_out(&self, _input: &[String]) -> Vec<String> {
        let prefix = self.class.name().to_lowercase();
        (0..self.components.nrows())
            .map(|k| format!("{prefix}{k}"))
            .collect()
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.mean.len()]
    }

    fn mixes_features(&self) -> bool {
        true
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let x = fitted::floats(data, &self.label)?;
        let centred = (&x - &self.mean.view().insert_axis(Axis(0))).reversed_axes();
        let coefficients = if self.kernel {
            let dual = self.system.solve(centred.view());
            self.components.dot(&dual)
        } else {
            self.system.solve(self.components.dot(&centred).view())
        };
        Ok(Data::Numbers {
            values: coefficients.t().as_standard_layout().into_owned(),
            dtype: Dtype::F64,
        })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": self.class.name(),
            "columns": input,
            "n_components": self.components.nrows(),
            "ridge": if self.kernel { "kernel" } else { "primal" },
        })
    }
}
