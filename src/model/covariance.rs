//! EllipticEnvelope, an outlier detector from a robust covariance: `score_samples` is minus
//! the squared Mahalanobis distance to `location_` under `precision_` (scipy's `cdist`, whose
//! root is then squared, as `mahalanobis` does), `decision_function` that minus `offset_`,
//! and `predict` 1 where the decision is at least 0, else -1.
//!
//! A model fitted with `store_precision=False` keeps only its covariance, whose
//! pseudo-inverse scikit-learn computes at every prediction: it is refused with that reason.

use ndarray::{Array1, Array2, ArrayView2};

use super::LoadError;
use super::allow::SkClass;
use super::classes::Classes;
use super::compose::{Model, Step};
use super::estimator::{Method, Prediction, Predictor, Target};
use super::fitted;
use super::state::State;

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    class == SkClass::EllipticEnvelope
}

/// A fitted EllipticEnvelope.
#[derive(Clone, Debug)]
pub struct Envelope {
    location: Array1<f64>,
    precision: Array2<f64>,
    offset: f64,
    labels: Classes,
}

pub fn read(state: &State<'_>) -> Result<Step, LoadError> {
    let location = fitted::vector(state, "location_", None)?;
    let n = fitted::features(state, location.len(), "location_")?;
    if !state.bool_or("store_precision", true)? {
        return Err(state.unsupported(
            "was fitted with store_precision=False: scikit-learn computes its precision (a \
             pseudo-inverse) at every prediction, which skserve does not",
        ));
    }
    let precision = fitted::matrix(state, "precision_", Some(n), Some(n))?;
    let offset = fitted::scalar(state, "offset_")?;
    Ok(Step::Model(Model {
        transformers: Vec::new(),
        predictor: Box::new(Envelope {
            location,
            precision,
            offset,
            labels: Classes::Int(vec![-1, 1]),
        }),
        wrappers: Vec::new(),
    }))
}

impl Envelope {
    /// `-mahalanobis(X)` of each row.
    fn scores(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let n = self.location.len();
        let mut centred = vec![0.0; n];
        let mut out = Array2::zeros((x.nrows(), 1));
        for (i, row) in x.rows().into_iter().enumerate() {
            for ((c, v), l) in centred.iter_mut().zip(row).zip(&self.location) {
                *c = v - l;
            }
            let mut s = 0.0;
            for (ci, vi) in centred.iter().zip(self.precision.rows()) {
                let projected = vi.iter().zip(&centred).fold(0.0, |acc, (a, b)| acc + b * a);
                s += ci * projected;
            }
            let distance = s.sqrt();
            out[[i, 0]] = -(distance * distance);
        }
        out
    }
}

impl Predictor for Envelope {
    fn class(&self) -> &'static str {
        "EllipticEnvelope"
    }

    fn n_features_in(&self) -> usize {
        self.location.len()
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
            Method::ScoreSamples => Some(self.scores(x)),
            Method::DecisionFunction => self.decision_function(x),
            _ => None,
        }
    }

    fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        Some(self.scores(x) - self.offset)
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        let decisions = self.scores(x) - self.offset;
        Prediction::Classes(decisions.iter().map(|&d| usize::from(d >= 0.0)).collect())
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "class": "EllipticEnvelope",
            "n_features_in": self.location.len(),
            "offset": self.offset,
            "labels": [-1, 1],
        })
    }
}
