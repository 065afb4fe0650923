//! Composition: Pipeline, ColumnTransformer, FeatureUnion, and the searches (GridSearchCV,
//! RandomizedSearchCV and their successive-halving kin) served through their `best_estimator_`. They read their inner steps
//! through a [`StepReader`] handed down by the catalog (`super::catalog`), so that this room
//! never names the classes of another.
//!
//! # Layout
//! - `pipeline`: Pipeline's steps, flattened; a chain of transformers as one transformer.
//! - `columns`: ColumnTransformer's column selections (names, indices, slices, masks).
//! - `column_transformer`: ColumnTransformer.
//! - `search`: GridSearchCV, RandomizedSearchCV, HalvingGridSearchCV, HalvingRandomSearchCV.
//! - `transforming`: a model of transformers only, answering `transform`.
//! - `union`: FeatureUnion.

pub mod column_transformer;
pub mod columns;
pub mod pipeline;
pub mod search;
pub mod transforming;
pub mod union;

pub use transforming::transforming;

use super::LoadError;
use super::allow::SkClass;
use super::estimator::{Needs, Predictor, Transformer};
use super::input::ColumnKind;
use super::state::Path;
use super::value::Value;

/// One step as read: what a Pipeline or a ColumnTransformer holds at a position.
#[derive(Debug)]
pub enum Step {
    /// `"passthrough"` or `None`: the identity.
    Passthrough,
    /// `"drop"`: no output.
    Drop,
    Transformer(Box<dyn Transformer>),
    /// Transformers ending in a predictor: an estimator alone, a Pipeline ending in one, a
    /// search. `chain` names them for `skserve_model_info`, outermost first.
    Model(Model),
}

/// A predictor and the transformers before it.
#[derive(Debug)]
pub struct Model {
    pub transformers: Vec<(String, Box<dyn Transformer>)>,
    pub predictor: Box<dyn Predictor>,
    /// Wrappers around the chain (`GridSearchCV`), outermost first.
    pub wrappers: Vec<&'static str>,
}

impl Model {
    /// A predictor with no steps before it.
    pub fn alone(predictor: Box<dyn Predictor>) -> Self {
        Self {
            transformers: Vec::new(),
            predictor,
            wrappers: Vec::new(),
        }
    }

    /// The model as one transformer where its predictor also transforms (a Pipeline ending
    /// in PCA or LinearDiscriminantAnalysis inside a ColumnTransformer): its transformers,
    /// then the predictor's; `None` when the predictor only predicts.
    pub fn into_transformer(self) -> Option<Box<dyn Transformer>> {
        let last = self.predictor.as_transformer()?;
        if self.transformers.is_empty() {
            return Some(last);
        }
        let mut steps = self.transformers;
        steps.push((self.predictor.class().to_owned(), last));
        Some(Box::new(pipeline::Chain { steps }))
    }
}

/// Reads any step: given to the composites so that they can read what they hold.
pub trait StepReader {
    /// The step at `value`, named by `path`; `width` is the number of columns it is given,
    /// where the caller knows it.
    fn read(&self, value: Value, path: &Path, width: Option<usize>) -> Result<Step, LoadError>;
}

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    matches!(
        class,
        SkClass::Pipeline
            | SkClass::ColumnTransformer
            | SkClass::GridSearchCv
            | SkClass::RandomizedSearchCv
            | SkClass::HalvingGridSearchCv
            | SkClass::HalvingRandomSearchCv
            | SkClass::FeatureUnion
    )
}

/// Reads a step of one of this room's classes through `reader`.
pub fn read(
    state: &super::state::State<'_>,
    reader: &dyn StepReader,
    width: Option<usize>,
) -> Result<Step, LoadError> {
    match state.class {
        SkClass::Pipeline => pipeline::read(state, reader, width),
        SkClass::ColumnTransformer => Ok(Step::Transformer(Box::new(column_transformer::read(
            state, reader, width,
        )?))),
        SkClass::GridSearchCv
        | SkClass::RandomizedSearchCv
        | SkClass::HalvingGridSearchCv
        | SkClass::HalvingRandomSearchCv => search::read(state, reader, width),
        SkClass::FeatureUnion => Ok(Step::Transformer(Box::new(union::read(
            state, reader, width,
        )?))),
        other => Err(state.unsupported(format!("{} is not a composite", other.name()))),
    }
}

/// Combines what several readers of one feature need: strings win over numbers (a conflict
/// cannot have been fitted), a definite kind over "as its output", anything over unused.
pub fn combine(needs: impl IntoIterator<Item = Needs>) -> Needs {
    let mut out = Needs::Kind(ColumnKind::Unused);
    for need in needs {
        out = match (&out, &need) {
            (_, Needs::Kind(ColumnKind::Text)) | (Needs::Kind(ColumnKind::Text), _) => {
                Needs::Kind(ColumnKind::Text)
            }
            (_, Needs::Kind(ColumnKind::Number)) | (Needs::Kind(ColumnKind::Number), _) => {
                Needs::Kind(ColumnKind::Number)
            }
            (Needs::Kind(ColumnKind::Unused), Needs::AsOutput) => Needs::AsOutput,
            _ => out,
        };
    }
    out
}

/// What the inputs of `step` need, given what is needed of its outputs.
pub fn needs_before(step: &dyn Transformer, after: &[Needs]) -> Vec<Needs> {
    let sources = step.sources();
    step.needs()
        .into_iter()
        .enumerate()
        .map(|(j, own)| match own {
            Needs::AsOutput => combine(
                sources
                    .iter()
                    .zip(after)
                    .filter(|(s, _)| **s == j)
                    .map(|(_, n)| n.clone()),
            ),
            definite => definite,
        })
        .collect()
}
