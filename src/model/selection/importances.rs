//! SelectFromModel's mask: its estimator's importances (`coef_` through `np.linalg.norm` of
//! `norm_order` over the outputs, or `feature_importances_`, the impurity decrease a tree
//! ensemble's trees record, computed as scikit-learn's `Tree.compute_feature_importances`
//! does), kept where at or above the threshold (`"mean"`, `"median"`, `"1.5*mean"`, a number,
//! or the default of 1e-5 for an L1 penalty and the mean otherwise), the `max_features` best
//! first.

use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::state::{State, number_of, numbers_of};
use crate::model::tree::math::pairwise_sum;
use crate::model::value::{Elements, Node, Value};

/// An estimator's importances, with what decides its default threshold.
pub struct Scores {
    pub importances: Vec<f64>,
    /// Whether it was fitted with an L1 penalty (the default threshold is then 1e-5).
    l1: bool,
}

/// The importances of the estimator at `value`, as `_get_feature_importances` computes them.
pub fn of(state: &State<'_>, value: Value) -> Result<Scores, LoadError> {
    let estimator = State::of(state.heap, value, &state.path.join("estimator_"))?;
    let getter = match state.attr("importance_getter") {
        None => "auto",
        Some(v) => state.heap.str(v).ok_or_else(|| {
            state.unsupported("importance_getter is a callable; skserve runs no code from a file")
        })?,
    };
    let importances = match getter {
        "auto" if estimator.has("coef_") => coef_norm(state, &estimator)?,
        "coef_" => coef_norm(state, &estimator)?,
        "auto" | "feature_importances_" => tree_importances(&estimator)?,
        other => {
            return Err(state.unsupported(format!(
                "importance_getter={other:?}; skserve reads 'auto', 'coef_' and \
                 'feature_importances_'"
            )));
        }
    };
    if importances.is_empty() {
        return Err(estimator.malformed("coef_", "holds no weights"));
    }
    Ok(Scores {
        importances,
        l1: l1_penalized(state, &estimator),
    })
}

/// `np.linalg.norm(coef_, axis=0, ord=norm_order)`, or `abs(coef_)` for one row.
fn coef_norm(state: &State<'_>, estimator: &State<'_>) -> Result<Vec<f64>, LoadError> {
    let (coef, shape) = estimator.numbers("coef_")?;
    if coef.iter().any(|c| !c.is_finite()) {
        return Err(estimator.malformed("coef_", "holds NaN or infinity"));
    }
    let (rows, n) = match shape[..] {
        [_] => return Ok(coef.iter().map(|c| c.abs()).collect()),
        [rows, n] => (rows, n),
        _ => return Err(estimator.malformed("coef_", format!("has shape {shape:?}"))),
    };
    let order = state.number("norm_order")?.unwrap_or(1.0);
    let coef = &coef;
    let column = |j: usize| (0..rows).map(move |i| coef[i * n + j]);
    Ok((0..n)
        .map(|j| {
            if order == f64::INFINITY {
                column(j).map(f64::abs).fold(f64::NEG_INFINITY, f64::max)
            } else if order == f64::NEG_INFINITY {
                column(j).map(f64::abs).fold(f64::INFINITY, f64::min)
            } else if order == 0.0 {
                column(j).filter(|c| *c != 0.0).count() as f64
            } else if order == 1.0 {
                column(j).map(f64::abs).fold(0.0, |s, v| s + v)
            } else if order == 2.0 {
                column(j).map(|c| c * c).fold(0.0, |s, v| s + v).sqrt()
            } else {
                column(j)
                    .map(|c| c.abs().powf(order))
                    .fold(0.0, |s, v| s + v)
                    .powf(1.0 / order)
            }
        })
        .collect())
}

