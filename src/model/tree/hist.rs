//! HistGradientBoostingClassifier and HistGradientBoostingRegressor: `_baseline_prediction`
//! plus every `TreePredictor`'s leaf, iteration by iteration (one tree per class for
//! multiclass models), on the input as float64 (`x <= num_threshold`). A missing value goes
//! where its node's `missing_go_to_left` says (what training learnt, or for a feature that
//! had no missing values, the child that saw more samples); a categorical split sends the
//! categories of its bitset left, other known categories right, and missing, negative or
//! unknown ones where missing values go.
//!
//! From scikit-learn 1.4 a model with categorical features carries a `_preprocessor` (an
//! OrdinalEncoder of those columns beside the numeric ones, in a ColumnTransformer): it is
//! read through the catalog and served as the model's first step, so that clients send the
//! categories themselves. The loss decides the link: logit or softmax for classifiers,
//! identity or `exp` (Poisson, Gamma) for regressors; `predict` takes the largest
//! probability until 1.4 and `raw > 0` or the largest raw value from 1.5.

use std::borrow::Cow;

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::math::{argmax, expit, softmax};
use super::nodes::{Bitset, Forest, RawTree, Split, check};
use super::scores::RawScores;
use super::site::TreeSite;
use super::{n_features, scores, shap, single_output_classes};
use crate::model::LoadError;
use crate::model::allow::{Callable, SkClass};
use crate::model::classes::Classes;
use crate::model::compose::{Model, Step, StepReader};
use crate::model::estimator::{
    Attribution, Data, Method, Needs, Prediction, Predictor, Refusal, Target, Transformer,
};
use crate::model::state::State;
use crate::model::value::{Elements, Heap, NdArray, Node, Value};

/// How raw values become predictions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// HalfBinomialLoss: `expit`.
    Logit,
    /// HalfMultinomialLoss: softmax.
    Softmax,
    /// Squared, absolute and pinball losses.
    Identity,
    /// Poisson and Gamma: `exp`.
    Log,
}

#[derive(Debug)]
pub struct Hist {
    pub class: SkClass,
    pub n_features: usize,
    pub forest: Forest,
    /// Trees per iteration.
    pub k: usize,
    pub baseline: Vec<f64>,
    pub link: Link,
    pub loss: String,
    pub classes: Option<Classes>,
    /// `predict` by the largest probability (scikit-learn before 1.5).
    pub predict_by_proba: bool,
}

/// Trees a model may hold: real ones hold thousands at most.
const MAX_TREES: usize = 1_000_000;

pub fn read(state: &State<'_>, reader: &dyn StepReader) -> Result<Step, LoadError> {
    let n_features = n_features(state)?;
    let classifier = state.class == SkClass::HistGradientBoostingClassifier;
    let classes = if classifier {
        Some(single_output_classes(state)?)
    } else {
        None
    };
    let (loss, link) = loss_of(state, classes.as_ref())?;
    let k = match &classes {
        Some(c) if c.len() > 2 => c.len(),
        _ => 1,
    };
    if let Some(stored) = state.count("n_trees_per_iteration_")?
        && stored != k
    {
        return Err(state.malformed(
            "n_trees_per_iteration_",
            format!("is {stored}, expected {k}"),
        ));
    }
    let (baseline, _) = state.numbers("_baseline_prediction")?;
    if baseline.len() != k || baseline.iter().any(|v| !v.is_finite()) {
        return Err(state.malformed(
            "_baseline_prediction",
            format!("holds {} values, expected {k} finite ones", baseline.len()),
        ));
    }
    let mut forest = Forest::new(1);
    forest.known_categories = known_categories(state, n_features)?;
    let iterations = state.items("_predictors")?;
    if iterations.is_empty() || iterations.len() * k > MAX_TREES {
        return Err(state.malformed(
            "_predictors",
            format!("holds {} iterations", iterations.len()),
        ));
    }
    for (i, &iteration) in iterations.iter().enumerate() {
        let trees = state
            .heap
            .tuple(iteration)
            .filter(|t| t.len() == k)
            .ok_or_else(|| {
                state.malformed(
                    &format!("_predictors[{i}]"),
                    format!("is not a list of {k} TreePredictor"),
                )
            })?;
        for (j, &tree) in trees.iter().enumerate() {
            let site = TreeSite::new(state.label(), format!("_predictors[{i}][{j}]"));
            add_predictor(&mut forest, state.heap, tree, n_features, &site)?;
        }
    }
    forest.finish(state.heap.budget())?;
    let predictor = Hist {
        class: state.class,
        n_features,
        forest,
        k,
        baseline,
        link,
        loss,
        classes,
        predict_by_proba: state.saved_before((1, 5)),
    };
    let preprocessor = state.attr("_preprocessor").filter(|v| *v != Value::None);
    let transformers = match preprocessor {
        None => Vec::new(),
        Some(value) => {
            let path = state.path.join("_preprocessor");
            match reader.read(value, &path, Some(n_features))? {
                Step::Transformer(t) if t.sources().len() == n_features => {
                    let own: Box<dyn Transformer> = Box::new(OwnPreprocessor(t));
                    vec![("_preprocessor".to_owned(), own)]
                }
                _ => {
                    return Err(state.malformed(
                        "_preprocessor",
                        format!("is not a transformer of {n_features} columns"),
                    ));
                }
            }
        }
    };
    Ok(Step::Model(Model {
        transformers,
        predictor: Box::new(predictor),
        wrappers: Vec::new(),
    }))
}

