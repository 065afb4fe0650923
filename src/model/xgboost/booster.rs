//! An XGBoost model read from its document and checked: the objective and its intercept as a
//! margin, the outputs, the features (names, types, trained categories), and the booster:
//! trees laid out in the tree engine (`trees`) or `gblinear`'s weights. Only the iterations a
//! prediction uses are laid out (the wrapper's `best_iteration`, when the caller gives one).
//!
//! Every count the document states (trees, nodes, outputs, features, iterations) is bounded
//! and checked against what the document holds; a count that lies is refused by name.
//!
//! What must not live here: how predictions are shaped for scikit-learn (`predictor`).

use std::collections::BTreeMap;

use super::document::{self, Cats, Document, Gblinear, Gbtree, parse_f32};
use super::objective::{Objective, SERVED, Task};
use super::trees::{self, count};
use crate::model::category_codes::Categories;
use crate::model::tree::nodes::{Forest, MAX_FEATURES};
use crate::model::{Budget, TooLarge};

/// Trees a model may hold: real ones hold thousands.
const MAX_TREES: usize = 1 << 20;
/// Outputs (classes or targets) a model may have.
const MAX_OUTPUTS: usize = 1 << 16;

/// Why a document cannot be served: malformed (with where and what), or unsupported.
#[derive(Debug)]
pub enum Fault {
    Malformed(String),
    Unsupported(String),
    /// The model needs more memory than the loading budget has left.
    TooLarge(TooLarge),
}

/// What the document does not say but a prediction needs: from the scikit-learn wrapper, or
/// its defaults for a file.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// How many iterations to predict with (`best_iteration + 1`); `None` for all.
    pub iterations: Option<usize>,
}

/// A feature as XGBoost's `feature_types` name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeatureType {
    Numeric,
    Categorical,
}

/// The booster's own part.
#[derive(Debug)]
// One per model: its size does not matter, and boxing the forest would cost a pointer chase.
#[allow(clippy::large_enum_variant)]
pub enum Engine {
    /// Trees: each adds its leaf's value to the output `groups[t]` (`tree_info`), or, when
    /// `groups` is `None`, its leaf's `k` values to the `k` outputs.
    Trees {
        forest: Forest,
        /// The forest's leaf values as float32, indexed as [`Forest::values`].
        leaf_values: Vec<f32>,
        groups: Option<Vec<u32>>,
    },
    /// `gblinear`: `n_features × k` weights, then `k` biases.
    Linear { weights: Vec<f32> },
}

#[derive(Debug)]
pub struct Booster {
    /// `(major, minor)` of the XGBoost that saved it.
    pub version: (u32, u32),
    pub n_features: usize,
    pub objective: Objective,
    /// Outputs per row: classes of `multi:*`, targets, or 1.
    pub k: usize,
    /// Each output's starting margin.
    pub base_margin: Vec<f32>,
    pub feature_names: Option<Vec<String>>,
    pub feature_types: Vec<FeatureType>,
    /// Each feature's training categories, where the model keeps them (3.1 and later).
    pub categories: Vec<Option<Categories>>,
    pub attributes: BTreeMap<String, String>,
    pub engine: Engine,
    /// Iterations predicted with, and iterations the document holds.
    pub iterations: (usize, usize),
}

