//! A LightGBM model read from its text and checked: the header (classes, trees per iteration,
//! features, objective), and every tree laid out in the tree engine.
//!
//! A LightGBM node reads its feature as its missing type says (`Tree::NumericalDecision`):
//! with `None` a missing value is 0; with `Zero` a zero (or missing) value goes the default
//! way; with `NaN` a missing value goes the default way. The engine has one missing-value
//! rule, so each (feature, missing type) a model's splits use becomes a lane of the row the
//! trees read, made from the client's row once ([`Lane`]); a categorical split reads its
//! feature as it is. A value within `kZeroThreshold` (1e-35) of zero is 0 before anything,
//! as LightGBM's dense rows make it.
//!
//! Every child, feature, category set and linear leaf is checked against the model; every
//! count the text states (leaves, categories, trees) is checked against what it holds.
//!
//! What must not live here: cutting the text (`text`), the objective's arithmetic.

use std::collections::HashMap;

use super::objective::{Objective, Task};
use super::text::{ModelText, TreeText, count, numbers};
use crate::model::tree::nodes::{
    Forest, LAID_OUT_BYTES_PER_NODE, MAX_FEATURES, RawTree, SetRule, Split, check,
};
use crate::model::{Budget, TooLarge};

/// Leaves a tree may have: real ones have hundreds.
const MAX_LEAVES: usize = 1 << 20;
/// Classes (or trees per iteration) a model may have.
const MAX_OUTPUTS: usize = 1 << 16;

/// What reading one leaf of a tree copies until the tree is laid out: its value, weight and
/// count, and its split's feature, threshold, gain, decision type, children, value, weight
/// and count, as numbers.
const READ_BYTES_PER_LEAF: usize = 13 * 8;

/// Why a booster is not read.
#[derive(Debug)]
pub enum Fault {
    /// The text is not a model LightGBM would have written.
    Malformed(String),
    /// The model needs more memory than the loading budget has left.
    TooLarge(TooLarge),
}

impl From<String> for Fault {
    fn from(why: String) -> Self {
        Fault::Malformed(why)
    }
}

impl From<&str> for Fault {
    fn from(why: &str) -> Self {
        Fault::Malformed(why.to_owned())
    }
}

impl From<TooLarge> for Fault {
    fn from(too_large: TooLarge) -> Self {
        Fault::TooLarge(too_large)
    }
}

/// `kZeroThreshold`: the float 1e-35, as a double.
pub const ZERO_THRESHOLD: f64 = 1e-35f32 as f64;

/// How a lane reads its feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Read {
    /// As it is (a categorical split, or missing type `NaN`).
    AsIs,
    /// A missing value is 0 (missing type `None`).
    MissingAsZero,
    /// A zero is missing (missing type `Zero`).
    ZeroAsMissing,
}

/// One value of the row the trees read: a client's feature, read one way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Lane {
    pub feature: usize,
    pub read: Read,
}

/// A linear leaf (`linear_tree`): a constant and coefficients of the client's features.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearLeaf {
    pub constant: f64,
    pub features: Vec<usize>,
    pub coefficients: Vec<f64>,
}

#[derive(Debug)]
pub struct Booster {
    /// `v3`, `v4`.
    pub version: String,
    pub n_features: usize,
    pub feature_names: Vec<String>,
    /// Features trained as categorical (`feature_infos` lists their categories).
    pub categorical: Vec<bool>,
    pub objective: Objective,
    pub n_classes: usize,
    /// Trees per iteration: one raw score each.
    pub k: usize,
    pub forest: Forest,
    pub lanes: Vec<Lane>,
    /// For each leaf (by its offset in [`Forest::values`]), its linear model, if linear;
    /// empty when no leaf is.
    pub linear: Vec<Option<LinearLeaf>>,
    /// Random forest mode: raw scores are the mean over iterations.
    pub average_output: bool,
    /// Iterations predicted with, and iterations the text holds.
    pub iterations: (usize, usize),
    pub pandas_categorical: Option<serde_json::Value>,
}

