//! IsolationForest through the tree engine: each ExtraTreeRegressor of `estimators_` walked
//! as the other forests are (the row cast to float32), its leaf holding the path length
//! scikit-learn adds for a row that ends there, `(nodes on the path + c(n_node_samples)) −
//! 1`, with `c(n) = 2 (ln(n − 1) + γ) − 2 (n − 1) / n` (0 for n ≤ 1, 1 for n = 2). A row's
//! depths are summed tree by tree in estimator order, as scikit-learn sums them, then
//! `score_samples = −2^(−depths / (n_trees · c(max_samples)))`, `decision_function =
//! score_samples − offset_`, and `predict` is -1 where the decision is below 0, else 1.
//!
//! A tree fitted on a subset of the features (`max_features < 1.0`) reads the columns
//! `estimators_features_` names; its splits are renumbered to the model's columns at load.
//! Missing values reach the trees from scikit-learn 1.6 on, where `score_samples` stopped
//! refusing them; each node's `missing_go_to_left` then sends them on.

use ndarray::{Array2, ArrayView2};

use super::math::f32_rows;
use super::nodes::{Forest, RawTree, Split};
use super::site::TreeSite;
use super::sktree;
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::classes::Classes;
use crate::model::estimator::{Method, Prediction, Predictor, Target};
use crate::model::fitted;
use crate::model::state::State;
use crate::model::value::{Elements, Node};

/// The Euler–Mascheroni constant, numpy's `euler_gamma`.
const EULER: f64 = 0.577_215_664_901_532_9;

/// `_average_path_length` of one count.
fn average_path_length(n: f64) -> f64 {
    if n <= 1.0 {
        0.0
    } else if n == 2.0 {
        1.0
    } else {
        2.0 * ((n - 1.0).ln() + EULER) - 2.0 * (n - 1.0) / n
    }
}

/// A fitted IsolationForest.
#[derive(Clone, Debug)]
pub struct Isolation {
    forest: Forest,
    n_features: usize,
    /// `n_trees · c(max_samples)`.
    denominator: f64,
    offset: f64,
    accepts_missing: bool,
    labels: Classes,
}

pub fn read(state: &State<'_>) -> Result<Isolation, LoadError> {
    let n_features = super::n_features(state)?;
    let estimators = state.items("estimators_")?;
    if estimators.is_empty() || estimators.len() > 100_000 {
        return Err(state.malformed("estimators_", format!("holds {} trees", estimators.len())));
    }
    let subsets = state.items("estimators_features_")?;
    if subsets.len() != estimators.len() {
        return Err(state.malformed(
            "estimators_features_",
            format!(
                "has {} entries for {} trees",
                subsets.len(),
                estimators.len()
            ),
        ));
    }
    let max_features = fitted::count(state, "_max_features", 1)?;
    if max_features > n_features {
        return Err(state.malformed(
            "_max_features",
            format!("is {max_features}, above {n_features}"),
        ));
    }
    let subsampled = max_features != n_features;
    let mut forest = Forest::new(1);
    for (i, (&tree, &subset)) in estimators.iter().zip(subsets).enumerate() {
        let name = format!("estimators_[{i}]");
        let tree_state = State::of(state.heap, tree, &state.path.join(&name))?;
        if tree_state.class != SkClass::ExtraTreeRegressor {
            return Err(state.malformed(
                &name,
                format!(
                    "is a {}, expected an ExtraTreeRegressor",
                    tree_state.class.name()
                ),
            ));
        }
        let columns = read_columns(state, subset, i, n_features, max_features)?;
        let width = if subsampled { max_features } else { n_features };
        let site = TreeSite::new(state.label(), format!("{name}.tree_"));
        let value = tree_state.get("tree_")?;
        let tree = sktree::read(state.heap, value, width, &site)?;
        let samples = node_samples(state, value, tree.raw.splits.len(), &site)?;
        let raw = path_lengths(&tree.raw, &samples, subsampled.then_some(&columns[..]));
        forest
            .push(&raw, &tree.order, tree.depth)
            .map_err(|f| site.node_error(f.node, f.field, f.problem))?;
    }
    forest.finish(state.heap.budget())?;
    let max_samples = match state.number("_max_samples")? {
        Some(n) => n,
        None => state
            .number("max_samples_")?
            .ok_or_else(|| state.malformed("max_samples_", "is missing"))?,
    };
    if !(max_samples >= 1.0 && max_samples.fract() == 0.0) {
        return Err(state.malformed("max_samples_", format!("is {max_samples}, not a count")));
    }
    Ok(Isolation {
        forest,
        n_features,
        denominator: estimators.len() as f64 * average_path_length(max_samples),
        offset: fitted::scalar(state, "offset_")?,
        accepts_missing: !state.saved_before((1, 6)),
        labels: Classes::Int(vec![-1, 1]),
    })
}

