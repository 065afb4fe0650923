//! Linear regressors as a [`Predictor`]: `X @ coef_.T + intercept_` (LinearRegression, Ridge,
//! RidgeCV, Lasso, LassoCV, ElasticNet, SGDRegressor, HuberRegressor, LinearSVR), and the
//! generalised linear models, whose prediction is that linear predictor through the inverse
//! of their link (`exp` for PoissonRegressor, GammaRegressor and TweedieRegressor with a log
//! link; the identity for a Tweedie power of 0 or below).

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::classifier::for_each_row;
use super::math::{dot, exp, wide};
use crate::model::allow::SkClass;
use crate::model::estimator::{Attribution, Method, Prediction, Predictor, Refusal, Target};
use crate::model::sparse::Csr;

/// The inverse link turning the linear predictor into the predicted value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Link {
    Identity,
    /// The prediction is `exp` of the linear predictor.
    Log,
}

/// A fitted linear regressor.
#[derive(Clone, Debug, PartialEq)]
pub struct Regressor {
    pub class: SkClass,
    /// `coef_`, `n_outputs × n_features`, row-major.
    pub coef: Vec<f64>,
    /// `intercept_`, one per output.
    pub intercept: Vec<f64>,
    pub n_features: usize,
    pub n_outputs: usize,
    /// `predict` returns one value per row (a 1-D `coef_`), not a column per output.
    pub one_d: bool,
    pub link: Link,
}

impl Regressor {
    #[inline(always)]
    fn value(&self, linear: f64) -> f64 {
        match self.link {
            Link::Identity => linear,
            Link::Log => exp(linear),
        }
    }
}

impl Predictor for Regressor {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        Target::Values {
            n_outputs: self.n_outputs,
            one_d: self.one_d,
        }
    }

    fn methods(&self) -> Vec<Method> {
        vec![Method::Predict]
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        let mut out = Array2::zeros((x.nrows(), self.n_outputs));
        let n = self.n_outputs;
        let flat = out.as_slice_mut().expect("a new array is contiguous");
        wide(
            #[inline(always)]
            || {
                for_each_row(x, |i, row| {
                    for (k, weights) in self.coef.chunks_exact(self.n_features).enumerate() {
                        flat[i * n + k] = self.value(dot(row, weights) + self.intercept[k]);
                    }
                })
            },
        );
        Prediction::Values(out)
    }

    fn predict_sparse(&self, x: &Csr) -> Prediction {
        let n = self.n_outputs;
        let mut out = Array2::zeros((x.n_rows(), n));
        let flat = out.as_slice_mut().expect("a new array is contiguous");
        for (i, o) in flat.chunks_exact_mut(n).enumerate() {
            x.row_dot(i, &self.coef, o);
            for (v, b) in o.iter_mut().zip(&self.intercept) {
                *v = self.value(*v + b);
            }
        }
        Prediction::Values(out)
    }

    /// A linear model takes every finite value: sparse rows are never made dense to be
    /// checked.
    fn refusal_sparse(&self, _x: &Csr) -> Option<Refusal> {
        None
    }

    fn attribution(
        &self,
        row: ArrayView1<'_, f64>,
        _predicted: Option<usize>,
    ) -> Option<Attribution> {
        if self.n_outputs != 1 {
            return None;
        }
        let contributions: Vec<f64> = row.iter().zip(&self.coef).map(|(x, w)| x * w).collect();
        let row: Vec<f64> = row.iter().copied().collect();
        Some(Attribution {
            explained_class: None,
            base: self.intercept[0],
            output: dot(&row, &self.coef) + self.intercept[0],
            contributions,
            weights: Some(self.coef.clone()),
        })
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "class": self.class.name(),
            "n_features_in": self.n_features,
            "n_outputs": self.n_outputs,
            "link": self.link,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn identity_and_log_links() {
        let mut r = Regressor {
            class: SkClass::Ridge,
            coef: vec![2.0, -1.0],
            intercept: vec![0.5],
            n_features: 2,
            n_outputs: 1,
            one_d: true,
            link: Link::Identity,
        };
        let x = array![[1.0, 1.0], [0.0, 2.0]];
        assert_eq!(
            r.predict(x.view()),
            Prediction::Values(array![[1.5], [-1.5]])
        );
        r.link = Link::Log;
        let Prediction::Values(v) = r.predict(x.view()) else {
            unreachable!()
        };
        assert!((v[[0, 0]] - 1.5f64.exp()).abs() < 1e-15);
    }
}