/// The booster `doc` describes, laid out for prediction.
pub fn read(doc: Document, settings: Settings, budget: &Budget) -> Result<Booster, Fault> {
    let malformed = Fault::Malformed;
    let version = match doc.version.as_slice() {
        [major, minor, ..] => (*major, *minor),
        _ => (1, 0),
    };
    let learner = doc.learner;
    let name = learner.objective["name"]
        .as_str()
        .ok_or_else(|| malformed("objective has no name".into()))?;
    let objective = Objective::parse(name).ok_or_else(|| {
        Fault::Unsupported(format!(
            "the objective {name} is not one skserve serves (it serves {SERVED})"
        ))
    })?;
    let param = &learner.learner_model_param;
    let n_features = count(
        &param.num_feature,
        "learner_model_param.num_feature",
        MAX_FEATURES,
    )
    .map_err(malformed)?;
    if n_features == 0 {
        return Err(malformed("learner_model_param.num_feature is 0".into()));
    }
    let num = |field: &Option<String>, what: &str| match field {
        Some(text) => count(text, what, MAX_OUTPUTS).map_err(malformed),
        None => Ok(0),
    };
    let n_classes = num(&param.num_class, "learner_model_param.num_class")?;
    let n_targets = num(&param.num_target, "learner_model_param.num_target")?;
    let k = n_classes.max(n_targets).max(1);
    match objective.task {
        Task::Multiclass if n_classes < 2 || n_targets > 1 => {
            return Err(malformed(format!(
                "learner_model_param.num_class is {n_classes} for {objective}, which needs 2 or more"
            )));
        }
        Task::Binary if n_classes > 1 => {
            return Err(malformed(format!(
                "learner_model_param.num_class is {n_classes} for {objective}"
            )));
        }
        Task::Binary if n_targets > 1 => {
            return Err(Fault::Unsupported(format!(
                "{objective} with {n_targets} targets (multi-label classification) is not served"
            )));
        }
        _ => {}
    }
    let base_margin = base_margin(&param.base_score, k, &objective, version)?;
    let feature_names = match learner.feature_names.len() {
        0 => None,
        n if n == n_features => Some(learner.feature_names),
        n => {
            return Err(malformed(format!(
                "feature_names holds {n} names for {n_features} features"
            )));
        }
    };
    let feature_types = feature_types(&learner.feature_types, n_features)?;
    let booster = &learner.gradient_booster;
    let model_text = |what: &str| {
        booster
            .model
            .as_ref()
            .map(|m| m.get())
            .ok_or_else(|| malformed(format!("the {what} booster has no model")))
    };
    let mut categories = vec![None; n_features];
    let (engine, iterations) = match booster.name.as_str() {
        "gbtree" => {
            let gbtree: Gbtree = document::parse(model_text("gbtree")?).map_err(|e| {
                malformed(format!("gradient_booster.model is not a gbtree model: {e}"))
            })?;
            if let Some(cats) = &gbtree.cats {
                categories = read_categories(cats, &feature_types)?;
            }
            read_trees(&gbtree, n_features, k, settings, budget)?
        }
        "gblinear" => {
            let linear: Gblinear = document::parse(model_text("gblinear")?).map_err(|e| {
                malformed(format!(
                    "gradient_booster.model is not a gblinear model: {e}"
                ))
            })?;
            let expected = (n_features + 1) * k;
            if linear.weights.len() != expected {
                return Err(malformed(format!(
                    "gradient_booster.model.weights holds {} values, expected {expected} \
                     ({n_features} features and a bias, for {k} outputs)",
                    linear.weights.len()
                )));
            }
            if let Some(i) = linear.weights.iter().position(|w| !w.0.is_finite()) {
                return Err(malformed(format!(
                    "gradient_booster.model.weights[{i}] is {}, not a finite weight",
                    linear.weights[i].0
                )));
            }
            let weights = linear.weights.iter().map(|w| w.0).collect();
            (Engine::Linear { weights }, (1, 1))
        }
        "dart" => {
            return Err(Fault::Unsupported(
                "DART boosters are not served (their trees are weighted by weight_drop)".into(),
            ));
        }
        other => return Err(malformed(format!("gradient_booster.name is {other:?}"))),
    };
    Ok(Booster {
        version,
        n_features,
        objective,
        k,
        base_margin,
        feature_names,
        feature_types,
        categories,
        attributes: learner.attributes,
        engine,
        iterations,
    })
}

/// `base_score` as margins, one per output: a float (`5E-1`) or, from 3.1, a list of one or
/// `k` (`[5E-1]`).
fn base_margin(
    text: &str,
    k: usize,
    objective: &Objective,
    version: (u32, u32),
) -> Result<Vec<f32>, Fault> {
    let inner = text
        .trim()
        .trim_start_matches(['[', '('])
        .trim_end_matches([']', ')']);
    let scores: Option<Vec<f32>> = inner.split(',').map(|v| parse_f32(v.trim())).collect();
    let bad = || {
        Fault::Malformed(format!(
            "learner_model_param.base_score is {text:?}, not 1 or {k} finite numbers"
        ))
    };
    let scores = scores
        .filter(|s| s.iter().all(|v| v.is_finite()))
        .ok_or_else(bad)?;
    let scores = match scores.len() {
        1 => vec![scores[0]; k],
        n if n == k => scores,
        _ => return Err(bad()),
    };
    let margins: Vec<f32> = scores
        .iter()
        .map(|&s| objective.prob_to_margin(s, version))
        .collect();
    if margins.iter().any(|m| !m.is_finite()) {
        return Err(Fault::Malformed(format!(
            "learner_model_param.base_score is {text:?}, outside what {objective} takes"
        )));
    }
    Ok(margins)
}