/// The classes whose impurity decreases scikit-learn sums.
fn tree_importances(estimator: &State<'_>) -> Result<Vec<f64>, LoadError> {
    use SkClass::*;
    let n = estimator
        .count("n_features_in_")?
        .ok_or_else(|| estimator.malformed("n_features_in_", "is missing"))?;
    match estimator.class {
        DecisionTreeClassifier
        | DecisionTreeRegressor
        | ExtraTreeClassifier
        | ExtraTreeRegressor => tree_decrease(estimator, n, true).map(|(v, _)| v),
        RandomForestClassifier
        | RandomForestRegressor
        | ExtraTreesClassifier
        | ExtraTreesRegressor => {
            let trees = estimator.items("estimators_")?;
            let mut all = Vec::new();
            for (i, t) in trees.iter().enumerate() {
                let tree = State::of(
                    estimator.heap,
                    *t,
                    &estimator.path.join(&format!("estimators_[{i}]")),
                )?;
                let (importances, nodes) = tree_decrease(&tree, n, true)?;
                if nodes > 1 {
                    all.push(importances);
                }
            }
            Ok(mean_normalised(all, n))
        }
        GradientBoostingClassifier | GradientBoostingRegressor => {
            let stages = estimator.array("estimators_")?;
            let mut all = Vec::new();
            for (i, t) in stages.object_values().iter().enumerate() {
                let tree = State::of(
                    estimator.heap,
                    *t,
                    &estimator.path.join(&format!("estimators_[{i}]")),
                )?;
                let (importances, nodes) = tree_decrease(&tree, n, false)?;
                if nodes > 1 {
                    all.push(importances);
                }
            }
            Ok(mean_normalised(all, n))
        }
        other => Err(estimator.unsupported(format!(
            "{} has no coef_ or feature_importances_ skserve computes",
            other.name()
        ))),
    }
}

/// `np.mean(importances, axis=0) / np.sum(...)`, zeros when no tree split.
fn mean_normalised(all: Vec<Vec<f64>>, n: usize) -> Vec<f64> {
    if all.is_empty() {
        return vec![0.0; n];
    }
    let mut mean = vec![0.0; n];
    for importances in &all {
        for (m, v) in mean.iter_mut().zip(importances) {
            *m += v;
        }
    }
    let count = all.len() as f64;
    mean.iter_mut().for_each(|m| *m /= count);
    let total = pairwise_sum(&mean);
    mean.iter().map(|m| m / total).collect()
}

/// One tree's `compute_feature_importances(normalize)` and its node count. The tree has been
/// checked by the tree room (read through the catalog) before this reads it.
fn tree_decrease(
    tree: &State<'_>,
    n: usize,
    normalize: bool,
) -> Result<(Vec<f64>, usize), LoadError> {
    let value = tree.get("tree_")?;
    let bad = || tree.malformed("tree_", "has nodes skserve cannot read");
    let Some(Node::Object(object)) = tree.heap.node(value) else {
        return Err(bad());
    };
    let fields = object
        .state
        .and_then(|s| tree.heap.str_dict(s))
        .ok_or_else(bad)?;
    let nodes = fields
        .iter()
        .rev()
        .find(|(k, _)| *k == "nodes")
        .and_then(|(_, v)| tree.heap.array(*v))
        .ok_or_else(bad)?;
    let ints = |name: &str| match nodes.field(name) {
        Some(Elements::Int(v)) => Some(v),
        _ => None,
    };
    let floats = |name: &str| match nodes.field(name) {
        Some(Elements::Float(v)) => Some(v),
        _ => None,
    };
    let (left, right, feature) = (
        ints("left_child").ok_or_else(bad)?,
        ints("right_child").ok_or_else(bad)?,
        ints("feature").ok_or_else(bad)?,
    );
    let (impurity, weight) = (
        floats("impurity").ok_or_else(bad)?,
        floats("weighted_n_node_samples").ok_or_else(bad)?,
    );
    let count = left.len();
    let in_range = |i: i64| usize::try_from(i).ok().filter(|&i| i < count);
    let mut importances = vec![0.0; n];
    for node in 0..count {
        if left[node] == -1 {
            continue;
        }
        let (l, r) = (
            in_range(left[node]).ok_or_else(bad)?,
            in_range(right[node]).ok_or_else(bad)?,
        );
        let f = usize::try_from(feature[node])
            .ok()
            .filter(|&f| f < n)
            .ok_or_else(bad)?;
        importances[f] +=
            weight[node] * impurity[node] - weight[l] * impurity[l] - weight[r] * impurity[r];
    }
    let root = weight.first().copied().ok_or_else(bad)?;
    importances.iter_mut().for_each(|v| *v /= root);
    if normalize {
        let total = pairwise_sum(&importances);
        if total > 0.0 {
            importances.iter_mut().for_each(|v| *v /= total);
        }
    }
    Ok((importances, count))
}

