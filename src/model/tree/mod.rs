//! Tree models: DecisionTree and ExtraTree, RandomForest and ExtraTrees, GradientBoosting
//! (with its `init_` estimator and loss) and HistGradientBoosting (with its missing-value
//! routing, categorical bitsets, preprocessor, and the loss and link of each objective),
//! classifiers and regressors, read from the state scikit-learn 1.1 to 1.9 pickles and
//! checked node by node at load, so that prediction never checks again.
//!
//! # Layout
//! - `nodes`: the layout trees are walked in (one arena, pre-ordered 16-byte nodes) and the
//!   proof that a file's nodes form a tree; `nodes::masks` lays forests of small trees out as
//!   masks of leaves too, which find one row's leaves without walking.
//! - `sktree`: scikit-learn's `Tree`, checked field by field.
//! - `site`: where a tree sits, for messages.
//! - `forest`: DecisionTree, ExtraTree, RandomForest, ExtraTrees.
//! - `boosting`: GradientBoosting; `dummy`: its default `init_` estimators.
//! - `hist`: HistGradientBoosting.
//! - `isolation`: IsolationForest, its path lengths in the leaves.
//! - `embedding`: RandomTreesEmbedding, each leaf's one-hot column in the leaves.
//! - `math`: numpy's and scipy's arithmetic, as they do it.
//! - `scores`: a boosting model's raw scores as probabilities, decision values, explanations.
//! - `shap`: exact path-dependent TreeSHAP.
//!
//! What must not live here: other rooms' classes (a GradientBoosting `init_` or a
//! HistGradientBoosting preprocessor of another kind is read through the catalog's
//! [`StepReader`]).

pub mod boosting;
pub mod dummy;
pub mod embedding;
pub mod forest;
pub mod hist;
pub mod isolation;
pub mod math;
pub mod nodes;
pub mod scores;
pub mod shap;
pub mod site;
pub mod sktree;

use super::LoadError;
use super::allow::SkClass;
use super::budget::{Budget, Held};
use super::classes::{Classes, read_classes, read_output_classes};
use super::compose::{Model, Step, StepReader};
use super::estimator::Predictor;
use super::state::State;
use super::value::Node;
use forest::{Output, TreeModel};
use nodes::{Forest, MAX_FEATURES};
use site::TreeSite;

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    use SkClass::*;
    matches!(
        class,
        DecisionTreeClassifier
            | DecisionTreeRegressor
            | ExtraTreeClassifier
            | ExtraTreeRegressor
            | RandomForestClassifier
            | RandomForestRegressor
            | ExtraTreesClassifier
            | ExtraTreesRegressor
            | GradientBoostingClassifier
            | GradientBoostingRegressor
            | HistGradientBoostingClassifier
            | HistGradientBoostingRegressor
            | DummyClassifier
            | DummyRegressor
            | IsolationForest
            | RandomTreesEmbedding
    )
}

/// Reads the tree model whose state is `state`; `reader` reads what it holds of other rooms.
pub fn read(state: &State<'_>, reader: &dyn StepReader) -> Result<Step, LoadError> {
    use SkClass::*;
    let model = |predictor: Box<dyn Predictor>| {
        Step::Model(Model {
            transformers: Vec::new(),
            predictor,
            wrappers: Vec::new(),
        })
    };
    match state.class {
        DecisionTreeClassifier
        | DecisionTreeRegressor
        | ExtraTreeClassifier
        | ExtraTreeRegressor => Ok(model(Box::new(read_single(state)?))),
        RandomForestClassifier
        | RandomForestRegressor
        | ExtraTreesClassifier
        | ExtraTreesRegressor => Ok(model(Box::new(read_forest(state)?))),
        GradientBoostingClassifier | GradientBoostingRegressor => {
            Ok(model(Box::new(boosting::read(state, reader)?)))
        }
        HistGradientBoostingClassifier | HistGradientBoostingRegressor => hist::read(state, reader),
        DummyClassifier | DummyRegressor => Ok(model(Box::new(dummy::read(state)?))),
        IsolationForest => Ok(model(Box::new(isolation::read(state)?))),
        RandomTreesEmbedding => Ok(Step::Transformer(Box::new(embedding::read(state)?))),
        other => Err(state.unsupported(format!("{} is not a tree model", other.name()))),
    }
}

fn is_classifier(class: SkClass) -> bool {
    use SkClass::*;
    matches!(
        class,
        DecisionTreeClassifier
            | ExtraTreeClassifier
            | RandomForestClassifier
            | ExtraTreesClassifier
            | GradientBoostingClassifier
            | HistGradientBoostingClassifier
    )
}

/// What one node costs while its tree is read and checked, beyond its values: its fields
/// decoded from the node records (up to ten words), its split, its place in the pre-order and
/// in the check's stack, and its place once laid out.
const READ_BYTES_PER_NODE: usize = 160;