fn feature_types(types: &[String], n_features: usize) -> Result<Vec<FeatureType>, Fault> {
    if types.is_empty() {
        return Ok(vec![FeatureType::Numeric; n_features]);
    }
    if types.len() != n_features {
        return Err(Fault::Malformed(format!(
            "feature_types holds {} types for {n_features} features",
            types.len()
        )));
    }
    types
        .iter()
        .map(|t| match t.as_str() {
            "c" => Ok(FeatureType::Categorical),
            "float" | "int" | "i" | "q" => Ok(FeatureType::Numeric),
            other => Err(Fault::Malformed(format!(
                "feature_types holds {other:?}, not a feature type"
            ))),
        })
        .collect()
}

/// Each categorical feature's categories from `cats` (3.1 and later): strings as UTF-8 bytes
/// cut at `offsets`, or numbers; a numeric feature has none.
fn read_categories(cats: &Cats, types: &[FeatureType]) -> Result<Vec<Option<Categories>>, Fault> {
    let n = types.len();
    if cats.enc.is_empty() {
        return Ok(vec![None; n]);
    }
    if cats.enc.len() != n {
        return Err(Fault::Malformed(format!(
            "cats.enc holds {} entries for {n} features",
            cats.enc.len()
        )));
    }
    let mut out = Vec::with_capacity(n);
    for (f, column) in cats.enc.iter().enumerate() {
        let bad = |problem: &str| Fault::Malformed(format!("cats.enc[{f}] {problem}"));
        let values = column.values.as_ref().map_or("[]", |v| v.get());
        let categories = match &column.offsets {
            Some(offsets) => {
                let bytes: Vec<i64> =
                    document::parse(values).map_err(|_| bad("holds values that are not bytes"))?;
                let bytes: Vec<u8> = bytes.iter().map(|&b| b as u8).collect();
                let mut names = Vec::with_capacity(offsets.len().saturating_sub(1));
                for pair in offsets.windows(2) {
                    let (start, end) = (pair[0], pair[1]);
                    let range = usize::try_from(start)
                        .ok()
                        .zip(usize::try_from(end).ok())
                        .filter(|&(s, e)| s <= e && e <= bytes.len())
                        .ok_or_else(|| bad("has offsets beyond its values"))?;
                    let name = std::str::from_utf8(&bytes[range.0..range.1])
                        .map_err(|_| bad("holds a category that is not UTF-8"))?;
                    names.push(name.to_owned());
                }
                Categories::Names(names)
            }
            None => {
                let numbers: Vec<f64> = document::parse(values)
                    .map_err(|_| bad("holds values that are not numbers"))?;
                Categories::Numbers(numbers)
            }
        };
        let empty = match &categories {
            Categories::Names(v) => v.is_empty(),
            Categories::Numbers(v) => v.is_empty(),
        };
        match (types[f], empty) {
            (FeatureType::Categorical, false) => out.push(Some(categories)),
            (FeatureType::Numeric, true) => out.push(None),
            // A categorical feature whose categories were not recorded is read by its codes.
            (FeatureType::Categorical, true) => out.push(None),
            (FeatureType::Numeric, false) => {
                return Err(bad("holds categories of a numeric feature"));
            }
        }
    }
    Ok(out)
}

