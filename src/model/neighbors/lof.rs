//! LocalOutlierFactor fitted with `novelty=True`: a row's local reachability density from its
//! `n_neighbors_` nearest fitted points (`1 / (mean(max(d, k-distance of the neighbour)) +
//! 1e-10)`), `score_samples` the opposite of the mean ratio of the neighbours' densities
//! (`_lrd`) to it, `decision_function` that minus `offset_`, and `predict` -1 where the
//! decision is below zero, else 1. A model fitted with `novelty=False` has no answer for new
//! rows in scikit-learn and is refused.

use ndarray::{Array1, Array2, ArrayView2};

use super::predictor::neighbours_count;
use super::search::Search;
use crate::model::LoadError;
use crate::model::classes::Classes;
use crate::model::estimator::{Method, Prediction, Predictor, Target};
use crate::model::fitted;
use crate::model::state::State;

#[derive(Clone, Debug, PartialEq)]
pub struct LocalOutlierFactor {
    search: Search,
    k: usize,
    /// Each fitted point's distance to its k-th neighbour (`_distances_fit_X_[:, k − 1]`).
    k_distance: Array1<f64>,
    lrd: Array1<f64>,
    offset: f64,
    /// -1 and 1, `predict`'s labels.
    labels: Classes,
}

pub fn read(state: &State<'_>) -> Result<LocalOutlierFactor, LoadError> {
    if !state.bool_or("novelty", false)? {
        return Err(state.unsupported(
            "novelty is false: LocalOutlierFactor then scores only the rows it was fitted on, and has no answer for new rows (fit it with novelty=True)",
        ));
    }
    let search = Search::read(state)?;
    let n = search.n_fit();
    fitted::features(state, search.n_features(), "_fit_X")?;
    let k = neighbours_count(state, "n_neighbors_", n)?;
    let distances = fitted::matrix(state, "_distances_fit_X_", Some(n), Some(k))?;
    if let Some(((i, j), d)) = distances.indexed_iter().find(|(_, d)| **d < 0.0) {
        return Err(state.malformed(
            &format!("_distances_fit_X_[{i}, {j}]"),
            format!("is {d}, not a distance"),
        ));
    }
    let lrd = fitted::vector(state, "_lrd", Some(n))?;
    if let Some(i) = lrd.iter().position(|v| *v <= 0.0) {
        return Err(state.malformed(
            &format!("_lrd[{i}]"),
            format!("is {}, not a positive density", lrd[i]),
        ));
    }
    Ok(LocalOutlierFactor {
        k_distance: distances.column(k - 1).to_owned(),
        search,
        k,
        lrd,
        offset: fitted::scalar(state, "offset_")?,
        labels: Classes::Int(vec![-1, 1]),
    })
}

impl LocalOutlierFactor {
    fn score_samples(&self, x: ArrayView2<'_, f64>) -> Array1<f64> {
        self.search
            .kneighbors(x, self.k)
            .iter()
            .map(|neighbours| {
                let reach: Vec<f64> = neighbours
                    .iter()
                    .map(|&(d, i)| d.max(self.k_distance[i]))
                    .collect();
                let lrd = 1.0 / (mean(&reach) + 1e-10);
                let ratios: Vec<f64> = neighbours.iter().map(|&(_, i)| self.lrd[i] / lrd).collect();
                -mean(&ratios)
            })
            .collect()
    }

    fn decision(&self, x: ArrayView2<'_, f64>) -> Array1<f64> {
        self.score_samples(x) - self.offset
    }
}

/// `np.mean` of a short row (numpy's pairwise sum is sequential below eight values).
fn mean(values: &[f64]) -> f64 {
    crate::model::tree::math::pairwise_sum(values) / values.len() as f64
}

impl Predictor for LocalOutlierFactor {
    fn class(&self) -> &'static str {
        "LocalOutlierFactor"
    }

    fn n_features_in(&self) -> usize {
        self.search.n_features()
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
        let column = match method {
            Method::DecisionFunction => self.decision(x),
            Method::ScoreSamples => self.score_samples(x),
            _ => return None,
        };
        Some(column.insert_axis(ndarray::Axis(1)))
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        Prediction::Classes(
            self.decision(x)
                .iter()
                .map(|&d| usize::from(d >= 0.0))
                .collect(),
        )
    }

    fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        self.values(Method::DecisionFunction, x)
    }

    fn unexplained_because(&self) -> Option<String> {
        Some("LocalOutlierFactor compares densities among the nearest fitted points; no feature has a part of its own".into())
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "class": "LocalOutlierFactor",
            "n_features_in": self.search.n_features(),
            "n_neighbors": self.k,
            "offset": self.offset,
            "search": self.search.describe(),
        })
    }
}