/// HistGradientBoosting's own `_preprocessor`, served as the model's first step but part of
/// the estimator: it does everything its transformer does except appear in the estimator
/// chain, which names what the client fitted.
#[derive(Debug)]
struct OwnPreprocessor(Box<dyn Transformer>);

impl Transformer for OwnPreprocessor {
    fn class(&self) -> &'static str {
        self.0.class()
    }
    fn n_features_in(&self) -> usize {
        self.0.n_features_in()
    }
    fn sources(&self) -> Vec<usize> {
        self.0.sources()
    }
    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        self.0.feature_names_out(input)
    }
    fn needs(&self) -> Vec<Needs> {
        self.0.needs()
    }
    fn categories(&self, feature: usize) -> Option<Vec<String>> {
        self.0.categories(feature)
    }
    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        self.0.transform(data)
    }
    fn chain(&self) -> Vec<String> {
        Vec::new()
    }
    fn describe(&self, input: &[String]) -> serde_json::Value {
        self.0.describe(input)
    }
}

/// The loss, from the class of `_loss` (every version from 1.1 keeps one), and its link.
fn loss_of(state: &State<'_>, classes: Option<&Classes>) -> Result<(String, Link), LoadError> {
    let name = match state.attr("_loss").and_then(|v| state.heap.node(v)) {
        Some(Node::Object(o)) => match &o.class {
            Callable::Inert(name) => name.rsplit('.').next().unwrap_or("").to_owned(),
            other => other.name(),
        },
        _ => return Err(state.malformed("_loss", "is not a loss object")),
    };
    let link = match (name.as_str(), classes) {
        ("HalfBinomialLoss", Some(c)) if c.len() == 2 => Link::Logit,
        ("HalfMultinomialLoss", Some(c)) if c.len() > 2 => Link::Softmax,
        ("HalfSquaredError" | "AbsoluteError" | "PinballLoss", None) => Link::Identity,
        ("HalfPoissonLoss" | "HalfGammaLoss", None) => Link::Log,
        _ => {
            return Err(state.unsupported(format!(
                "_loss is {name}, which skserve does not serve for a {}",
                state.class.name()
            )));
        }
    };
    Ok((name, link))
}

