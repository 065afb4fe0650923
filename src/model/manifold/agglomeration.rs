//! FeatureAgglomeration's `transform`: the features of each cluster (`labels_`) pooled into
//! one, by `pooling_func`. Only numpy's reductions from a fixed list are served, each
//! computed here as numpy computes it: `numpy.mean` as scikit-learn's `np.bincount` of each
//! row's features by label (summed in feature order) divided by the cluster's size,
//! `numpy.median` (the middle value, or the mean of the two middle ones), `numpy.max` and
//! `numpy.min` (`amax`, `amin` in numpy 1). The file names them as inert globals; any other
//! function is refused by name.
//!
//! What must not live here: clustering itself (the fitted labels are read, never recomputed).

use ndarray::Array2;

use crate::model::LoadError;
use crate::model::allow::{Callable, SkClass};
use crate::model::estimator::{Data, Needs, Refusal, Transformer};
use crate::model::fitted;
use crate::model::input::ColumnKind;
use crate::model::state::State;
use crate::model::value::Node;

/// The reductions a FeatureAgglomeration may pool with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pooling {
    Mean,
    Median,
    Max,
    Min,
}

impl Pooling {
    fn of_global(global: &str) -> Option<Self> {
        match global {
            "numpy.mean" => Some(Self::Mean),
            "numpy.median" => Some(Self::Median),
            "numpy.max" | "numpy.amax" => Some(Self::Max),
            "numpy.min" | "numpy.amin" => Some(Self::Min),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Mean => "numpy.mean",
            Self::Median => "numpy.median",
            Self::Max => "numpy.max",
            Self::Min => "numpy.min",
        }
    }

    /// The reduction of one cluster's values (in feature order).
    fn reduce(self, values: &mut [f64]) -> f64 {
        match self {
            Self::Mean => unreachable!("the mean is pooled by bincount"),
            Self::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            Self::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
            Self::Median => {
                values.sort_by(f64::total_cmp);
                let n = values.len();
                if n % 2 == 1 {
                    values[n / 2]
                } else {
                    (values[n / 2 - 1] + values[n / 2]) / 2.0
                }
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FeatureAgglomeration {
    label: String,
    pooling: Pooling,
    /// Each input feature's cluster.
    labels: Vec<usize>,
    n_clusters: usize,
}

pub fn read(state: &State<'_>) -> Result<FeatureAgglomeration, LoadError> {
    let func = state.get("pooling_func")?;
    let pooling = match state.heap.node(func) {
        Some(Node::Global(Callable::Inert(name))) => Pooling::of_global(name),
        _ => None,
    }
    .ok_or_else(|| {
        let named = match state.heap.node(func) {
            Some(Node::Global(callable)) => callable.name(),
            _ => "not a function".to_owned(),
        };
        state.unsupported(format!(
            "pooling_func is {named}; skserve pools with numpy.mean, numpy.median, numpy.max or \
             numpy.min, since any other function would run code from the file"
        ))
    })?;
    let (values, shape) = fitted::array(state, "labels_", &[None])?;
    let d = shape[0];
    fitted::features(state, d, "labels_")?;
    let labels = fitted::indices(state, "labels_", Some(d), d)?;
    drop(values);
    let n_clusters = labels.iter().max().map_or(0, |m| m + 1);
    let mut seen = vec![false; n_clusters];
    labels.iter().for_each(|&l| seen[l] = true);
    if let Some(empty) = seen.iter().position(|s| !s) {
        return Err(state.malformed(
            "labels_",
            format!("puts no feature in cluster {empty} of 0..{n_clusters}"),
        ));
    }
    if let Some(stored) = state.count("n_clusters_")?
        && stored != n_clusters
    {
        return Err(state.malformed(
            "n_clusters_",
            format!("is {stored}, but labels_ makes {n_clusters} clusters"),
        ));
    }
    Ok(FeatureAgglomeration {
        label: state.label(),
        pooling,
        labels,
        n_clusters,
    })
}

impl FeatureAgglomeration {
    fn pool(&self, x: &Array2<f64>) -> Array2<f64> {
        let mut out = Array2::zeros((x.nrows(), self.n_clusters));
        if self.pooling == Pooling::Mean {
            let mut size = vec![0.0; self.n_clusters];
            self.labels.iter().for_each(|&l| size[l] += 1.0);
            for (row, mut pooled) in x.rows().into_iter().zip(out.rows_mut()) {
                for (&l, v) in self.labels.iter().zip(row) {
                    pooled[l] += v;
                }
                pooled.iter_mut().zip(&size).for_each(|(p, s)| *p /= s);
            }
            return out;
        }
        let mut members = Vec::new();
        for (row, mut pooled) in x.rows().into_iter().zip(out.rows_mut()) {
            for (cluster, p) in pooled.iter_mut().enumerate() {
                members.clear();
                members.extend(
                    self.labels
                        .iter()
                        .zip(row)
                        .filter(|(l, _)| **l == cluster)
                        .map(|(_, v)| *v),
                );
                *p = self.pooling.reduce(&mut members);
            }
        }
        out
    }
}

impl Transformer for FeatureAgglomeration {
    fn class(&self) -> &'static str {
        SkClass::FeatureAgglomeration.name()
    }

    fn n_features_in(&self) -> usize {
        self.labels.len()
    }

    /// Each output pools a cluster; its first feature stands for it.
    fn sources(&self) -> Vec<usize> {
        (0..self.n_clusters)
            .map(|c| self.labels.iter().position(|&l| l == c).unwrap_or(0))
            .collect()
    }

    fn mixes_features(&self) -> bool {
        true
    }

    fn feature_names_out(&self, _input: &[String]) -> Vec<String> {
        (0..self.n_clusters)
            .map(|i| format!("featureagglomeration{i}"))
            .collect()
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.labels.len()]
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let (values, dtype) = {
            let x = fitted::floats(data, &self.label)?;
            (x, crate::model::input::Dtype::F64)
        };
        Ok(Data::Numbers {
            values: self.pool(&values),
            dtype,
        })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": SkClass::FeatureAgglomeration.name(),
            "columns": input,
            "pooling_func": self.pooling.name(),
            "labels": self.labels,
        })
    }
}
