//! Meta-estimators: ensembles and wrappers whose members are any served estimators, read
//! through the catalog's [`StepReader`] (a Pipeline, a search, a tree, another
//! meta-estimator), never by naming their classes. How deep they nest and how many estimators
//! a file holds is bounded by the catalog.
//!
//! # Layout
//! - `member`: reading members, the fan their own steps run in, what each is given.
//! - `voting`: VotingClassifier, VotingRegressor.
//! - `stacking`: StackingClassifier, StackingRegressor.
//! - `bagging`: BaggingClassifier, BaggingRegressor.
//! - `adaboost`: AdaBoostClassifier (SAMME, SAMME.R), AdaBoostRegressor.
//! - `multiclass`: OneVsRestClassifier, OneVsOneClassifier, OutputCodeClassifier and their
//!   `_ConstantPredictor`.
//! - `multioutput`: MultiOutputClassifier, MultiOutputRegressor, ClassifierChain,
//!   RegressorChain.
//! - `calibration`: CalibratedClassifierCV and its calibrators; `isotonic`:
//!   IsotonicRegression, also served alone.
//! - `target`: TransformedTargetRegressor.
//! - `wrapped`: the wrappers of one classifier: SelfTrainingClassifier,
//!   FixedThresholdClassifier, TunedThresholdClassifierCV, FrozenEstimator.
//!
//! What must not live here: any one member's arithmetic (its own room's), the bounds on
//! nesting (the catalog's).

pub mod adaboost;
pub mod bagging;
pub mod calibration;
pub mod isotonic;
pub mod member;
pub mod multiclass;
pub mod multioutput;
pub mod stacking;
pub mod target;
pub mod voting;
pub mod wrapped;

use super::LoadError;
use super::allow::SkClass;
use super::classes::{Classes, read_classes};
use super::compose::{Model, Step, StepReader};
use super::estimator::Predictor;
use super::state::{Path, State};
use super::value::{Heap, Node, Value};
use member::Fan;

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    use SkClass::*;
    matches!(
        class,
        AdaBoostClassifier
            | AdaBoostRegressor
            | BaggingClassifier
            | BaggingRegressor
            | VotingClassifier
            | VotingRegressor
            | StackingClassifier
            | StackingRegressor
            | CalibratedClassifierCv
            | IsotonicRegression
            | OneVsRestClassifier
            | OneVsOneClassifier
            | OutputCodeClassifier
            | ConstantPredictor
            | MultiOutputClassifier
            | MultiOutputRegressor
            | ClassifierChain
            | RegressorChain
            | TransformedTargetRegressor
            | SelfTrainingClassifier
            | FixedThresholdClassifier
            | TunedThresholdClassifierCv
            | FrozenEstimator
    )
}

/// Reads the meta-estimator whose state is `state`; `width` is the number of columns it is
/// given, where the caller knows it.
pub fn read(
    state: &State<'_>,
    reader: &dyn StepReader,
    width: Option<usize>,
) -> Result<Step, LoadError> {
    use SkClass::*;
    let model = match state.class {
        VotingClassifier | VotingRegressor => voting::read(state, reader, width)?,
        StackingClassifier | StackingRegressor => stacking::read(state, reader, width)?,
        BaggingClassifier | BaggingRegressor => bagging::read(state, reader, width)?,
        AdaBoostClassifier | AdaBoostRegressor => adaboost::read(state, reader, width)?,
        OneVsRestClassifier | OneVsOneClassifier | OutputCodeClassifier | ConstantPredictor => {
            multiclass::read(state, reader, width)?
        }
        MultiOutputClassifier | MultiOutputRegressor | ClassifierChain | RegressorChain => {
            multioutput::read(state, reader, width)?
        }
        CalibratedClassifierCv => calibration::read(state, reader, width)?,
        IsotonicRegression => alone(Box::new(isotonic::Isotonic::read(state)?.served())),
        TransformedTargetRegressor => target::read(state, reader, width)?,
        SelfTrainingClassifier
        | FixedThresholdClassifier
        | TunedThresholdClassifierCv
        | FrozenEstimator => return wrapped::read(state, reader, width),
        other => {
            return Err(state.unsupported(format!("{} is not a meta-estimator", other.name())));
        }
    };
    Ok(Step::Model(model))
}

/// A meta-estimator as a model: its members' steps (if any) before it.
pub type Built = Model;

pub fn built(fan: Option<Fan>, predictor: Box<dyn Predictor>) -> Built {
    Model {
        transformers: fan
            .map(|f| vec![("estimators_".to_owned(), Box::new(f) as _)])
            .unwrap_or_default(),
        predictor,
        wrappers: Vec::new(),
    }
}

/// A predictor with no steps before it.
pub fn alone(predictor: Box<dyn Predictor>) -> Built {
    built(None, predictor)
}

/// The names of a list of `(name, estimator)` pairs (`estimators`, as configured), each with
/// whether it is `"drop"`. The estimators themselves are the unfitted ones and never read.
pub fn estimator_list(state: &State<'_>, attr: &str) -> Result<Vec<(String, bool)>, LoadError> {
    let items = state.items(attr)?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("{attr}[{i}]");
            let pair = state
                .heap
                .tuple(*item)
                .filter(|t| t.len() == 2)
                .ok_or_else(|| state.malformed(&at, "is not a (name, estimator) pair"))?;
            let name = state
                .heap
                .str(pair[0])
                .ok_or_else(|| state.malformed(&at, "has a name that is not a string"))?;
            let dropped = state.heap.str(pair[1]) == Some("drop") || pair[1] == Value::None;
            Ok((name.to_owned(), dropped))
        })
        .collect()
}