/// The trees of the first `settings.iterations` iterations, laid out; and the iterations
/// used and held.
fn read_trees(
    gbtree: &Gbtree,
    n_features: usize,
    k: usize,
    settings: Settings,
    budget: &Budget,
) -> Result<(Engine, (usize, usize)), Fault> {
    let malformed = Fault::Malformed;
    let n_trees = count(
        &gbtree.gbtree_model_param.num_trees,
        "gbtree_model_param.num_trees",
        MAX_TREES,
    )
    .map_err(malformed)?;
    if gbtree.trees.len() != n_trees || gbtree.tree_info.len() != n_trees {
        return Err(malformed(format!(
            "gbtree_model_param.num_trees is {n_trees}, but the model holds {} trees and {} \
             tree_info entries",
            gbtree.trees.len(),
            gbtree.tree_info.len()
        )));
    }
    let parallel = match &gbtree.gbtree_model_param.num_parallel_tree {
        Some(text) => count(text, "gbtree_model_param.num_parallel_tree", MAX_TREES)
            .map_err(malformed)?
            .max(1),
        None => 1,
    };
    // Every tree holds one output's value, or all `k` outputs' (multi_output_tree).
    let width_of = |tree: &document::Tree| -> Result<usize, Fault> {
        let text = tree.tree_param.size_leaf_vector.as_deref().unwrap_or("0");
        let size = count(text, "tree_param.size_leaf_vector", MAX_OUTPUTS).map_err(malformed)?;
        Ok(size.max(1))
    };
    let width = match gbtree.trees.first() {
        Some(tree) => width_of(tree)?,
        None => 1,
    };
    if width != 1 && width != k {
        return Err(malformed(format!(
            "trees[0].tree_param.size_leaf_vector is {width}, but the model has {k} outputs"
        )));
    }
    let indptr = iteration_indptr(gbtree, n_trees, if width == 1 { k } else { 1 } * parallel)?;
    let rounds = indptr.len() - 1;
    let used = match settings.iterations {
        Some(n) if n > rounds => {
            return Err(malformed(format!(
                "best_iteration is {}, but the model holds {rounds} iterations",
                n - 1
            )));
        }
        Some(n) => n,
        None => rounds,
    };
    let mut forest = Forest::new(width);
    let mut groups = Vec::with_capacity(indptr[used]);
    for (t, tree) in gbtree.trees[..indptr[used]].iter().enumerate() {
        if tree.id.is_some_and(|id| id != t as i64) {
            return Err(malformed(format!(
                "trees[{t}].id is {:?}, expected {t}",
                tree.id
            )));
        }
        if width_of(tree)? != width {
            return Err(malformed(format!(
                "trees[{t}].tree_param.size_leaf_vector differs from the first tree's ({width})"
            )));
        }
        let group = gbtree.tree_info[t];
        let groups_allowed = if width == 1 { k } else { 1 };
        match u32::try_from(group) {
            Ok(g) if (g as usize) < groups_allowed => groups.push(g),
            _ => {
                return Err(malformed(format!(
                    "tree_info[{t}] is {group}, not one of the model's {groups_allowed} outputs"
                )));
            }
        }
        trees::add(&mut forest, tree, t, n_features).map_err(malformed)?;
    }
    forest.finish(budget).map_err(Fault::TooLarge)?;
    let leaf_values = forest.values().iter().map(|&v| v as f32).collect();
    let engine = Engine::Trees {
        forest,
        leaf_values,
        groups: (width == 1).then_some(groups),
    };
    Ok((engine, (used, rounds)))
}

/// Where each iteration's trees start: `iteration_indptr` (2.0 and later), checked, or made
/// from `per_iteration` trees an iteration.
fn iteration_indptr(
    gbtree: &Gbtree,
    n_trees: usize,
    per_iteration: usize,
) -> Result<Vec<usize>, Fault> {
    let Some(stored) = &gbtree.iteration_indptr else {
        if !n_trees.is_multiple_of(per_iteration) {
            return Err(Fault::Malformed(format!(
                "gbtree_model_param.num_trees is {n_trees}, not a whole number of iterations of \
                 {per_iteration} trees"
            )));
        }
        return Ok((0..=n_trees / per_iteration)
            .map(|i| i * per_iteration)
            .collect());
    };
    let indptr: Option<Vec<usize>> = stored.iter().map(|&i| usize::try_from(i).ok()).collect();
    match indptr {
        Some(indptr)
            if indptr.first() == Some(&0)
                && indptr.last() == Some(&n_trees)
                && indptr.windows(2).all(|w| w[0] <= w[1]) =>
        {
            Ok(indptr)
        }
        _ => Err(Fault::Malformed(format!(
            "iteration_indptr does not run from 0 to the {n_trees} trees in order"
        ))),
    }
}