/// `_calculate_threshold`'s default of 1e-5 applies: an L1 penalty, a Lasso, and from
/// scikit-learn 1.8 an l1_ratio of 1.
fn l1_penalized(selector: &State<'_>, estimator: &State<'_>) -> bool {
    let name = estimator.class.name();
    let close_to_one = |attr: &str| {
        estimator
            .attr(attr)
            .and_then(|v| numbers_of(estimator.heap, v))
            .is_some_and(|(v, _)| !v.is_empty() && v.iter().all(|r| (r - 1.0).abs() <= 1e-8 + 1e-5))
    };
    let penalty_l1 = estimator.text("penalty") == Some("l1");
    let lasso = name.contains("Lasso");
    let elastic_cv = name == "ElasticNetCV" && close_to_one("l1_ratio_");
    let recent = !selector.saved_before((1, 8))
        && ((name == "ElasticNet" || name == "LogisticRegression") && close_to_one("l1_ratio")
            || name == "LogisticRegressionCV" && close_to_one("l1_ratio_"));
    penalty_l1 || lasso || elastic_cv || recent
}

/// The kept columns, in order.
pub fn mask(state: &State<'_>, scores: &Scores) -> Result<Vec<usize>, LoadError> {
    let importances = &scores.importances;
    let n = importances.len();
    let threshold = threshold(state, scores)?;
    let mut mask = match state.attr("max_features") {
        None | Some(Value::None) => vec![true; n],
        Some(_) => {
            let max = match state
                .attr("max_features_")
                .or_else(|| state.attr("max_features"))
            {
                Some(Value::Int(m)) if m >= 0 => (m as usize).min(n),
                _ => {
                    return Err(state.malformed("max_features_", "is not a count of features"));
                }
            };
            // `np.argsort(-scores, kind="mergesort")[:max_features]`.
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| (-importances[a]).total_cmp(&(-importances[b])));
            let mut mask = vec![false; n];
            for &i in &order[..max] {
                mask[i] = true;
            }
            mask
        }
    };
    for (m, &s) in mask.iter_mut().zip(importances) {
        if s < threshold {
            *m = false;
        }
    }
    Ok(mask
        .iter()
        .enumerate()
        .filter_map(|(i, &k)| k.then_some(i))
        .collect())
}

fn threshold(state: &State<'_>, scores: &Scores) -> Result<f64, LoadError> {
    let importances = &scores.importances;
    let mean = || pairwise_sum(importances) / importances.len() as f64;
    let median = || {
        let mut sorted = importances.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        }
    };
    let reference = |name: &str| match name.trim() {
        "mean" => Ok(mean()),
        "median" => Ok(median()),
        other => Err(state.malformed("threshold", format!("names {other:?}, not mean or median"))),
    };
    match state.attr("threshold") {
        None | Some(Value::None) => Ok(if scores.l1 { 1e-5 } else { mean() }),
        Some(v) => match state.heap.str(v) {
            Some(text) => match text.split_once('*') {
                Some((scale, name)) => {
                    let scale: f64 = scale.trim().parse().map_err(|_| {
                        state.malformed("threshold", format!("has the scale {scale:?}"))
                    })?;
                    Ok(scale * reference(name)?)
                }
                None => reference(text),
            },
            None => number_of(state.heap, v)
                .ok_or_else(|| state.malformed("threshold", "is not a number or a reference")),
        },
    }
}
