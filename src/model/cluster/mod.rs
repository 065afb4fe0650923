//! Clusters that label new data by their nearest center: KMeans, MiniBatchKMeans and
//! BisectingKMeans (`predict` and `transform`), Birch (`predict` through its subclusters'
//! labels, `transform`), AffinityPropagation and MeanShift (`predict`).
//!
//! `predict` is the first nearest center by squared Euclidean distance (numpy's `argmin`);
//! `transform` is `euclidean_distances(X, centers)` as scikit-learn computes it, through
//! `‖x‖² − 2 x·c + ‖c‖²` ([`pairwise::euclidean_distances`]). A label is an index into the
//! cluster labels, which [`Target::Classes`] gives back as integers.
//!
//! # Layout
//! - `bisecting`: BisectingKMeans's tree of bisections, which `predict` descends.
//!
//! What must not live here: distances themselves (`crate::model::pairwise`).

pub mod bisecting;

use ndarray::{Array1, Array2, ArrayView2, Axis};

use super::LoadError;
use super::allow::SkClass;
use super::classes::Classes;
use super::compose::{Model, Step};
use super::estimator::{Method, Prediction, Predictor, Target};
use super::fitted;
use super::pairwise::{euclidean_distances, row_norms_squared};
use super::state::State;
use bisecting::Bisections;

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    use SkClass::*;
    matches!(
        class,
        KMeans | MiniBatchKMeans | BisectingKMeans | Birch | AffinityPropagation | MeanShift
    )
}

/// How a row finds its cluster.
#[derive(Clone, Debug)]
enum Rule {
    /// The nearest of every center.
    Nearest,
    /// Down BisectingKMeans's tree, the nearer of two centers at each split.
    Bisections(Bisections),
    /// No center at all (AffinityPropagation that did not converge): every row is -1.
    Unlabelled,
}

/// A fitted clustering model.
#[derive(Clone, Debug)]
pub struct Clusters {
    class: SkClass,
    /// `n_clusters × n_features` (Birch: its subclusters').
    centers: Array2<f64>,
    /// `‖c‖²` of each center: the stored `_subcluster_norms` for Birch, else computed.
    norms: Array1<f64>,
    /// For each center, the index of its label in `labels` (Birch's `subcluster_labels_`).
    label_of: Vec<usize>,
    labels: Classes,
    rule: Rule,
    transforms: bool,
    n_features: usize,
}

pub fn read(state: &State<'_>) -> Result<Step, LoadError> {
    use SkClass::*;
    let centers_name = if state.class == Birch {
        "subcluster_centers_"
    } else {
        "cluster_centers_"
    };
    let centers = fitted::matrix(state, centers_name, None, None)?;
    let n_features = match state.count("n_features_in_")? {
        Some(n) if centers.nrows() == 0 => n,
        _ => centers.ncols(),
    };
    fitted::features(state, n_features, centers_name)?;
    let k = centers.nrows();
    let (label_of, labels) = match state.class {
        Birch => birch_labels(state, k)?,
        _ if k == 0 => (Vec::new(), Classes::Int(vec![-1])),
        _ => ((0..k).collect(), Classes::Int((0..k as i64).collect())),
    };
    let rule = match state.class {
        _ if k == 0 && state.class == AffinityPropagation => Rule::Unlabelled,
        _ if k == 0 => return Err(state.malformed(centers_name, "holds no center")),
        BisectingKMeans => Rule::Bisections(bisecting::read(state, k, n_features)?),
        _ => Rule::Nearest,
    };
    let norms = if state.class == Birch {
        fitted::vector(state, "_subcluster_norms", Some(k))?
    } else {
        row_norms_squared(centers.view())
    };
    Ok(Step::Model(Model {
        transformers: Vec::new(),
        predictor: Box::new(Clusters {
            class: state.class,
            centers,
            norms,
            label_of,
            labels,
            rule,
            transforms: matches!(
                state.class,
                KMeans | MiniBatchKMeans | BisectingKMeans | Birch
            ),
            n_features,
        }),
        wrappers: Vec::new(),
    }))
}

/// Birch's `subcluster_labels_`: the label of each subcluster (its global clustering's, or
/// its own index), as indices into the distinct labels, sorted.
fn birch_labels(state: &State<'_>, k: usize) -> Result<(Vec<usize>, Classes), LoadError> {
    let (values, shape) = state.numbers("subcluster_labels_")?;
    if shape != [k] {
        return Err(state.malformed(
            "subcluster_labels_",
            format!("has shape {shape:?}, expected [{k}] (one per subcluster)"),
        ));
    }
    if values.iter().any(|v| v.fract() != 0.0 || v.abs() > 1e15) {
        return Err(state.malformed("subcluster_labels_", "holds a value that is not a label"));
    }
    let mut distinct: Vec<i64> = values.iter().map(|&v| v as i64).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let label_of = values
        .iter()
        .map(|&v| {
            distinct
                .binary_search(&(v as i64))
                .expect("every label is listed")
        })
        .collect();
    Ok((label_of, Classes::Int(distinct)))
}

impl Clusters {
    /// `‖x‖² − 2 x·c + ‖c‖²` of every row and center.
    fn squared_distances(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let xx = row_norms_squared(x);
        let mut d = x.dot(&self.centers.t());
        for (mut row, &a) in d.axis_iter_mut(Axis(0)).zip(&xx) {
            for (v, &b) in row.iter_mut().zip(&self.norms) {
                *v = (-2.0 * *v + a) + b;
            }
        }
        d
    }
}

/// The index of the first smallest value.
pub(crate) fn argmin(values: impl IntoIterator<Item = f64>) -> usize {
    let mut best = (0, f64::INFINITY);
    for (i, v) in values.into_iter().enumerate() {
        if v < best.1 {
            best = (i, v);
        }
    }
    best.0
}

impl Predictor for Clusters {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        Target::Classes(&self.labels)
    }

    fn methods(&self) -> Vec<Method> {
        if self.transforms {
            vec![Method::Predict, Method::Transform]
        } else {
            vec![Method::Predict]
        }
    }

    fn width(&self, method: Method) -> usize {
        match method {
            Method::Transform => self.centers.nrows(),
            _ => 1,
        }
    }

    fn values(&self, method: Method, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        (method == Method::Transform && self.transforms)
            .then(|| euclidean_distances(x, self.centers.view(), false))
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        let labels = match &self.rule {
            Rule::Unlabelled => vec![0; x.nrows()],
            Rule::Nearest => self
                .squared_distances(x)
                .rows()
                .into_iter()
                .map(|row| self.label_of[argmin(row.iter().copied())])
                .collect(),
            Rule::Bisections(tree) => tree.predict(x),
        };
        Prediction::Classes(labels)
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "class": self.class.name(),
            "n_features_in": self.n_features,
            "n_centers": self.centers.nrows(),
            "labels": self.labels.to_json(),
        })
    }
}