/// The booster `model` describes, predicting with its first `iterations` (all when `None`).
pub fn read(
    model: &ModelText<'_>,
    iterations: Option<usize>,
    budget: &Budget,
) -> Result<Booster, Fault> {
    let header = &model.header;
    let version = header.get("version").copied().unwrap_or("");
    if !matches!(version, "v2" | "v3" | "v4") {
        return Err(
            format!("version is {version:?}, not a LightGBM model version (v2 to v4)").into(),
        );
    }
    let n_classes = count(header.get("num_class").copied(), "num_class", MAX_OUTPUTS)?.max(1);
    let k = match header.get("num_tree_per_iteration") {
        Some(text) => count(Some(text), "num_tree_per_iteration", MAX_OUTPUTS)?,
        None => n_classes,
    };
    if k == 0 {
        return Err("num_tree_per_iteration is 0".into());
    }
    let n_features = count(
        header.get("max_feature_idx").copied(),
        "max_feature_idx",
        MAX_FEATURES - 1,
    )? + 1;
    let feature_names: Vec<String> = header
        .get("feature_names")
        .ok_or("feature_names is missing")?
        .split(' ')
        .map(str::to_owned)
        .collect();
    if feature_names.len() != n_features {
        return Err(format!(
            "feature_names holds {} names for {n_features} features",
            feature_names.len()
        )
        .into());
    }
    let infos: Vec<&str> = header
        .get("feature_infos")
        .ok_or("feature_infos is missing")?
        .split(' ')
        .collect();
    if infos.len() != n_features {
        return Err(format!(
            "feature_infos holds {} entries for {n_features} features",
            infos.len()
        )
        .into());
    }
    let categorical = infos
        .iter()
        .map(|i| !i.starts_with('[') && *i != "none")
        .collect();
    let objective = Objective::parse(header.get("objective").copied())?;
    let consistent = match objective.task {
        Task::Binary => n_classes == 1 && k == 1,
        Task::Multiclass => n_classes >= 2 && k == n_classes,
        Task::Regression | Task::Ranking => k == 1,
    };
    if !consistent {
        return Err(format!(
            "num_class is {n_classes} and num_tree_per_iteration {k}, which the objective {} \
             does not have",
            objective.text
        )
        .into());
    }
    let n_trees = model.trees.len();
    if let Some(sizes) = header.get("tree_sizes") {
        let stated = sizes.split_ascii_whitespace().count();
        if stated != n_trees {
            return Err(
                format!("tree_sizes lists {stated} trees, but the model holds {n_trees}").into(),
            );
        }
    }
    if !n_trees.is_multiple_of(k) {
        return Err(format!(
            "the model holds {n_trees} trees, not a whole number of iterations of {k}"
        )
        .into());
    }
    let rounds = n_trees / k;
    let used = match iterations {
        Some(n) if n > 0 => n.min(rounds),
        _ => rounds,
    };
    let mut builder = Builder {
        forest: Forest::new(1),
        lanes: Vec::new(),
        lane_of: HashMap::new(),
        linear: Vec::new(),
        n_features,
    };
    for (t, tree) in model.trees[..used * k].iter().enumerate() {
        // A tree is charged for its leaves before anything is made of them: what it keeps
        // laid out (2 leaves - 1 nodes and a value each), and what reading it copies.
        let leaves = count(tree.get("num_leaves"), "num_leaves", MAX_LEAVES)
            .map_err(|e| format!("Tree={t}: {e}"))?;
        let what = || format!("Tree={t} of {leaves} leaves");
        budget.charge_items(
            leaves.saturating_mul(2),
            LAID_OUT_BYTES_PER_NODE.saturating_add(8),
            what,
        )?;
        let _reading = budget.hold_items(leaves, READ_BYTES_PER_LEAF, what)?;
        builder.add(tree).map_err(|e| format!("Tree={t}: {e}"))?;
    }
    builder.forest.finish(budget)?;
    let pandas_categorical = match model.pandas_categorical {
        None | Some("null") => None,
        Some(json) => Some(
            serde_json::from_str(json)
                .map_err(|e| format!("pandas_categorical is not JSON ({e})"))?,
        ),
    };
    Ok(Booster {
        version: version.to_owned(),
        n_features,
        feature_names,
        categorical,
        objective,
        n_classes,
        k,
        forest: builder.forest,
        lanes: builder.lanes,
        // Kept only when some leaf is linear: a prediction then need not look at every leaf.
        linear: if builder.linear.iter().any(Option::is_some) {
            builder.linear
        } else {
            Vec::new()
        },
        average_output: header.contains_key("average_output"),
        iterations: (used, rounds),
        pandas_categorical,
    })
}

struct Builder {
    forest: Forest,
    lanes: Vec<Lane>,
    lane_of: HashMap<Lane, usize>,
    linear: Vec<Option<LinearLeaf>>,
    n_features: usize,
}

