//! NearestCentroid: the class of the nearest centroid (`pairwise_distances_argmin`, the first
//! of equally near ones). From scikit-learn 1.5 it also keeps `class_prior_` and
//! `within_class_std_dev_`: then, with the Euclidean metric, `decision_function` is
//! `−‖(x − μ_c) / s‖² + 2 log prior_c` (features of zero spread left unscaled),
//! `predict_proba` its softmax, and `predict` the first largest score unless the priors are
//! all equal (`isclose(prior, 1 / classes)`), where it stays the nearest centroid.

use ndarray::{Array1, Array2, ArrayView2};

use crate::model::LoadError;
use crate::model::classes::{Classes, read_classes};
use crate::model::estimator::{Method, Prediction, Predictor, Target};
use crate::model::fitted;
use crate::model::pairwise::{self, Metric, MetricParams};
use crate::model::state::State;
use crate::model::tree::math::logsumexp;

/// The discriminant scores of scikit-learn 1.5 and later.
#[derive(Clone, Debug, PartialEq)]
struct Scores {
    log_prior: Array1<f64>,
    /// The centroids over the within-class spread (where it is not zero).
    scaled: Array2<f64>,
    /// The spread, 1 where it is zero.
    std: Array1<f64>,
    /// Whether the priors are all equal, so that `predict` is the nearest centroid.
    equal_priors: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NearestCentroid {
    classes: Classes,
    centroids: Array2<f64>,
    metric: Metric,
    scores: Option<Scores>,
}

pub fn read(state: &State<'_>) -> Result<NearestCentroid, LoadError> {
    let classes = read_classes(state, "classes_")?;
    let k = classes.len();
    if k == 0 {
        return Err(state.malformed("classes_", "is empty"));
    }
    let centroids = fitted::matrix(state, "centroids_", Some(k), None)?;
    let d = centroids.ncols();
    fitted::features(state, d, "centroids_")?;
    let name = state.text("metric").ok_or_else(|| {
        state.unsupported(
            "metric is not a metric's name (a callable is code, which skserve never runs)",
        )
    })?;
    let metric = Metric::from_name(name, MetricParams::default(), d)
        .map_err(|e| state.malformed("metric", e.to_string()))?;
    let scores = if state.has("class_prior_") {
        let prior = fitted::vector(state, "class_prior_", Some(k))?;
        if let Some(i) = prior.iter().position(|p| !(*p > 0.0 && *p <= 1.0)) {
            return Err(state.malformed(
                &format!("class_prior_[{i}]"),
                format!("is {}, not a probability above 0", prior[i]),
            ));
        }
        let std = fitted::vector(state, "within_class_std_dev_", Some(d))?;
        if let Some(i) = std.iter().position(|s| *s < 0.0) {
            return Err(state.malformed(&format!("within_class_std_dev_[{i}]"), "is negative"));
        }
        let std = std.mapv(|s| if s == 0.0 { 1.0 } else { s });
        let uniform = 1.0 / k as f64;
        Some(Scores {
            equal_priors: prior
                .iter()
                .all(|p| (p - uniform).abs() <= 1e-8 + 1e-5 * uniform),
            log_prior: prior.mapv(f64::ln),
            scaled: &centroids / &std,
            std,
        })
    } else {
        None
    };
    Ok(NearestCentroid {
        classes,
        centroids,
        metric,
        scores,
    })
}

impl NearestCentroid {
    /// `_decision_function` (by the model's metric, as `predict` uses it).
    fn scores(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        let scores = self.scores.as_ref()?;
        let scaled = &x / &scores.std;
        let mut out = Array2::zeros((x.nrows(), self.classes.len()));
        for (c, mut column) in out.columns_mut().into_iter().enumerate() {
            let centroid = scores.scaled.row(c).insert_axis(ndarray::Axis(0));
            let d = pairwise::pairwise_distances(&self.metric, scaled.view(), centroid);
            for (o, d) in column.iter_mut().zip(d.iter()) {
                *o = -(d * d) + 2.0 * scores.log_prior[c];
            }
        }
        Some(out)
    }
}

fn first(row: ndarray::ArrayView1<'_, f64>, better: impl Fn(f64, f64) -> bool) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if better(v, row[best]) {
            best = i;
        }
    }
    best
}

impl Predictor for NearestCentroid {
    fn class(&self) -> &'static str {
        "NearestCentroid"
    }

    fn n_features_in(&self) -> usize {
        self.centroids.ncols()
    }

    fn target(&self) -> Target<'_> {
        Target::Classes(&self.classes)
    }

    fn methods(&self) -> Vec<Method> {
        if self.scores.is_some() && self.metric == Metric::Euclidean {
            vec![
                Method::Predict,
                Method::PredictProba,
                Method::DecisionFunction,
            ]
        } else {
            vec![Method::Predict]
        }
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        if self.scores.as_ref().is_some_and(|s| !s.equal_priors)
            && let Some(values) = self.scores(x)
        {
            return Prediction::Classes(
                values
                    .rows()
                    .into_iter()
                    .map(|r| first(r, |a, b| a > b))
                    .collect(),
            );
        }
        let d = pairwise::pairwise_distances(&self.metric, x, self.centroids.view());
        Prediction::Classes(
            d.rows()
                .into_iter()
                .map(|r| first(r, |a, b| a < b))
                .collect(),
        )
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        if !self.has_predict_proba() {
            return None;
        }
        let mut scores = self.scores(x)?;
        for mut row in scores.rows_mut() {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            row.mapv_inplace(|v| v - max);
            let lse = logsumexp(row.as_slice().expect("contiguous"));
            row.mapv_inplace(|v| (v - lse).exp());
        }
        Some(scores)
    }

    fn has_predict_proba(&self) -> bool {
        self.scores.is_some() && self.metric == Metric::Euclidean
    }

    fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        if !self.has_predict_proba() {
            return None;
        }
        let scores = self.scores(x)?;
        if self.classes.len() == 2 {
            return Some((&scores.column(1) - &scores.column(0)).insert_axis(ndarray::Axis(1)));
        }
        Some(scores)
    }

    fn unexplained_because(&self) -> Option<String> {
        Some(
            "NearestCentroid answers by the nearest centroid; no feature has a part of its own"
                .into(),
        )
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "class": "NearestCentroid",
            "n_features_in": self.centroids.ncols(),
            "metric": self.metric.name(),
            "classes": self.classes.to_json(),
        })
    }
}
