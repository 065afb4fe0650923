//! GaussianProcessRegressor, fitted: `predict` is `_y_train_std · (k(X, X_train_) @ alpha_) +
//! _y_train_mean`, and `predict_std` the root of `(k.diag(X) − Σ v²)`, negatives set to 0,
//! times `_y_train_std²`, where `v = L_⁻¹ k(X_train_, X)` (a forward substitution on the
//! stored Cholesky factor), as every version from 1.1 on computes them. Several targets give
//! a column each.

use ndarray::{Array1, Array2, ArrayView2, Axis};

use super::kernels::{self, Against, solve_lower};
use crate::model::LoadError;
use crate::model::estimator::{Method, Prediction, Predictor, Target};
use crate::model::fitted;
use crate::model::pairwise::ROWS_AT_ONCE;
use crate::model::simd;
use crate::model::state::State;

/// A fitted GaussianProcessRegressor.
#[derive(Clone, Debug)]
pub struct Regressor {
    /// The fitted kernel against `X_train_`.
    kernel: Against,
    /// `n_train × n_targets`.
    alpha: Array2<f64>,
    l: Array2<f64>,
    /// One per target.
    mean: Array1<f64>,
    std: Array1<f64>,
    one_d: bool,
}

pub fn read(state: &State<'_>) -> Result<Regressor, LoadError> {
    let x_train = fitted::matrix(state, "X_train_", None, None)?;
    let (n, n_features) = x_train.dim();
    if n == 0 {
        return Err(state.malformed("X_train_", "holds no row"));
    }
    fitted::features(state, n_features, "X_train_")?;
    let (values, shape) = state.numbers("alpha_")?;
    fitted::finite(state, "alpha_", &values)?;
    let (targets, one_d) = match shape[..] {
        [rows] if rows == n => (1, true),
        [rows, 1] if rows == n => (1, true),
        [rows, t] if rows == n && t > 0 => (t, false),
        _ => {
            return Err(state.malformed(
                "alpha_",
                format!("has shape {shape:?}, expected [{n}] or [{n}, targets]"),
            ));
        }
    };
    let alpha = Array2::from_shape_vec((n, targets), values).expect("n × targets");
    let l = fitted::matrix(state, "L_", Some(n), Some(n))?;
    kernels::check_lower(state, "L_", &l, n)?;
    let per_target = |name: &str| -> Result<Array1<f64>, LoadError> {
        let (values, _) = state.numbers(name)?;
        fitted::finite(state, name, &values)?;
        match values.len() {
            1 => Ok(Array1::from_elem(targets, values[0])),
            k if k == targets => Ok(Array1::from(values)),
            k => Err(state.malformed(name, format!("has {k} values for {targets} targets"))),
        }
    };
    let mean = per_target("_y_train_mean")?;
    let std = per_target("_y_train_std")?;
    Ok(Regressor {
        kernel: Against::read(state, kernels::read(state, "kernel_", n_features)?, x_train)?,
        alpha,
        l,
        mean,
        std,
        one_d,
    })
}

impl Predictor for Regressor {
    fn class(&self) -> &'static str {
        "GaussianProcessRegressor"
    }

    fn n_features_in(&self) -> usize {
        self.kernel.rows().ncols()
    }

    fn target(&self) -> Target<'_> {
        Target::Values {
            n_outputs: self.alpha.ncols(),
            one_d: self.one_d,
        }
    }

    fn methods(&self) -> Vec<Method> {
        vec![Method::Predict, Method::PredictStd]
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        // A block of rows at a time: its kernel rows stay in cache between the kernel and the
        // product with `alpha_` that reads them.
        let mut y = Array2::zeros((x.nrows(), self.alpha.ncols()));
        for (rows, mut out) in x
            .axis_chunks_iter(Axis(0), ROWS_AT_ONCE)
            .zip(y.axis_chunks_iter_mut(Axis(0), ROWS_AT_ONCE))
        {
            let k = self.kernel.matrix(rows);
            out.assign(&simd::product(k.view(), self.alpha.view()));
        }
        for mut row in y.rows_mut() {
            for ((v, s), m) in row.iter_mut().zip(&self.std).zip(&self.mean) {
                *v = s * *v + m;
            }
        }
        Prediction::Values(y)
    }

    fn values(&self, method: Method, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        if method != Method::PredictStd {
            return None;
        }
        let k = self.kernel.matrix(x);
        let diag = self.kernel.kernel().diag(x);
        let mut v = vec![0.0; self.kernel.rows().nrows()];
        let mut out = Array2::zeros((x.nrows(), self.std.len()));
        for (i, row) in k.axis_iter(Axis(0)).enumerate() {
            v.iter_mut().zip(row).for_each(|(a, b)| *a = *b);
            solve_lower(&self.l, &mut v);
            let explained = v.iter().fold(0.0, |s, a| s + a * a);
            let variance = (diag[i] - explained).max(0.0);
            for (o, s) in out.row_mut(i).iter_mut().zip(&self.std) {
                *o = (variance * (s * s)).sqrt();
            }
        }
        Some(out)
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "class": "GaussianProcessRegressor",
            "n_features_in": self.kernel.rows().ncols(),
            "n_train": self.kernel.rows().nrows(),
            "n_targets": self.alpha.ncols(),
            "kernel": self.kernel.kernel().describe(),
        })
    }
}