/// For each feature, the categories its bin mapper saw in training (`bin_thresholds_` of a
/// categorical feature holds them).
fn known_categories(
    state: &State<'_>,
    n_features: usize,
) -> Result<Vec<Option<Bitset>>, LoadError> {
    let mapper = State::of(
        state.heap,
        state.get("_bin_mapper")?,
        &state.path.join("_bin_mapper"),
    )?;
    if mapper.class != SkClass::BinMapper {
        return Err(state.malformed("_bin_mapper", "is not a _BinMapper"));
    }
    let mut known = vec![None; n_features];
    let categorical = match mapper.attr("is_categorical_") {
        None | Some(Value::None) => return Ok(known),
        // A uint8 array of 0 and 1 (booleans in some versions).
        Some(v) => match state.heap.array(v).map(|a| &a.elements) {
            Some(Elements::Bool(flags)) if flags.len() == n_features => flags.clone(),
            Some(Elements::UInt(flags))
                if flags.len() == n_features && flags.iter().all(|&f| f <= 1) =>
            {
                flags.iter().map(|&f| f == 1).collect()
            }
            _ => {
                return Err(mapper.malformed(
                    "is_categorical_",
                    format!("is not {n_features} flags of 0 or 1"),
                ));
            }
        },
    };
    let thresholds = mapper.items("bin_thresholds_")?;
    if thresholds.len() != n_features {
        return Err(mapper.malformed(
            "bin_thresholds_",
            format!("has {} entries for {n_features} features", thresholds.len()),
        ));
    }
    for (f, _) in categorical.iter().enumerate().filter(|(_, c)| **c) {
        let attr = format!("bin_thresholds_[{f}]");
        let categories = state
            .heap
            .array(thresholds[f])
            .and_then(NdArray::to_f64)
            .ok_or_else(|| mapper.malformed(&attr, "is not an array of categories"))?;
        let mut bitset = [0u32; 8];
        for c in categories {
            if !(0.0..=255.0).contains(&c) || c.fract() != 0.0 {
                return Err(mapper.malformed(&attr, format!("holds {c}, not a category 0 to 255")));
            }
            let c = c as usize;
            bitset[c >> 5] |= 1 << (c & 31);
        }
        known[f] = Some(bitset);
    }
    Ok(known)
}

