//! A neighbour search's KDTree or BallTree as pickled (`BinaryTree.__getstate__`: the points,
//! the index permutation, the nodes, their bounds, … and the distance metric), read for its
//! data only. skserve searches by brute force over `_fit_X` with the tree's arithmetic (each
//! pair's distance by the metric, as the tree computes it), so the nodes and bounds are never
//! followed and a malformed node cannot lead a search astray.
//!
//! Checked at load: the tree is the kind `_fit_method` names; its points are `_fit_X`, value
//! for value; `idx_array` is a permutation of them; the metric pickled in the tree is the
//! estimator's (its class, and Minkowski's `p`).
//!
//! What must not live here: the search itself (`super::search`).

use ndarray::Array2;

use crate::model::LoadError;
use crate::model::allow::{Callable, SkClass};
use crate::model::pairwise::Metric;
use crate::model::state::{State, number_of};
use crate::model::value::{Elements, Node, Value};

/// Checks `_tree` against the estimator's `_fit_X` (`fit`) and effective `metric`; `ball` is
/// whether `_fit_method` is `ball_tree`.
pub fn check(
    state: &State<'_>,
    fit: &Array2<f64>,
    metric: &Metric,
    ball: bool,
) -> Result<(), LoadError> {
    check_named(state, "_tree", fit, metric, ball)
}

/// Checks the tree at attribute `attr` as [`check`] checks `_tree`.
pub fn check_named(
    state: &State<'_>,
    attr: &str,
    fit: &Array2<f64>,
    metric: &Metric,
    ball: bool,
) -> Result<(), LoadError> {
    let bad = |problem: String| state.malformed(attr, problem);
    let value = state.get(attr)?;
    let Some(Node::Object(object)) = state.heap.node(value) else {
        return Err(bad("is not a KDTree or BallTree".into()));
    };
    let expected = if ball {
        SkClass::BallTree
    } else {
        SkClass::KdTree
    };
    if object.class != Callable::Class(expected) {
        return Err(bad(format!(
            "is {}, but _fit_method asks for a {}",
            object.class,
            expected.name()
        )));
    }
    let items = object
        .state
        .and_then(|s| state.heap.tuple(s))
        .filter(|items| items.len() >= 12)
        .ok_or_else(|| bad("has no state of 12 or more fields".into()))?;
    let (n, d) = fit.dim();
    let data = state
        .heap
        .array(items[0])
        .ok_or_else(|| bad("data is not an array".into()))?;
    if data.shape != [n, d] {
        return Err(bad(format!(
            "data has shape {:?} but _fit_X has [{n}, {d}]",
            data.shape
        )));
    }
    let values = data
        .to_f64()
        .ok_or_else(|| bad("data is not numeric".into()))?;
    if let Some(i) = values
        .iter()
        .zip(fit.iter())
        .position(|(a, b)| a.to_bits() != b.to_bits())
    {
        return Err(bad(format!(
            "data[{}, {}] is {}, but _fit_X holds {} there",
            i / d.max(1),
            i % d.max(1),
            values[i],
            fit.as_slice().map_or(f64::NAN, |s| s[i])
        )));
    }
    let idx = state
        .heap
        .array(items[1])
        .ok_or_else(|| bad("idx_array is not an array".into()))?;
    let Elements::Int(idx) = &idx.elements else {
        return Err(bad("idx_array is not integers".into()));
    };
    let mut seen = vec![false; n];
    if idx.len() != n {
        return Err(bad(format!(
            "idx_array holds {} indices for {n} points",
            idx.len()
        )));
    }
    for (i, &v) in idx.iter().enumerate() {
        match usize::try_from(v).ok().filter(|&v| v < n && !seen[v]) {
            Some(v) => seen[v] = true,
            None => {
                return Err(bad(format!(
                    "idx_array[{i}] is {v}: not a permutation of the {n} points"
                )));
            }
        }
    }
    check_metric(state, items[11], metric).map_err(bad)
}

/// The tree's pickled metric is the estimator's: its class, and Minkowski's `p`.
fn check_metric(state: &State<'_>, value: Value, metric: &Metric) -> Result<(), String> {
    let Some(Node::Object(object)) = state.heap.node(value) else {
        return Err("holds no distance metric".into());
    };
    let name = object.class.name();
    let class = name.rsplit('.').next().unwrap_or_default();
    let class = class.strip_suffix("64").unwrap_or(class);
    let expected = match metric {
        Metric::Euclidean => "EuclideanDistance",
        Metric::Manhattan => "ManhattanDistance",
        Metric::Chebyshev => "ChebyshevDistance",
        Metric::Minkowski { .. } => "MinkowskiDistance",
        Metric::SEuclidean { .. } => "SEuclideanDistance",
        Metric::Mahalanobis { .. } => "MahalanobisDistance",
        Metric::Hamming => "HammingDistance",
        Metric::Canberra => "CanberraDistance",
        Metric::BrayCurtis => "BrayCurtisDistance",
        Metric::Haversine => "HaversineDistance",
        Metric::Jaccard => "JaccardDistance",
        Metric::Dice => "DiceDistance",
        Metric::Matching => "MatchingDistance",
        Metric::Kulsinski => "KulsinskiDistance",
        Metric::RogersTanimoto => "RogersTanimotoDistance",
        Metric::RussellRao => "RussellRaoDistance",
        Metric::SokalMichener => "SokalMichenerDistance",
        Metric::SokalSneath => "SokalSneathDistance",
        other => return Err(format!("cannot search by {}", other.name())),
    };
    if class != expected {
        return Err(format!(
            "searches by {class}, but the estimator's metric is {}",
            metric.name()
        ));
    }
    if let Metric::Minkowski { p, .. } = metric {
        let stored = object
            .state
            .and_then(|s| state.heap.tuple(s))
            .and_then(|t| t.first().copied())
            .and_then(|v| number_of(state.heap, v));
        if stored != Some(*p) {
            return Err(format!(
                "has p = {}, but the estimator's p is {p}",
                stored.map_or_else(|| "nothing".to_owned(), |p| p.to_string())
            ));
        }
    }
    Ok(())
}
