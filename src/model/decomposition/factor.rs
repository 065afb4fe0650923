//! FactorAnalysis: `transform` is the posterior mean of the latent factors,
//! `((x − mean_) Wψᵀ) (I + Wψ Wᵀ)⁻¹` with `W = components_` and `Wψ = W / noise_variance_`,
//! the inverse made once at load; `score_samples` through `get_precision()` (see
//! `likelihood`). Every fitted array is checked for shape and finiteness, the noise
//! variances for being above zero (they divide).

use ndarray::{Array1, Array2, Axis};

use super::algebra;
use super::likelihood::{Gaussian, Scored, add_to_diagonal};
use crate::model::LoadError;
use crate::model::estimator::{Data, Needs, Refusal, Transformer};
use crate::model::fitted;
use crate::model::input::{ColumnKind, Dtype};
use crate::model::state::State;

/// A fitted FactorAnalysis as a transformer.
#[derive(Clone, Debug, PartialEq)]
pub struct Factors {
    label: String,
    mean: Array1<f64>,
    /// `(components_ / noise_variance_)ᵀ`: features × factors.
    weighted: Array2<f64>,
    /// `(I + Wψ Wᵀ)⁻¹`: factors × factors.
    posterior: Array2<f64>,
}

pub fn read(state: &State<'_>) -> Result<Scored<Factors>, LoadError> {
    let components = fitted::matrix(state, "components_", None, None)?;
    let (k, n) = components.dim();
    fitted::features(state, n, "components_")?;
    let mean = fitted::vector(state, "mean_", Some(n))?;
    let noise = fitted::vector(state, "noise_variance_", Some(n))?;
    if let Some(i) = noise.iter().position(|v| *v <= 0.0) {
        return Err(state.malformed(
            &format!("noise_variance_[{i}]"),
            format!("is {}, not a variance above zero", noise[i]),
        ));
    }
    let weighted_rows = &components / &noise.view().insert_axis(Axis(0));
    let mut inner = weighted_rows.dot(&components.t());
    add_to_diagonal(&mut inner, std::iter::repeat_n(1.0, k));
    let posterior = algebra::inverse(inner.view()).ok_or_else(|| {
        state.malformed(
            "components_",
            "make I + Wψ Wᵀ singular: the factors' posterior cannot be computed",
        )
    })?;
    let precision = precision(state, &components, &noise)?;
    Ok(Scored {
        transformer: Factors {
            label: state.label(),
            mean: mean.clone(),
            weighted: weighted_rows.reversed_axes(),
            posterior,
        },
        n_components: k,
        gaussian: Gaussian::new(mean, precision),
    })
}

/// FactorAnalysis's `get_precision()`: by the `n_components` it was given, the diagonal of
/// the noise, the inverse of the covariance, or the matrix inversion lemma.
fn precision(
    state: &State<'_>,
    components: &Array2<f64>,
    noise: &Array1<f64>,
) -> Result<Option<Array2<f64>>, LoadError> {
    let n = components.ncols();
    let asked = state.count("n_components")?;
    if asked == Some(0) {
        return Ok(Some(Array2::from_diag(&noise.mapv(|v| 1.0 / v))));
    }
    if asked == Some(n) {
        let mut covariance = components.t().dot(components);
        add_to_diagonal(&mut covariance, noise.iter().copied());
        return Ok(algebra::inverse(covariance.view()));
    }
    let mut precision = (components / &noise.view().insert_axis(Axis(0))).dot(&components.t());
    add_to_diagonal(&mut precision, std::iter::repeat_n(1.0, components.nrows()));
    let Some(inverse) = algebra::inverse(precision.view()) else {
        return Ok(None);
    };
    let mut precision = components.t().dot(&inverse.dot(components));
    precision /= &noise.view().insert_axis(Axis(1));
    precision /= &noise.mapv(|v| -v).view().insert_axis(Axis(0));
    add_to_diagonal(&mut precision, noise.iter().map(|v| 1.0 / v));
    Ok(Some(precision))
}

impl Transformer for Factors {
    fn class(&self) -> &'static str {
        "FactorAnalysis"
    }

    fn n_features_in(&self) -> usize {
        self.mean.len()
    }

    fn sources(&self) -> Vec<usize> {
        vec![0; self.posterior.nrows()]
    }

    fn feature_names_out(&self, _input: &[String]) -> Vec<String> {
        (0..self.posterior.nrows())
            .map(|k| format!("factoranalysis{k}"))
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
        let centred = &x - &self.mean.view().insert_axis(Axis(0));
        Ok(Data::Numbers {
            values: centred.dot(&self.weighted).dot(&self.posterior),
            dtype: Dtype::F64,
        })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": "FactorAnalysis",
            "columns": input,
            "n_components": self.posterior.nrows(),
        })
    }
}