/// Charges a tree of `n_nodes` nodes of `width` values each before it is read: what its
/// laid-out form keeps ([`nodes::LAID_OUT_BYTES_PER_NODE`] and its values) for the rest of the
/// load, and what reading it copies (its decoded fields, and its values twice over) until the
/// returned guard drops, once the tree is laid out.
fn charge_tree<'b>(
    budget: &'b Budget,
    n_nodes: usize,
    width: usize,
    site: &TreeSite,
) -> Result<Held<'b>, LoadError> {
    let what = || format!("{}: {} of {n_nodes} nodes", site.owner, site.tree);
    let values = width.saturating_mul(8);
    budget.charge_items(
        n_nodes,
        nodes::LAID_OUT_BYTES_PER_NODE.saturating_add(values),
        what,
    )?;
    Ok(budget.hold_items(
        n_nodes,
        READ_BYTES_PER_NODE.saturating_add(values.saturating_mul(2)),
        what,
    )?)
}

/// `n_features_in_`, which every fitted tree model of scikit-learn 1.0 and later records.
pub fn n_features(state: &State<'_>) -> Result<usize, LoadError> {
    let n = state
        .count("n_features_in_")?
        .ok_or_else(|| state.malformed("n_features_in_", "is missing"))?;
    if n == 0 || n > MAX_FEATURES {
        return Err(state.malformed("n_features_in_", format!("is {n}")));
    }
    state.check_n_features(n, "n_features_in_")?;
    Ok(n)
}

/// The `classes_` of a classifier that has one output (GradientBoosting, HistGradientBoosting):
/// a list of arrays, one per output, is refused.
pub fn single_output_classes(state: &State<'_>) -> Result<Classes, LoadError> {
    if let Some(value) = state.attr("classes_")
        && matches!(state.heap.node(value), Some(Node::List(_)))
    {
        return Err(state.malformed(
            "classes_",
            format!(
                "is a list (one array per output), but {} predicts one output",
                state.class.name()
            ),
        ));
    }
    let classes = read_classes(state, "classes_")?;
    at_least_two(state, "classes_", &classes)?;
    Ok(classes)
}

fn at_least_two(state: &State<'_>, name: &str, classes: &Classes) -> Result<(), LoadError> {
    if classes.len() < 2 {
        return Err(state.malformed(
            name,
            format!(
                "holds {} class(es); a classifier needs at least 2",
                classes.len()
            ),
        ));
    }
    Ok(())
}

/// The classes of each output of a tree or forest classifier, checked against `n_outputs_`.
/// An output of several may hold one class (a label column that never varied in training).
fn output_classes(state: &State<'_>) -> Result<Vec<Classes>, LoadError> {
    let outputs = read_output_classes(state, "classes_")?;
    let n_outputs = state.count("n_outputs_")?.unwrap_or(1);
    let listed = matches!(
        state.attr("classes_").and_then(|v| state.heap.node(v)),
        Some(Node::List(_))
    );
    if outputs.len() != n_outputs || listed != (n_outputs > 1) {
        return Err(state.malformed(
            "classes_",
            format!(
                "holds the classes of {} output(s){}, but n_outputs_ is {n_outputs}",
                outputs.len(),
                if listed { " as a list" } else { "" }
            ),
        ));
    }
    if let [classes] = outputs.as_slice() {
        at_least_two(state, "classes_", classes)?;
    }
    for (k, classes) in outputs.iter().enumerate() {
        if classes.is_empty() {
            return Err(state.malformed(&format!("classes_[{k}]"), "holds no class"));
        }
    }
    Ok(outputs)
}

/// Whether scikit-learn's `predict`, as of the version that saved `state` (a tree, or a
/// forest's first tree), lets a missing value through to the nodes; otherwise
/// `check_array` refuses it. Trees learnt a direction for missing values in 1.3
/// (DecisionTree with the best splitter and certain criteria), forests in 1.4 (through their
/// first tree), the random splitter in 1.6, every criterion in 1.9; a monotonic constraint
/// turns it off from 1.4 to 1.8.
pub fn tree_accepts_missing(tree: &State<'_>) -> bool {
    let splitter = tree.text("splitter").unwrap_or("best");
    let criterion = tree.text("criterion").unwrap_or("");
    let classifier = is_classifier(tree.class);
    let criteria: &[&str] = if classifier {
        &["gini", "log_loss", "entropy"]
    } else {
        &["squared_error", "friedman_mse", "poisson"]
    };
    let extra = matches!(
        tree.class,
        SkClass::ExtraTreeClassifier | SkClass::ExtraTreeRegressor
    );
    let monotonic = tree
        .attr("monotonic_cst")
        .is_some_and(|v| v != super::value::Value::None);
    let version = tree.sklearn_version().map(super::state::parse_version);
    match version {
        None => false,
        Some(v) if v < (1, 3) => false,
        Some(v) if v < (1, 4) => !extra && splitter == "best" && criteria.contains(&criterion),
        Some(v) if v < (1, 6) => {
            !extra && splitter == "best" && criteria.contains(&criterion) && !monotonic
        }
        Some(v) if v < (1, 9) => {
            let splitters: &[&str] = if extra {
                &["random"]
            } else {
                &["best", "random"]
            };
            splitters.contains(&splitter) && criteria.contains(&criterion) && !monotonic
        }
        Some(_) => !extra || splitter == "random",
    }
}