impl Builder {
    fn lane(&mut self, lane: Lane) -> usize {
        *self.lane_of.entry(lane).or_insert_with(|| {
            self.lanes.push(lane);
            self.lanes.len() - 1
        })
    }

    fn add(&mut self, tree: &TreeText<'_>) -> Result<(), String> {
        let leaves = count(tree.get("num_leaves"), "num_leaves", MAX_LEAVES)?;
        if leaves == 0 {
            return Err("num_leaves is 0".into());
        }
        let n_cat = count(tree.get("num_cat"), "num_cat", MAX_LEAVES)?;
        let leaf_value: Vec<f64> = numbers(tree.get("leaf_value"), "leaf_value", leaves)?;
        if let Some(i) = leaf_value.iter().position(|v| !v.is_finite()) {
            return Err(format!(
                "leaf_value[{i}] is {}, not a finite value",
                leaf_value[i]
            ));
        }
        let linear = match tree.get("is_linear") {
            None | Some("0") => false,
            Some("1") => true,
            Some(other) => return Err(format!("is_linear is {other:?}, not 0 or 1")),
        };
        let splits = leaves - 1;
        let optional = |field: &str, len: usize| -> Result<Vec<f64>, String> {
            match tree.get(field) {
                Some(text) => numbers(Some(text), field, len),
                None => Ok(vec![0.0; len]),
            }
        };
        let leaf_count = optional("leaf_count", leaves)?;
        let mut raw = RawTree {
            splits: Vec::with_capacity(leaves + splits),
            cover: Vec::with_capacity(leaves + splits),
            values: vec![0.0; splits],
            width: 1,
        };
        if splits > 0 {
            let feature: Vec<i64> = numbers(tree.get("split_feature"), "split_feature", splits)?;
            let threshold: Vec<f64> = numbers(tree.get("threshold"), "threshold", splits)?;
            let decision: Vec<i64> = numbers(tree.get("decision_type"), "decision_type", splits)?;
            let left: Vec<i64> = numbers(tree.get("left_child"), "left_child", splits)?;
            let right: Vec<i64> = numbers(tree.get("right_child"), "right_child", splits)?;
            raw.cover = optional("internal_count", splits)?;
            let (boundaries, words): (Vec<i64>, Vec<u32>) = if n_cat > 0 {
                let b = numbers(tree.get("cat_boundaries"), "cat_boundaries", n_cat + 1)?;
                let n_words = tree
                    .get("cat_threshold")
                    .map_or(0, |t| t.split_ascii_whitespace().count());
                (
                    b,
                    numbers(tree.get("cat_threshold"), "cat_threshold", n_words)?,
                )
            } else {
                (Vec::new(), Vec::new())
            };
            // A child below 0 is leaf `!child`, laid after the splits.
            let child = |c: i64, node: usize, field: &str| -> Result<usize, String> {
                let index = if c >= 0 {
                    c as u64
                } else {
                    splits as u64 + !c as u64
                };
                let bound = if c >= 0 { splits } else { leaves };
                let own = if c >= 0 { c as u64 } else { !c as u64 };
                if own >= bound as u64 {
                    return Err(format!(
                        "node {node}: {field} is {c}, beyond the tree's {splits} splits and {leaves} leaves"
                    ));
                }
                Ok(index as usize)
            };
            for i in 0..splits {
                let f = usize::try_from(feature[i])
                    .ok()
                    .filter(|&f| f < self.n_features)
                    .ok_or_else(|| {
                        format!(
                            "node {i}: split_feature is {}, not one of the model's {} features",
                            feature[i], self.n_features
                        )
                    })?;
                let d = decision[i];
                if !(0..16).contains(&d) || d >> 2 == 3 {
                    return Err(format!(
                        "node {i}: decision_type is {d}, not a decision type"
                    ));
                }
                let default_left = d & 2 != 0;
                let split = if d & 1 != 0 {
                    let set = self
                        .category_set(threshold[i], &boundaries, &words)
                        .map_err(|e| format!("node {i}: {e}"))?;
                    Split::CategorySet {
                        feature: self.lane(Lane {
                            feature: f,
                            read: Read::AsIs,
                        }),
                        set,
                        missing_left: false,
                    }
                } else {
                    if threshold[i].is_nan() {
                        return Err(format!("node {i}: threshold is NaN, not a threshold"));
                    }
                    let read = match d >> 2 {
                        0 => Read::MissingAsZero,
                        1 => Read::ZeroAsMissing,
                        _ => Read::AsIs,
                    };
                    Split::Numeric {
                        feature: self.lane(Lane { feature: f, read }),
                        threshold: threshold[i],
                        missing_left: default_left && read != Read::MissingAsZero,
                    }
                };
                raw.splits.push(Some((
                    split,
                    child(left[i], i, "left_child")?,
                    child(right[i], i, "right_child")?,
                )));
            }
        }
        raw.splits.extend(std::iter::repeat_n(None, leaves));
        raw.cover.extend(&leaf_count);
        raw.values.extend(&leaf_value);
        let (order, depth) = check(&raw).map_err(|f| {
            if f.node < splits {
                format!("node {}: {} {}", f.node, f.field, f.problem)
            } else {
                format!("leaf {}: {}", f.node - splits, f.problem)
            }
        })?;
        let leaf_linear = if linear {
            Some(self.linear_leaves(tree, leaves)?)
        } else {
            None
        };
        let first_value = self.forest.values().len();
        self.forest
            .push(&raw, &order, depth)
            .map_err(|f| format!("node {}: {} {}", f.node, f.field, f.problem))?;
        // The forest lays leaves out in pre-order: find each leaf's offset by its value's
        // position among this tree's nodes.
        let mut offsets = Vec::with_capacity(leaves);
        let mut at = first_value;
        for &node in &order {
            if node >= splits {
                offsets.push((node - splits, at));
                at += 1;
            }
        }
        self.linear.resize(at, None);
        if let Some(mut leaf_linear) = leaf_linear {
            for (leaf, offset) in offsets {
                self.linear[offset] = leaf_linear[leaf].take();
            }
        }
        Ok(())
    }

