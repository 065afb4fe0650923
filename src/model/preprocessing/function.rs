//! FunctionTransformer, served only as the identity (`func=None`) or as `check_array` (a
//! `functools.partial` of it, which is how HistGradientBoosting's own preprocessor passes its
//! numeric columns through): a file naming any other `func` is refused with the callable's
//! name, since serving it would mean running code from the file. With `validate=True`, or as
//! `check_array`, its input must be numeric.

use crate::model::LoadError;
use crate::model::allow::{Callable, SkClass};
use crate::model::estimator::{Data, Needs, Transformer};
use crate::model::input::ColumnKind;
use crate::model::pickle::PARTIAL_MAY_WRAP;
use crate::model::state::{State, describe};
use crate::model::value::{Heap, Node, Value};

#[derive(Clone, Debug, PartialEq)]
pub struct FunctionTransformer {
    label: String,
    n_features: usize,
    validate: bool,
}

impl FunctionTransformer {
    /// `width` is the number of columns it is given, for files that did not record
    /// `n_features_in_` (scikit-learn before 1.2 without `validate`).
    pub fn read(state: &State<'_>, width: Option<usize>) -> Result<Self, LoadError> {
        let mut validate = state.bool_or("validate", false)?;
        match state.attr("func") {
            None | Some(Value::None) => {}
            Some(func) if wraps_check_array(state.heap, func) => validate = true,
            Some(func) => {
                return Err(LoadError::Unsupported(format!(
                    "{}: func is {}; skserve serves FunctionTransformer only without a func \
                     (the identity), since any other would run code from the file",
                    state.label(),
                    describe(state.heap, func)
                )));
            }
        }
        let n_features = match (state.count("n_features_in_")?, width) {
            (Some(n), Some(w)) if n != w => {
                return Err(state.malformed(
                    "n_features_in_",
                    format!("is {n} but it is given {w} columns"),
                ));
            }
            (Some(n), _) | (None, Some(n)) => n,
            (None, None) => return Err(state.malformed("n_features_in_", "is missing")),
        };
        state.check_n_features(n_features, "its input")?;
        Ok(Self {
            label: state.label(),
            n_features,
            validate,
        })
    }
}

/// Whether `func` is `functools.partial(check_array, …)`: numbers in, the same numbers out.
fn wraps_check_array(heap: &Heap<'_>, func: Value) -> bool {
    let Some(Node::Object(object)) = heap.node(func) else {
        return false;
    };
    let wrapped = heap
        .tuple(object.args)
        .and_then(|args| args.first().copied());
    object.class == Callable::Partial
        && matches!(wrapped.and_then(|w| heap.node(w)),
            Some(Node::Global(c)) if c.name() == PARTIAL_MAY_WRAP)
}

impl Transformer for FunctionTransformer {
    fn class(&self) -> &'static str {
        SkClass::FunctionTransformer.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn sources(&self) -> Vec<usize> {
        (0..self.n_features).collect()
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        input.to_vec()
    }

    fn needs(&self) -> Vec<Needs> {
        let need = if self.validate {
            Needs::Kind(ColumnKind::Number)
        } else {
            Needs::AsOutput
        };
        vec![need; self.n_features]
    }

    fn transform(&self, data: Data) -> Result<Data, crate::model::estimator::Refusal> {
        if self.validate {
            let (values, dtype) = data.into_numbers(&self.label)?;
            return Ok(Data::Numbers { values, dtype });
        }
        Ok(data)
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({ "class": "FunctionTransformer", "func": null, "columns": input })
    }
}