/// The outputs of a tree estimator: its classes, or its number of values.
fn output_of(state: &State<'_>) -> Result<Output, LoadError> {
    if is_classifier(state.class) {
        return Ok(Output::Classes {
            outputs: output_classes(state)?,
            normalise: state.saved_before((1, 4)),
        });
    }
    let n_outputs = state.count("n_outputs_")?.unwrap_or(1);
    if n_outputs == 0 {
        return Err(state.malformed("n_outputs_", "is 0"));
    }
    Ok(Output::Values {
        n_outputs,
        one_d: n_outputs == 1,
    })
}

/// Adds the `Tree` of `tree_state` (a DecisionTree or ExtraTree) to `forest`, checking it
/// against the outputs the estimator promises.
fn add_tree(
    forest: &mut Forest,
    tree_state: &State<'_>,
    n_features: usize,
    output: &Output,
    site: &TreeSite,
) -> Result<(), LoadError> {
    let value = tree_state.get("tree_")?;
    let tree = sktree::read(tree_state.heap, value, n_features, site)?;
    let raw = match output {
        Output::Classes { outputs, .. } => {
            let counts: Vec<usize> = outputs.iter().map(Classes::len).collect();
            if tree.n_classes != counts {
                return Err(site.error(format!(
                    "predicts {} output(s) of {:?} classes, but the estimator has {counts:?}",
                    tree.n_outputs, tree.n_classes
                )));
            }
            tree.raw.without_padding(&counts)
        }
        Output::Values { n_outputs, .. } => {
            if tree.n_outputs != *n_outputs || tree.n_classes.iter().any(|&c| c != 1) {
                return Err(site.error(format!(
                    "predicts {} output(s) of {:?} values, but the estimator has {n_outputs} \
                     output(s)",
                    tree.n_outputs, tree.n_classes
                )));
            }
            tree.raw
        }
    };
    forest
        .push(&raw, &tree.order, tree.depth)
        .map_err(|f| site.node_error(f.node, f.field, f.problem))
}

fn width_of(output: &Output) -> usize {
    match output {
        Output::Classes { outputs, .. } => outputs.iter().map(Classes::len).sum(),
        Output::Values { n_outputs, .. } => *n_outputs,
    }
}

fn read_single(state: &State<'_>) -> Result<TreeModel, LoadError> {
    let n_features = n_features(state)?;
    let output = output_of(state)?;
    let mut forest = Forest::new(width_of(&output));
    add_tree(
        &mut forest,
        state,
        n_features,
        &output,
        &TreeSite::new(state.label(), "tree_"),
    )?;
    Ok(TreeModel::new(
        state.class,
        forest,
        n_features,
        output,
        true,
        tree_accepts_missing(state),
        state.heap.budget(),
    )?)
}

/// Trees a forest may hold: real ones hold hundreds.
const MAX_TREES: usize = 100_000;

fn read_forest(state: &State<'_>) -> Result<TreeModel, LoadError> {
    let n_features = n_features(state)?;
    let output = output_of(state)?;
    let estimators = state.items("estimators_")?;
    if estimators.is_empty() || estimators.len() > MAX_TREES {
        return Err(state.malformed("estimators_", format!("holds {} trees", estimators.len())));
    }
    let expected = match state.class {
        SkClass::RandomForestClassifier => SkClass::DecisionTreeClassifier,
        SkClass::RandomForestRegressor => SkClass::DecisionTreeRegressor,
        SkClass::ExtraTreesClassifier => SkClass::ExtraTreeClassifier,
        _ => SkClass::ExtraTreeRegressor,
    };
    let mut forest = Forest::new(width_of(&output));
    let mut accepts_missing = false;
    for (i, &tree) in estimators.iter().enumerate() {
        let name = format!("estimators_[{i}]");
        let tree_state = State::of(state.heap, tree, &state.path.join(&name))?;
        if tree_state.class != expected {
            return Err(state.malformed(
                &name,
                format!(
                    "is a {}, expected a {}",
                    tree_state.class.name(),
                    expected.name()
                ),
            ));
        }
        if i == 0 {
            // scikit-learn asks the first tree whether missing values may pass (1.4+).
            accepts_missing = !state.saved_before((1, 4)) && tree_accepts_missing(&tree_state);
        }
        let site = TreeSite::new(state.label(), format!("{name}.tree_"));
        add_tree(&mut forest, &tree_state, n_features, &output, &site)?;
    }
    Ok(TreeModel::new(
        state.class,
        forest,
        n_features,
        output,
        false,
        accepts_missing,
        state.heap.budget(),
    )?)
}
