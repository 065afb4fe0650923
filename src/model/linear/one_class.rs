//! SGDOneClassSVM, a linear outlier detector: `decision_function = X @ coef_ - offset_`,
//! `score_samples = decision_function + offset_` (that sum, as scikit-learn computes it, not
//! the dot product alone), and `predict` 1 where the decision is at least 0, else -1.

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::classifier::for_each_row;
use super::math::dot;
use crate::model::LoadError;
use crate::model::classes::Classes;
use crate::model::estimator::{Attribution, Method, Prediction, Predictor, Target};
use crate::model::fitted;
use crate::model::state::State;

/// A fitted SGDOneClassSVM.
#[derive(Clone, Debug)]
pub struct OneClass {
    coef: Vec<f64>,
    offset: f64,
    /// -1 (outlier) and 1 (inlier).
    labels: Classes,
}

pub fn read(state: &State<'_>) -> Result<OneClass, LoadError> {
    let (coef, n_outputs, n_features, _) = super::read_coef(state)?;
    if n_outputs != 1 {
        return Err(state.malformed("coef_", "has several rows; a one-class model has one"));
    }
    state.check_n_features(n_features, "coef_")?;
    let offset = fitted::scalar(state, "offset_")?;
    Ok(OneClass {
        coef,
        offset,
        labels: Classes::Int(vec![-1, 1]),
    })
}

impl OneClass {
    fn decisions(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut out = Array2::zeros((x.nrows(), 1));
        for_each_row(x, |i, row| out[[i, 0]] = dot(row, &self.coef) - self.offset);
        out
    }
}

impl Predictor for OneClass {
    fn class(&self) -> &'static str {
        "SGDOneClassSVM"
    }

    fn n_features_in(&self) -> usize {
        self.coef.len()
    }

    fn target(&self) -> Target<'_> {
        Target::Classes(&self.labels)
    }

    fn methods(&self) -> Vec<Method> {
        vec![
            Method::Predict,
            Method::DecisionFunction,
            Method::ScoreSamples,
        ]
    }

    fn values(&self, method: Method, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        match method {
            Method::DecisionFunction => Some(self.decisions(x)),
            Method::ScoreSamples => Some(self.decisions(x).mapv(|d| d + self.offset)),
            _ => None,
        }
    }

    fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        Some(self.decisions(x))
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        Prediction::Classes(
            self.decisions(x)
                .iter()
                .map(|&d| usize::from(d >= 0.0))
                .collect(),
        )
    }

    fn attribution(
        &self,
        row: ArrayView1<'_, f64>,
        _predicted: Option<usize>,
    ) -> Option<Attribution> {
        let row: Vec<f64> = row.iter().copied().collect();
        Some(Attribution {
            explained_class: Some(1),
            base: -self.offset,
            contributions: row.iter().zip(&self.coef).map(|(x, w)| x * w).collect(),
            weights: Some(self.coef.clone()),
            output: dot(&row, &self.coef) - self.offset,
        })
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "class": "SGDOneClassSVM",
            "n_features_in": self.coef.len(),
            "offset": self.offset,
            "labels": [-1, 1],
        })
    }
}
