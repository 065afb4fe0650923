//! Feature selection: every selector of `sklearn.feature_selection`, served through the mask
//! its fitted state implies (`support_`, or the mask `_get_support_mask` computes from
//! `variances_`, `scores_`, `pvalues_` or its estimator's importances), as a [`Selector`]
//! that keeps those columns, strings among them, as they are. RFE and RFECV also predict, as
//! their `estimator_` does on the columns kept.
//!
//! # Layout
//! - `mask`: the masks of VarianceThreshold and the univariate selectors, numpy's way.
//! - `importances`: SelectFromModel's importances (`coef_`'s norm, or a tree ensemble's
//!   impurity decrease) and threshold.
//! - `selector`: the transformer every selector becomes, and RFE's predictor.
//!
//! What must not live here: any estimator's prediction (read through the catalog's
//! [`StepReader`]).

pub mod importances;
pub mod mask;
pub mod selector;

use super::LoadError;
use super::allow::SkClass;
use super::compose::{Model, Step, StepReader};
use super::state::State;
use super::value::{Node, Value};
use selector::{Rfe, Selector};

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    use SkClass::*;
    matches!(
        class,
        VarianceThreshold
            | SelectKBest
            | SelectPercentile
            | SelectFpr
            | SelectFdr
            | SelectFwe
            | GenericUnivariateSelect
            | SelectFromModel
            | Rfe
            | Rfecv
            | SequentialFeatureSelector
    )
}

/// Reads the selector whose state is `state`; `width` is the number of columns it is given,
/// where the caller knows it.
pub fn read(
    state: &State<'_>,
    reader: &dyn StepReader,
    width: Option<usize>,
) -> Result<Step, LoadError> {
    use SkClass::*;
    let (keep, n_features, allow_nan) = match state.class {
        VarianceThreshold => {
            let (keep, n) = mask::variance(state)?;
            (keep, n, true)
        }
        SelectKBest
        | SelectPercentile
        | SelectFpr
        | SelectFdr
        | SelectFwe
        | GenericUnivariateSelect => {
            let (keep, n) = mask::univariate(state)?;
            (keep, n, false)
        }
        SelectFromModel => return select_from_model(state, reader, width),
        Rfe | Rfecv => return rfe(state, reader, width),
        SequentialFeatureSelector => {
            let (keep, n) = mask::support(state)?;
            (keep, n, estimator_takes_missing(state))
        }
        other => return Err(state.unsupported(format!("{} does not select", other.name()))),
    };
    check_width(state, n_features, width)?;
    Ok(Step::Transformer(Box::new(Selector::new(
        state, keep, n_features, allow_nan,
    ))))
}

fn check_width(state: &State<'_>, n: usize, width: Option<usize>) -> Result<(), LoadError> {
    if let Some(w) = width
        && w != n
    {
        return Err(state.malformed(
            "n_features_in_",
            format!("is {n} but it is given {w} columns"),
        ));
    }
    state.check_n_features(n, mask_source(state.class))?;
    Ok(())
}

/// The fitted attribute a selector's mask is made from, for a refusal to name.
fn mask_source(class: SkClass) -> &'static str {
    match class {
        SkClass::VarianceThreshold => "variances_",
        SkClass::SelectFromModel => "its estimator's importances",
        SkClass::Rfe | SkClass::Rfecv | SkClass::SequentialFeatureSelector => "support_",
        _ => "scores_",
    }
}

/// Whether the unfitted estimator a SequentialFeatureSelector was configured with takes
/// missing values (its `allow_nan` tag): only HistGradientBoosting among those it may hold
/// for certain, in every version.
fn estimator_takes_missing(state: &State<'_>) -> bool {
    let Some(Value::Ref(_)) = state.attr("estimator") else {
        return false;
    };
    match state.attr("estimator").and_then(|v| state.heap.node(v)) {
        Some(Node::Object(o)) => matches!(
            o.class,
            crate::model::allow::Callable::Class(
                SkClass::HistGradientBoostingClassifier | SkClass::HistGradientBoostingRegressor
            )
        ),
        _ => false,
    }
}

fn select_from_model(
    state: &State<'_>,
    reader: &dyn StepReader,
    width: Option<usize>,
) -> Result<Step, LoadError> {
    let estimator = state
        .attr("estimator_")
        .or_else(|| state.attr("estimator"))
        .ok_or_else(|| state.malformed("estimator_", "is missing"))?;
    let scores = importances::of(state, estimator)?;
    let n_features = scores.importances.len();
    check_width(state, n_features, width)?;
    let keep = importances::mask(state, &scores)?;
    // Its `allow_nan` is its estimator's: read it (which also checks its state).
    let path = state.path.join("estimator_");
    let allow_nan = match reader.read(estimator, &path, Some(n_features))? {
        Step::Model(model) => model.transformers.is_empty() && model.predictor.accepts_missing(),
        _ => false,
    };
    Ok(Step::Transformer(Box::new(Selector::new(
        state, keep, n_features, allow_nan,
    ))))
}

fn rfe(
    state: &State<'_>,
    reader: &dyn StepReader,
    width: Option<usize>,
) -> Result<Step, LoadError> {
    let (keep, n_features) = mask::support(state)?;
    check_width(state, n_features, width)?;
    let path = state.path.join("estimator_");
    let model = match reader.read(state.get("estimator_")?, &path, Some(keep.len()))? {
        Step::Model(model) => model,
        _ => return Err(state.malformed("estimator_", "is not an estimator that predicts")),
    };
    let takes = model
        .transformers
        .first()
        .map_or(model.predictor.n_features_in(), |(_, t)| t.n_features_in());
    if takes != keep.len() {
        return Err(state.malformed(
            "estimator_",
            format!("takes {takes} features but support_ keeps {}", keep.len()),
        ));
    }
    let allow_nan = model.transformers.is_empty() && model.predictor.accepts_missing();
    let selector = Selector::new(state, keep, n_features, allow_nan);
    let mut transformers: Vec<(String, Box<dyn super::estimator::Transformer>)> =
        vec![(state.class.name().to_owned(), Box::new(selector.clone()))];
    let plain = model.transformers.is_empty();
    transformers.extend(
        model
            .transformers
            .into_iter()
            .map(|(name, t)| (format!("estimator_ > {name}"), t)),
    );
    Ok(Step::Model(Model {
        transformers,
        predictor: Box::new(Rfe::new(selector, model.predictor, plain)),
        wrappers: model.wrappers,
    }))
}