/// A classifier's `classes_`: at least one label.
pub fn read_classes_checked(state: &State<'_>) -> Result<Classes, LoadError> {
    let classes = read_classes(state, "classes_")?;
    if classes.is_empty() {
        return Err(state.malformed("classes_", "holds no class"));
    }
    // AdaBoost's decision and probabilities divide by it.
    if let Some(n) = state.count("n_classes_")?
        && n != classes.len()
    {
        return Err(state.malformed(
            "n_classes_",
            format!("is {n} but classes_ holds {}", classes.len()),
        ));
    }
    Ok(classes)
}

/// The LabelEncoder a classifier keeps beside its `classes_` (under the first of `attrs` it
/// has): it must encode exactly those labels, since its members were fitted on its codes.
pub fn check_label_encoder(
    state: &State<'_>,
    attrs: &[&str],
    classes: &Classes,
) -> Result<(), LoadError> {
    let Some((attr, value)) = attrs.iter().find_map(|a| state.attr(a).map(|v| (*a, v))) else {
        return Ok(());
    };
    let encoder = State::of(state.heap, value, &state.path.join(attr))
        .ok()
        .filter(|e| e.class == SkClass::LabelEncoder)
        .ok_or_else(|| state.malformed(attr, "is not a LabelEncoder"))?;
    let encoded = read_classes(&encoder, "classes_")?;
    if encoded != *classes {
        return Err(state.malformed(
            attr,
            format!(
                "encodes the labels {} but classes_ is {}",
                encoded.to_json(),
                classes.to_json()
            ),
        ));
    }
    Ok(())
}

/// The number of columns a meta-estimator is given: its own `n_features_in_` or
/// `feature_names_in_`, what the caller gives it, or what its first member (at `first`) was
/// fitted on, in that order, each checked against those before it.
pub fn input_width(
    state: &State<'_>,
    width: Option<usize>,
    first: Value,
    _reader: &dyn StepReader,
) -> Result<usize, LoadError> {
    let own = match state.count("n_features_in_")? {
        Some(n) => Some(n),
        None => state.feature_names()?.map(|names| names.len()),
    };
    if let Some(n) = own {
        state.check_n_features(n, "its input")?;
    }
    let n = match (own, width) {
        (Some(n), Some(w)) if n != w => {
            return Err(state.malformed(
                "n_features_in_",
                format!("is {n} but it is given {w} columns"),
            ));
        }
        (Some(n), _) | (None, Some(n)) => n,
        (None, None) => fitted_width(state.heap, first, 0).ok_or_else(|| {
            state.malformed("n_features_in_", "is missing, and so is its estimators'")
        })?,
    };
    if n == 0 {
        return Err(state.malformed("n_features_in_", "is 0"));
    }
    Ok(n)
}

/// How many columns the estimator at `value` was fitted on, as its state records it (through
/// a Pipeline's first step or a search's best estimator), without reading it.
pub fn fitted_width(heap: &Heap<'_>, value: Value, depth: usize) -> Option<usize> {
    // Bounded for a graph that loops; looser than the catalog's bound on nesting (16), so
    // that a model nested too deep is refused for that, by the catalog, when it reads the
    // members.
    if depth > 64 {
        return None;
    }
    let state = State::of(heap, value, &Path::default()).ok()?;
    if let Ok(Some(n)) = state.count("n_features_in_") {
        return Some(n);
    }
    if let Ok(Some(names)) = state.feature_names() {
        return Some(names.len());
    }
    match state.class {
        SkClass::Pipeline => {
            let steps = state.items("steps").ok()?;
            steps.iter().find_map(|step| {
                let pair = heap.tuple(*step)?;
                let estimator = *pair.get(1)?;
                matches!(heap.node(estimator), Some(Node::Object(_)))
                    .then(|| fitted_width(heap, estimator, depth + 1))?
            })
        }
        SkClass::GridSearchCv
        | SkClass::RandomizedSearchCv
        | SkClass::HalvingGridSearchCv
        | SkClass::HalvingRandomSearchCv => {
            fitted_width(heap, state.attr("best_estimator_")?, depth + 1)
        }
        _ => first_member(&state).and_then(|m| fitted_width(heap, m, depth + 1)),
    }
}

/// The first fitted estimator a meta-estimator holds, whose input is the meta-estimator's
/// (for the column names of a model fitted on a DataFrame).
pub fn first_member(state: &State<'_>) -> Option<Value> {
    use SkClass::*;
    let first_of = |attr: &str| {
        state
            .items(attr)
            .ok()?
            .iter()
            .copied()
            .find(|v| matches!(state.heap.node(*v), Some(Node::Object(_))))
    };
    match state.class {
        VotingClassifier
        | VotingRegressor
        | StackingClassifier
        | StackingRegressor
        | OneVsRestClassifier
        | OneVsOneClassifier
        | OutputCodeClassifier
        | MultiOutputClassifier
        | MultiOutputRegressor
        | AdaBoostClassifier
        | AdaBoostRegressor => first_of("estimators_"),
        CalibratedClassifierCv => {
            let fold = first_of("calibrated_classifiers_")?;
            let fold = State::of(state.heap, fold, &state.path).ok()?;
            fold.attr("estimator")
                .or_else(|| fold.attr("base_estimator"))
        }
        TransformedTargetRegressor => state.attr("regressor_"),
        SelfTrainingClassifier | FixedThresholdClassifier | TunedThresholdClassifierCv => {
            state.attr("estimator_")
        }
        FrozenEstimator => state.attr("estimator"),
        _ => None,
    }
}