/// The model's columns tree `i` reads, `max_features` distinct ones.
fn read_columns(
    state: &State<'_>,
    subset: crate::model::value::Value,
    i: usize,
    n_features: usize,
    max_features: usize,
) -> Result<Vec<usize>, LoadError> {
    let name = format!("estimators_features_[{i}]");
    let values = crate::model::state::numbers_of(state.heap, subset)
        .map(|(v, _)| v)
        .ok_or_else(|| state.malformed(&name, "is not an array of columns"))?;
    let mut seen = vec![false; n_features];
    let mut columns = Vec::with_capacity(values.len());
    for v in values {
        let column = (v >= 0.0 && v.fract() == 0.0 && (v as usize) < n_features)
            .then_some(v as usize)
            .filter(|&c| !std::mem::replace(&mut seen[c], true))
            .ok_or_else(|| state.malformed(&name, format!("holds {v}, not a distinct column")))?;
        columns.push(column);
    }
    if columns.len() != max_features {
        return Err(state.malformed(
            &name,
            format!("names {} columns, not {max_features}", columns.len()),
        ));
    }
    Ok(columns)
}

/// `n_node_samples` of the tree at `value`, one non-negative count per node.
fn node_samples(
    state: &State<'_>,
    value: crate::model::value::Value,
    n: usize,
    site: &TreeSite,
) -> Result<Vec<f64>, LoadError> {
    let nodes = match state.heap.node(value) {
        Some(Node::Object(object)) => object
            .state
            .and_then(|s| state.heap.str_dict(s))
            .and_then(|d| d.into_iter().rev().find(|(k, _)| *k == "nodes"))
            .and_then(|(_, v)| state.heap.array(v)),
        _ => None,
    }
    .ok_or_else(|| site.error("has no nodes array"))?;
    let counts: Vec<f64> = match nodes.field("n_node_samples") {
        Some(Elements::Int(v)) => v.into_iter().map(|c| c as f64).collect(),
        Some(Elements::UInt(v)) => v.into_iter().map(|c| c as f64).collect(),
        _ => return Err(site.error("nodes.n_node_samples is not an integer field")),
    };
    if counts.len() != n {
        return Err(site.error("nodes.n_node_samples has the wrong length"));
    }
    if let Some(i) = counts.iter().position(|&c| c < 0.0) {
        return Err(site.node_error(i, "n_node_samples", format!("is {}", counts[i])));
    }
    Ok(counts)
}

/// The tree with each leaf holding `(nodes on its path + c(n_node_samples)) − 1` and its
/// splits reading the model's columns.
fn path_lengths(tree: &RawTree, samples: &[f64], columns: Option<&[usize]>) -> RawTree {
    let n = tree.splits.len();
    // Nodes on the path from the root, root included: scikit-learn's decision path length.
    let mut on_path = vec![0usize; n];
    let mut stack = vec![(0usize, 1usize)];
    while let Some((node, length)) = stack.pop() {
        on_path[node] = length;
        if let Some((_, left, right)) = &tree.splits[node] {
            stack.push((*left, length + 1));
            stack.push((*right, length + 1));
        }
    }
    let values = (0..n)
        .map(|i| (on_path[i] as f64 + average_path_length(samples[i])) - 1.0)
        .collect();
    let splits = tree
        .splits
        .iter()
        .map(|split| {
            split.clone().map(|(s, left, right)| {
                let s = match (s, columns) {
                    (
                        Split::Numeric {
                            feature,
                            threshold,
                            missing_left,
                        },
                        Some(columns),
                    ) => Split::Numeric {
                        feature: columns[feature],
                        threshold,
                        missing_left,
                    },
                    (s, _) => s,
                };
                (s, left, right)
            })
        })
        .collect();
    RawTree {
        splits,
        cover: tree.cover.clone(),
        values,
        width: 1,
    }
}

impl Isolation {
    /// `score_samples` of each row.
    fn scores(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let rows = f32_rows(x);
        let values = self.forest.values();
        let mut out = Array2::zeros((x.nrows(), 1));
        self.forest
            .for_each_row(&rows, self.n_features, |r, leaves| {
                let depths = leaves.iter().fold(0.0, |sum, &at| sum + values[at]);
                let ratio = if self.denominator != 0.0 {
                    depths / self.denominator
                } else {
                    1.0
                };
                out[[r, 0]] = -(2f64.powf(-ratio));
            });
        out
    }
}

impl Predictor for Isolation {
    fn class(&self) -> &'static str {
        "IsolationForest"
    }

    fn n_features_in(&self) -> usize {
        self.n_features
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

    fn accepts_missing(&self) -> bool {
        self.accepts_missing
    }

    fn float32_input(&self) -> bool {
        true
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
            "class": "IsolationForest",
            "n_features_in": self.n_features,
            "n_estimators": self.forest.n_trees(),
            "n_nodes": self.forest.n_nodes(),
            "max_depth": self.forest.max_depth(),
            "offset": self.offset,
            "labels": [-1, 1],
        })
    }
}