/// Checks one `TreePredictor` and adds it to `forest`.
fn add_predictor(
    forest: &mut Forest,
    heap: &Heap<'_>,
    value: Value,
    n_features: usize,
    site: &TreeSite,
) -> Result<(), LoadError> {
    let state = State::of(heap, value, &Default::default())
        .ok()
        .filter(|s| s.class == SkClass::TreePredictor)
        .ok_or_else(|| site.error("is not a TreePredictor"))?;
    let nodes = state
        .attr("nodes")
        .and_then(|v| heap.array(v))
        .filter(|a| a.shape.len() == 1)
        .ok_or_else(|| site.error("has no array of nodes"))?;
    let bitsets = left_bitsets(heap, state.attr("raw_left_cat_bitsets"), site)?;
    let int = |name: &str| -> Result<Vec<u64>, LoadError> {
        match nodes.field(name) {
            Some(Elements::UInt(v)) => Ok(v),
            Some(Elements::Int(v)) => Ok(v
                .into_iter()
                .map(|x| u64::try_from(x).unwrap_or(u64::MAX))
                .collect()),
            _ => Err(site.error(format!(
                "nodes has no integer field {name} (its dtype is {})",
                nodes.dtype.name()
            ))),
        }
    };
    let float = |name: &str| -> Result<Vec<f64>, LoadError> {
        match nodes.field(name) {
            Some(Elements::Float(v)) => Ok(v),
            _ => Err(site.error(format!("nodes has no float field {name}"))),
        }
    };
    let _copies = super::charge_tree(heap.budget(), nodes.len(), 1, site)?;
    let values = float("value")?;
    let thresholds = float("num_threshold")?;
    let count = int("count")?;
    let feature = int("feature_idx")?;
    let missing_left = int("missing_go_to_left")?;
    let left = int("left")?;
    let right = int("right")?;
    let is_leaf = int("is_leaf")?;
    let is_categorical = int("is_categorical")?;
    let bitset_idx = int("bitset_idx")?;
    let n = values.len();
    let base = forest.left_categories.len();
    let mut splits = Vec::with_capacity(n);
    for i in 0..n {
        let fault = |field: &str, problem: String| site.node_error(i, field, problem);
        let flag = |v: &[u64], field: &str| match v[i] {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(fault(field, format!("is {other}, not 0 or 1"))),
        };
        if flag(&is_leaf, "is_leaf")? {
            if !values[i].is_finite() {
                return Err(fault(
                    "value",
                    format!("is {}, not a finite number", values[i]),
                ));
            }
            if left[i] != 0 || right[i] != 0 {
                return Err(fault(
                    "left",
                    format!(
                        "is {} and right {} on a leaf, which has no children",
                        left[i], right[i]
                    ),
                ));
            }
            splits.push(None);
            continue;
        }
        let f = usize::try_from(feature[i])
            .ok()
            .filter(|&f| f < n_features)
            .ok_or_else(|| {
                fault(
                    "feature_idx",
                    format!("is {}, not one of the {n_features} features", feature[i]),
                )
            })?;
        let missing = flag(&missing_left, "missing_go_to_left")?;
        let split = if flag(&is_categorical, "is_categorical")? {
            let b = usize::try_from(bitset_idx[i])
                .ok()
                .filter(|&b| b < bitsets.len())
                .ok_or_else(|| {
                    fault(
                        "bitset_idx",
                        format!(
                            "is {}, beyond the {} bitsets of raw_left_cat_bitsets",
                            bitset_idx[i],
                            bitsets.len()
                        ),
                    )
                })?;
            if forest.known_categories[f].is_none() {
                return Err(fault(
                    "is_categorical",
                    format!("is set, but feature {f} is not categorical"),
                ));
            }
            Split::Categorical {
                feature: f,
                bitset: base + b,
                missing_left: missing,
            }
        } else {
            if thresholds[i].is_nan() {
                return Err(fault("num_threshold", "is NaN".into()));
            }
            Split::Numeric {
                feature: f,
                threshold: thresholds[i],
                missing_left: missing,
            }
        };
        let child = |v: u64, field: &str| {
            usize::try_from(v).map_err(|_| fault(field, format!("is {v}, not a node")))
        };
        splits.push(Some((
            split,
            child(left[i], "left")?,
            child(right[i], "right")?,
        )));
    }
    let raw = RawTree {
        splits,
        cover: count.iter().map(|&c| c as f64).collect(),
        values,
        width: 1,
    };
    let (order, depth) = check(&raw).map_err(|f| {
        let field = match f.field {
            "left_child" => "left",
            "right_child" => "right",
            other => other,
        };
        site.node_error(f.node, field, f.problem)
    })?;
    forest.left_categories.extend(bitsets);
    forest
        .push(&raw, &order, depth)
        .map_err(|f| site.node_error(f.node, f.field, f.problem))
}

/// `raw_left_cat_bitsets`: eight 32-bit words per categorical split.
fn left_bitsets(
    heap: &Heap<'_>,
    value: Option<Value>,
    site: &TreeSite,
) -> Result<Vec<Bitset>, LoadError> {
    let array = value
        .and_then(|v| heap.array(v))
        .ok_or_else(|| site.error("has no raw_left_cat_bitsets array"))?;
    let words = match (&array.elements, array.shape.as_slice()) {
        (Elements::UInt(w), [_, 8]) => w,
        (Elements::Int(w), [_, 8]) if w.is_empty() => return Ok(Vec::new()),
        _ => {
            return Err(site.error(format!(
                "raw_left_cat_bitsets has shape {:?} of {}, expected (n, 8) uint32",
                array.shape,
                array.dtype.name()
            )));
        }
    };
    Ok(words
        .chunks_exact(8)
        .map(|w| {
            let mut bitset = [0u32; 8];
            bitset.iter_mut().zip(w).for_each(|(b, &v)| *b = v as u32);
            bitset
        })
        .collect())
}

impl scores::RawScores for Hist {
    fn k(&self) -> usize {
        self.k
    }

    fn classes(&self) -> Option<&Classes> {
        self.classes.as_ref()
    }

