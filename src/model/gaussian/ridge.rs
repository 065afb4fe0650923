//! KernelRidge: `predict = k(X, X_fit_) @ dual_coef_`, the kernel one of `pairwise_kernels`
//! by name (with `gamma`, `degree` and `coef0`, each taken only by the kernels that have it),
//! a Gaussian process kernel object, or `precomputed` (the rows are the kernel's values
//! against the training rows already). Any other callable would have to run, and is refused.

use ndarray::{Array2, ArrayView2, Axis};

use super::kernels::{self, Against};
use crate::model::LoadError;
use crate::model::estimator::{Method, Prediction, Predictor, Target};
use crate::model::fitted;
use crate::model::pairwise::{FittedRows, Kernel as Pairwise, ROWS_AT_ONCE};
use crate::model::simd;
use crate::model::state::State;
use crate::model::value::Value;

#[derive(Clone, Debug)]
enum Kernel {
    /// A kernel of `pairwise_kernels` against `X_fit_`.
    Named(Pairwise, FittedRows),
    /// A Gaussian process kernel against `X_fit_`.
    Process(Against),
    Precomputed,
}

/// A fitted KernelRidge.
#[derive(Clone, Debug)]
pub struct Ridge {
    kernel: Kernel,
    /// Rows of `X_fit_`.
    n_train: usize,
    /// `n_train × n_targets`.
    dual_coef: Array2<f64>,
    one_d: bool,
    n_features: usize,
}

pub fn read(state: &State<'_>) -> Result<Ridge, LoadError> {
    let x_fit = fitted::matrix(state, "X_fit_", None, None)?;
    let (n, width) = x_fit.dim();
    if n == 0 {
        return Err(state.malformed("X_fit_", "holds no row"));
    }
    let (values, shape) = state.numbers("dual_coef_")?;
    fitted::finite(state, "dual_coef_", &values)?;
    let (targets, one_d) = match shape[..] {
        [rows] if rows == n => (1, true),
        [rows, t] if rows == n && t > 0 => (t, false),
        _ => {
            return Err(state.malformed(
                "dual_coef_",
                format!("has shape {shape:?}, expected [{n}] or [{n}, targets]"),
            ));
        }
    };
    let dual_coef = Array2::from_shape_vec((n, targets), values).expect("n × targets");
    let value = state.get("kernel")?;
    let (kernel, n_features) = match state.heap.str(value) {
        Some("precomputed") => (Kernel::Precomputed, n),
        Some(name) => {
            let gamma = state.number("gamma")?;
            let degree = state.number("degree")?.unwrap_or(3.0);
            let coef0 = state.number("coef0")?.unwrap_or(1.0);
            let kernel = Pairwise::from_name(name, gamma, degree, coef0, width)
                .map_err(|e| state.unsupported(format!("kernel: {e}")))?;
            let bytes = FittedRows::derived_bytes(n, width);
            fitted::charge_derived(state, "X_fit_ interleaved", bytes)?;
            (Kernel::Named(kernel, FittedRows::new(x_fit)), width)
        }
        None if matches!(
            state.heap.node(value),
            Some(crate::model::value::Node::Object(_))
        ) =>
        {
            if state
                .attr("kernel_params")
                .is_some_and(|v| v != Value::None)
            {
                return Err(state.unsupported(
                    "kernel_params with a kernel object: skserve calls the kernel as it is",
                ));
            }
            let kernel = kernels::read(state, "kernel", width)?;
            (Kernel::Process(Against::read(state, kernel, x_fit)?), width)
        }
        None => {
            return Err(state.unsupported(
                "kernel is neither a kernel's name nor a kernel object (a callable would have \
                 to run)",
            ));
        }
    };
    fitted::features(state, n_features, "X_fit_")?;
    Ok(Ridge {
        kernel,
        n_train: n,
        dual_coef,
        one_d,
        n_features,
    })
}

impl Predictor for Ridge {
    fn class(&self) -> &'static str {
        "KernelRidge"
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        Target::Values {
            n_outputs: self.dual_coef.ncols(),
            one_d: self.one_d,
        }
    }

    fn methods(&self) -> Vec<Method> {
        vec![Method::Predict]
    }

    fn accepts_missing(&self) -> bool {
        false
    }

    /// Rows [`ROWS_AT_ONCE`] at a time: each block's kernel values are multiplied by the
    /// dual coefficients while they are in cache.
    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        let mut out = Array2::zeros((x.nrows(), self.dual_coef.ncols()));
        for (rows, mut values) in x
            .axis_chunks_iter(Axis(0), ROWS_AT_ONCE)
            .zip(out.axis_chunks_iter_mut(Axis(0), ROWS_AT_ONCE))
        {
            let k = match &self.kernel {
                Kernel::Named(kernel, fitted) => fitted.kernel_matrix(kernel, rows),
                Kernel::Process(kernel) => kernel.matrix(rows),
                Kernel::Precomputed => rows.to_owned(),
            };
            values.assign(&simd::product(k.view(), self.dual_coef.view()));
        }
        Prediction::Values(out)
    }

    fn describe(&self) -> serde_json::Value {
        let kernel = match &self.kernel {
            Kernel::Named(k, _) => k.name().to_owned(),
            Kernel::Process(k) => k.kernel().describe(),
            Kernel::Precomputed => "precomputed".to_owned(),
        };
        serde_json::json!({
            "class": "KernelRidge",
            "n_features_in": self.n_features,
            "n_train": self.n_train,
            "kernel": kernel,
        })
    }
}