    /// The set of categorical split `cat_idx` (its threshold) from `cat_boundaries` and
    /// `cat_threshold`.
    fn category_set(
        &mut self,
        cat_idx: f64,
        boundaries: &[i64],
        words: &[u32],
    ) -> Result<usize, String> {
        let n_sets = boundaries.len().saturating_sub(1);
        if cat_idx.fract() != 0.0 || !(0.0..n_sets as f64).contains(&cat_idx) {
            return Err(format!(
                "threshold is {cat_idx}, not one of the tree's {n_sets} category sets"
            ));
        }
        let i = cat_idx as usize;
        let (start, end) = (boundaries[i], boundaries[i + 1]);
        if start < 0 || end < start || end as usize > words.len() {
            return Err(format!(
                "cat_boundaries[{i}..{}] is {start}..{end}, beyond the {} words of cat_threshold",
                i + 1,
                words.len()
            ));
        }
        Ok(self
            .forest
            .category_sets
            .push_words(&words[start as usize..end as usize], SetRule::Lightgbm))
    }

    /// Each leaf's linear model (`leaf_const`, `num_features`, `leaf_features`, `leaf_coeff`).
    fn linear_leaves(
        &self,
        tree: &TreeText<'_>,
        leaves: usize,
    ) -> Result<Vec<Option<LinearLeaf>>, String> {
        let constants: Vec<f64> = numbers(tree.get("leaf_const"), "leaf_const", leaves)?;
        let counts: Vec<usize> = numbers(tree.get("num_features"), "num_features", leaves)?;
        let total = counts
            .iter()
            .try_fold(0usize, |a, &c| {
                a.checked_add(c).filter(|&t| t <= self.n_features * leaves)
            })
            .ok_or("num_features adds up to more features than the leaves have")?;
        let features: Vec<i64> = numbers(tree.get("leaf_features"), "leaf_features", total)?;
        let coefficients: Vec<f64> = numbers(tree.get("leaf_coeff"), "leaf_coeff", total)?;
        let mut out = Vec::with_capacity(leaves);
        let mut at = 0;
        for (leaf, (&constant, &n)) in constants.iter().zip(&counts).enumerate() {
            let own_features = features[at..at + n]
                .iter()
                .map(|&f| usize::try_from(f).ok().filter(|&f| f < self.n_features))
                .collect::<Option<Vec<usize>>>()
                .ok_or_else(|| {
                    format!(
                        "leaf {leaf}: leaf_features names a feature beyond the model's {}",
                        self.n_features
                    )
                })?;
            let own = coefficients[at..at + n].to_vec();
            if !constant.is_finite() || own.iter().any(|c| !c.is_finite()) {
                return Err(format!(
                    "leaf {leaf}: leaf_const or leaf_coeff is not finite"
                ));
            }
            out.push(Some(LinearLeaf {
                constant,
                features: own_features,
                coefficients: own,
            }));
            at += n;
        }
        Ok(out)
    }
}
