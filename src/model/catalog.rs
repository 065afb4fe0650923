//! Which room reads which class: the one place a new family of estimators registers.
//! [`Catalog`] is the [`StepReader`] every composite is handed, so that a Pipeline can hold
//! any step the catalog knows without knowing it itself.

use super::LoadError;
use super::allow::SkClass;
use super::compose::{self, Model, Step, StepReader};
use super::linear;
use super::preprocessing;
use super::state::{Path, State};
use super::tree;
use super::value::{Heap, Node, Value};

/// Reads steps out of one file's values.
pub struct Catalog<'h> {
    pub heap: &'h Heap<'h>,
}

impl StepReader for Catalog<'_> {
    fn read(&self, value: Value, path: &Path, width: Option<usize>) -> Result<Step, LoadError> {
        let state = State::of(self.heap, value, path)?;
        let class = state.class;
        if linear::reads(class) {
            return Ok(Step::Model(Model {
                transformers: Vec::new(),
                predictor: linear::read(&state)?,
                wrappers: Vec::new(),
            }));
        }
        if tree::reads(class) {
            return tree::read(&state, self);
        }
        if preprocessing::reads(class) {
            return Ok(Step::Transformer(preprocessing::read(&state, width)?));
        }
        match class {
            SkClass::Pipeline => compose::pipeline::read(&state, self, width),
            SkClass::ColumnTransformer => Ok(Step::Transformer(Box::new(
                compose::column_transformer::read(&state, self, width)?,
            ))),
            SkClass::GridSearchCv | SkClass::RandomizedSearchCv => {
                compose::search::read(&state, self, width)
            }
            other => Err(state.unsupported(format!(
                "{} is not an estimator skserve serves on its own",
                other.name()
            ))),
        }
    }
}

/// The column names the model was fitted with: the `feature_names_in_` of the first step that
/// sees the client's columns (a Pipeline and a search record none of their own).
pub fn input_names(heap: &Heap<'_>, value: Value) -> Option<Vec<String>> {
    let state = State::of(heap, value, &Path::default()).ok()?;
    if let Ok(Some(names)) = state.feature_names() {
        return Some(names);
    }
    match state.class {
        SkClass::Pipeline => {
            let steps = state.items("steps").ok()?;
            let first = steps.iter().find_map(|step| {
                let pair = heap.tuple(*step)?;
                let estimator = *pair.get(1)?;
                matches!(heap.node(estimator), Some(Node::Object(_))).then_some(estimator)
            })?;
            input_names(heap, first)
        }
        SkClass::GridSearchCv | SkClass::RandomizedSearchCv => {
            input_names(heap, state.attr("best_estimator_")?)
        }
        _ => None,
    }
}
