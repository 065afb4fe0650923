//! BayesianRidge and ARDRegression: a linear regressor whose `predict` is `X @ coef_ +
//! intercept_`, and whose `predict(X, return_std=True)` also gives each row's standard
//! deviation, `sqrt(Σ (x @ sigma_) * x + 1 / alpha_)`, over the row as the version that saved
//! the model prepared it:
//! - scikit-learn 1.1 with `normalize=True` scaled it, `(x - X_offset_) / X_scale_`;
//! - 1.2 to 1.8 took it as it came;
//! - 1.9 centres it, `x - X_offset_`.
//!
//! ARDRegression's `sigma_` covers only the features it kept (`lambda_ < threshold_lambda`).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use super::regressor::Regressor;
use crate::model::LoadError;
use crate::model::estimator::{Attribution, Method, Prediction, Predictor, Target};
use crate::model::fitted;
use crate::model::state::State;
use crate::model::tree::math::pairwise_sum;

/// How a row is prepared before its variance is computed.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
enum Prepared {
    AsIs,
    Centred,
    Scaled,
}

/// A fitted BayesianRidge or ARDRegression.
#[derive(Clone, Debug)]
pub struct Bayesian {
    linear: Regressor,
    /// The posterior covariance of the kept weights.
    sigma: Array2<f64>,
    /// The noise precision.
    alpha: f64,
    /// The features `sigma_` covers, in order.
    kept: Vec<usize>,
    prepared: Prepared,
    offset: Array1<f64>,
    scale: Array1<f64>,
}

pub fn read(state: &State<'_>, linear: Regressor) -> Result<Bayesian, LoadError> {
    if linear.n_outputs != 1 {
        return Err(state.malformed("coef_", "has several rows; this regressor has one output"));
    }
    let n = linear.n_features;
    let kept: Vec<usize> = if state.class == crate::model::SkClass::ArdRegression {
        let lambda = fitted::vector(state, "lambda_", Some(n))?;
        let threshold = fitted::scalar(state, "threshold_lambda")?;
        (0..n).filter(|&j| lambda[j] < threshold).collect()
    } else {
        (0..n).collect()
    };
    let k = kept.len();
    let sigma = fitted::matrix(state, "sigma_", Some(k), Some(k))?;
    let alpha = fitted::positive(state, "alpha_")?;
    let normalized = state.bool_or("_normalize", false)?;
    let prepared = if normalized {
        Prepared::Scaled
    } else if state.saved_before((1, 9)) {
        Prepared::AsIs
    } else {
        Prepared::Centred
    };
    let offset = match prepared {
        Prepared::AsIs => Array1::zeros(n),
        _ => fitted::vector(state, "X_offset_", Some(n))?,
    };
    let scale = match prepared {
        Prepared::Scaled => {
            let scale = fitted::vector(state, "X_scale_", Some(n))?;
            if scale.iter().any(|&s| s == 0.0) {
                return Err(state.malformed("X_scale_", "holds a zero"));
            }
            scale
        }
        _ => Array1::ones(n),
    };
    Ok(Bayesian {
        linear,
        sigma,
        alpha,
        kept,
        prepared,
        offset,
        scale,
    })
}

impl Bayesian {
    /// `sqrt(Σ (x @ sigma_) * x + 1 / alpha_)` of each row.
    fn std(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let k = self.kept.len();
        let mut prepared = Array2::zeros((x.nrows(), k));
        for (mut out, row) in prepared.rows_mut().into_iter().zip(x.rows()) {
            for (o, &j) in out.iter_mut().zip(&self.kept) {
                *o = match self.prepared {
                    Prepared::AsIs => row[j],
                    Prepared::Centred => row[j] - self.offset[j],
                    Prepared::Scaled => (row[j] - self.offset[j]) / self.scale[j],
                };
            }
        }
        let projected = prepared.dot(&self.sigma);
        let noise = 1.0 / self.alpha;
        let mut out = Array2::zeros((x.nrows(), 1));
        let mut terms = vec![0.0; k];
        for (i, (p, r)) in projected
            .rows()
            .into_iter()
            .zip(prepared.rows())
            .enumerate()
        {
            for ((t, a), b) in terms.iter_mut().zip(p).zip(r) {
                *t = a * b;
            }
            out[[i, 0]] = (pairwise_sum(&terms) + noise).sqrt();
        }
        out
    }
}

impl Predictor for Bayesian {
    fn class(&self) -> &'static str {
        self.linear.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.linear.n_features
    }

    fn target(&self) -> Target<'_> {
        self.linear.target()
    }

    fn methods(&self) -> Vec<Method> {
        vec![Method::Predict, Method::PredictStd]
    }

    fn values(&self, method: Method, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        (method == Method::PredictStd).then(|| self.std(x))
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        self.linear.predict(x)
    }

    fn attribution(
        &self,
        row: ArrayView1<'_, f64>,
        predicted: Option<usize>,
    ) -> Option<Attribution> {
        self.linear.attribution(row, predicted)
    }

    fn describe(&self) -> serde_json::Value {
        let mut described = self.linear.describe();
        described["kept_features"] = self.kept.len().into();
        described["std_of"] = serde_json::to_value(&self.prepared).unwrap_or_default();
        described
    }
}