    /// Raw predictions, `rows × k`, row-major.
    fn raw(&self, x: ArrayView2<'_, f64>) -> Vec<f64> {
        let k = self.k;
        let n = self.n_features;
        let rows = match x.as_slice() {
            Some(rows) => Cow::Borrowed(rows),
            None => Cow::Owned(x.iter().copied().collect()),
        };
        let mut raw = vec![0.0; x.nrows() * k];
        for out in raw.chunks_exact_mut(k) {
            out.copy_from_slice(&self.baseline);
        }
        let forest = &self.forest;
        let values = forest.values();
        forest.for_each_row(&rows, n, |r, leaves| {
            let out = &mut raw[r * k..(r + 1) * k];
            // An iteration's trees, one per raw column, each column summed in iteration order.
            for iteration in leaves.chunks(k) {
                for (o, &at) in out.iter_mut().zip(iteration) {
                    *o += values[at];
                }
            }
        });
        raw
    }

    fn proba_row(&self, raw: &[f64], out: &mut [f64]) {
        match self.link {
            Link::Logit => {
                out[1] = expit(raw[0]);
                out[0] = 1.0 - out[1];
            }
            _ => {
                out.copy_from_slice(raw);
                softmax(out);
            }
        }
    }

    fn class_of(&self, raw: &[f64]) -> usize {
        if self.predict_by_proba {
            let mut p = vec![0.0; self.classes.as_ref().map_or(2, Classes::len)];
            self.proba_row(raw, &mut p);
            argmax(&p)
        } else if self.k == 1 {
            usize::from(raw[0] > 0.0)
        } else {
            argmax(raw)
        }
    }

    fn value_of(&self, raw: f64) -> f64 {
        if self.link == Link::Log {
            raw.exp()
        } else {
            raw
        }
    }
}

impl Predictor for Hist {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        match &self.classes {
            Some(classes) => Target::Classes(classes),
            None => Target::Values {
                n_outputs: 1,
                one_d: true,
            },
        }
    }

    fn methods(&self) -> Vec<Method> {
        match self.classes {
            Some(_) => vec![
                Method::Predict,
                Method::PredictProba,
                Method::DecisionFunction,
            ],
            None => vec![Method::Predict],
        }
    }

    fn accepts_missing(&self) -> bool {
        true
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        scores::predict(self, x)
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        scores::predict_proba(self, x)
    }

    fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        scores::decision_function(self, x)
    }

    fn has_predict_proba(&self) -> bool {
        self.classes.is_some()
    }

    fn predict_with_proba(&self, x: ArrayView2<'_, f64>) -> (Prediction, Option<Array2<f64>>) {
        scores::predict_with_proba(self, x)
    }

    fn attribution(
        &self,
        row: ArrayView1<'_, f64>,
        predicted: Option<usize>,
    ) -> Option<Attribution> {
        let (column, explained_class) =
            scores::explained_column(self.classes.is_some(), self.k, predicted)?;
        let x = row.to_vec();
        let one = ArrayView2::from_shape((1, x.len()), &x).ok()?;
        let raw = self.raw(one);
        let (k, forest) = (self.k, &self.forest);
        let explained = shap::explain(forest, &x, self.n_features, |leaf| {
            if k == 1 || forest.tree_of(leaf) % k == column {
                forest.leaf_value(leaf)
            } else {
                0.0
            }
        });
        Some(Attribution {
            explained_class,
            base: self.baseline[column] + explained.expected,
            contributions: explained.phi,
            weights: None,
            output: raw[column],
        })
    }

    fn describe(&self) -> serde_json::Value {
        let categorical: Vec<usize> = (0..self.n_features)
            .filter(|&f| self.forest.known_categories[f].is_some())
            .collect();
        let mut d = serde_json::json!({
            "class": self.class.name(),
            "n_features_in": self.n_features,
            "loss": self.loss,
            "link": self.link,
            "iterations": self.forest.n_trees() / self.k,
            "trees": self.forest.n_trees(),
            "nodes": self.forest.n_nodes(),
            "leaves": self.forest.n_leaves(),
            "max_depth": self.forest.max_depth(),
            "features_used": self.forest.features_used(),
            "categorical_features": categorical,
            "missing_values": true,
        });
        if let Some(classes) = &self.classes {
            d["classes"] = classes.to_json();
        }
        d
    }
}
