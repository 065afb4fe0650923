//! The one path from a request to a model, whichever protocol brought it: the seed form, V1,
//! V2 over REST (JSON or binary tensors) and gRPC, and `skserve predict`. Each protocol decodes
//! its input into a [`Request`] (tensors, rows of numbers or named columns; the outputs wanted;
//! whether to explain), [`infer`] checks it against the model and predicts, and the protocol
//! encodes the [`Inference`] its own way. Everything between is decided here and nowhere else:
//! the row limit, the shape rules and casts of tensors, which outputs a model gives, the calls
//! to `predict`, `predict_proba`, `decision_function` and the rest, the explanations, and the
//! one place every prediction is seen ([`Observer`]).
//!
//! What must not live here: parsing or writing JSON, forms, CSV, HTTP or protobuf (the
//! protocols), the arithmetic of prediction and the checks of a column's values
//! (`crate::model`).
//!
//! # Layout
//! - `tensor`: datatypes, element counts, numbers and raw little-endian elements.
//! - `from_tensors`: V2 tensors into the model's input (a matrix, or named columns).
//! - `outputs`: output tensors, labels and their datatypes, tensor metadata.
//! - `explain`: per-feature contributions of a prediction.
//! - `observer`: what sees every prediction.

pub mod explain;
mod from_tensors;
pub mod observer;
pub mod outputs;
pub mod tensor;

use std::borrow::Cow;

use ndarray::Array2;

pub use explain::Explanation;
pub use observer::{Both, Observer, Seen, SeenInput, Unobserved};
pub use outputs::{
    EXTENSIONS, INPUT, Output, OutputData, TensorMetadata, inputs_of, label_datatype, label_text,
    labels, outputs_of,
};
pub use tensor::{Datatype, Element, InputTensor, TensorData};

use crate::model::{Dtype, Features, Frame, InputError, Method, Model, Prediction};
use crate::registry::LoadedModel;

/// The output of predicted labels (the default).
pub const PREDICT: &str = "predict";
/// The output of class probabilities.
pub const PREDICT_PROBA: &str = "predict_proba";

/// Why a request cannot be answered. Each protocol says it its own way: HTTP 400, 422 and 413,
/// gRPC `INVALID_ARGUMENT` and `RESOURCE_EXHAUSTED`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InferError {
    /// The request is malformed: its structure, shapes, sizes or datatypes.
    #[error("{0}")]
    Invalid(String),
    /// A well-formed request the model cannot take (its width, its values).
    #[error("{0}")]
    Unprocessable(String),
    /// An output the model does not give (`predict_proba` of a regressor).
    #[error("this model ({chain}) has no '{method}'")]
    NoSuchOutput { method: Method, chain: String },
    #[error("the request has {rows} rows, more than the limit of {limit} rows per request")]
    TooManyRows { rows: usize, limit: usize },
}

impl From<InputError> for InferError {
    fn from(e: InputError) -> Self {
        Self::Unprocessable(e.to_string())
    }
}

/// An inference request, whichever protocol brought it.
#[derive(Debug)]
pub struct Request<'a> {
    pub input: Input<'a>,
    /// The outputs asked for by name; none asks for the default (`predict`, or `transform`
    /// for a model that only transforms).
    pub outputs: Vec<Cow<'a, str>>,
    /// MLServer's request parameter `predict_proba: true` (and V1's `?proba=true`):
    /// `predict_proba` besides the default output.
    pub predict_proba: bool,
    /// Explain each row feature by feature.
    pub explain: bool,
    /// Score each row's predicted class: its probability when the model has
    /// `predict_proba`, else its decision value (the largest over classes when there are
    /// several), as `skserve predict` prints it.
    pub score: bool,
}

/// What a request gives the model.
#[derive(Debug)]
pub enum Input<'a> {
    /// V2 tensors: one of rows, or one per named column.
    Tensors(Vec<InputTensor<'a>>),
    /// Positional rows of numbers, row-major, as a protocol's lists carry them (the seed's
    /// `x`, V1's rows, a CSV without a header), in numpy's `dtype`.
    Rows { values: Vec<f64>, dtype: Dtype },
    /// Named columns of their own types (V1's objects, a CSV with a header).
    Frame(Frame),
}

impl<'a> Request<'a> {
    /// A request for the model's default output of `input`.
    pub fn new(input: Input<'a>) -> Self {
        Self {
            input,
            outputs: Vec::new(),
            predict_proba: false,
            explain: false,
            score: false,
        }
    }
}

/// What a server holds every prediction to, and who sees it.
#[derive(Clone, Copy, Debug)]
pub struct Context<'o> {
    pub max_batch_rows: usize,
    pub observer: &'o dyn Observer,
}

impl Context<'static> {
    /// No row limit and no observer: `skserve predict` on a file.
    pub fn unbounded() -> Self {
        Self {
            max_batch_rows: usize::MAX,
            observer: &Unobserved,
        }
    }
}

/// What a model answered: the input it saw, what it predicted, the outputs asked for and,
/// when asked, explanations.
#[derive(Debug)]
pub struct Inference<'m> {
    loaded: &'m LoadedModel,
    input: ModelInput,
    /// `predict`'s answer, for a model that predicts (whether or not the request asked for
    /// it: explanations and the observer read it).
    predicted: Option<Prediction>,
    /// Whether the answer carries `predict`.
    with_predict: bool,
    /// The numeric outputs asked for, in the model's order, each row-major.
    values: Vec<(Method, Array2<f64>)>,
    explanations: Option<Vec<Explanation<'m>>>,
    /// Each row's score, when asked.
    scores: Option<Vec<f64>>,
}

/// A request's input as the model takes it.
#[derive(Debug)]
enum ModelInput {
    /// Rows of numbers, row-major, as the client typed them.
    Matrix { values: Vec<f64>, dtype: Dtype },
    /// Named columns.
    Frame(Frame),
}

impl ModelInput {
    fn features(&self, model: &Model) -> Result<Features<'_>, InputError> {
        match self {
            Self::Matrix { values, dtype } => model.rows_typed(values, *dtype),
            Self::Frame(frame) => model.features(frame),
        }
    }

    fn seen(&self, model: &Model) -> SeenInput<'_> {
        match self {
            Self::Matrix { values, .. } => SeenInput::Rows {
                values,
                n_features: model.n_features(),
            },
            Self::Frame(frame) => SeenInput::Frame(frame),
        }
    }
}

/// Checks `request` against the model of `loaded`, predicts, and keeps what was asked for;
/// `context`'s observer sees the answer, or the refusal. Nothing is allocated for tensor data
/// before its size is checked against its shape, and the row count against the limit.
pub fn infer<'m>(
    loaded: &'m LoadedModel,
    request: Request<'_>,
    context: &Context<'_>,
) -> Result<Inference<'m>, InferError> {
    let answered = answer(loaded, request, context.max_batch_rows);
    match &answered {
        Ok(inference) => context.observer.answered(&inference.seen()),
        Err(error) => context.observer.refused(loaded, error),
    }
    answered
}

fn answer<'m>(
    loaded: &'m LoadedModel,
    request: Request<'_>,
    max_batch_rows: usize,
) -> Result<Inference<'m>, InferError> {
    let model = loaded.model();
    let Request {
        input,
        outputs,
        predict_proba,
        explain,
        score,
    } = request;
    let too_many = |rows: usize| {
        (rows > max_batch_rows).then_some(InferError::TooManyRows {
            rows,
            limit: max_batch_rows,
        })
    };
    let input = match input {
        Input::Tensors(tensors) => from_tensors::model_input(model, tensors, max_batch_rows)?,
        Input::Rows { values, dtype } => {
            if let Some(error) = too_many(values.len() / model.n_features().max(1)) {
                return Err(error);
            }
            ModelInput::Matrix { values, dtype }
        }
        Input::Frame(frame) => {
            if let Some(error) = too_many(frame.n_rows) {
                return Err(error);
            }
            ModelInput::Frame(frame)
        }
    };
    let wanted = Wanted::of(model, &outputs, predict_proba)?;

    let features = input.features(model)?;
    let mut values = Vec::with_capacity(wanted.values.len());
    let predicted = if !model.predicts() {
        None
    } else if wanted.values.contains(&Method::PredictProba) {
        // One pass over the rows for both, where the estimator allows it.
        let (predicted, proba) = model.predict_with_proba(&features);
        values.extend(proba.map(|p| (Method::PredictProba, standard_layout(p))));
        Some(predicted)
    } else {
        Some(model.predict(&features))
    };
    for &method in &wanted.values {
        if method == Method::PredictProba && model.predicts() {
            continue;
        }
        let computed = model
            .values(method, &features)
            .ok_or_else(|| InferError::NoSuchOutput {
                method,
                chain: model.chain().to_owned(),
            })?;
        values.push((method, standard_layout(computed)));
    }
    values.sort_by_key(|(method, _)| *method);
    let predicted = predicted.map(|predicted| match predicted {
        Prediction::Values(v) => Prediction::Values(standard_layout(v)),
        classes => classes,
    });
    let explanations = if explain {
        Some(explain::explain(
            loaded,
            &features,
            predicted.as_ref(),
            input.frame(),
        )?)
    } else {
        None
    };
    let scores = if score {
        scores(model, &features, &values)
    } else {
        None
    };
    drop(features);
    Ok(Inference {
        loaded,
        input,
        predicted,
        with_predict: wanted.predict,
        values,
        explanations,
        scores,
    })
}

/// Each row's score: its largest probability, else its largest decision value; `None` for a
/// model with neither (a regressor). Probabilities already computed are not computed again.
fn scores(
    model: &Model,
    features: &Features<'_>,
    values: &[(Method, Array2<f64>)],
) -> Option<Vec<f64>> {
    let computed = values
        .iter()
        .find(|(m, _)| *m == Method::PredictProba)
        .map(|(_, p)| p.clone());
    let scores = computed
        .or_else(|| model.predict_proba(features))
        .or_else(|| model.decision_function(features))?;
    Some(
        scores
            .rows()
            .into_iter()
            .map(|row| row.iter().copied().fold(f64::NEG_INFINITY, f64::max))
            .collect(),
    )
}

/// Which outputs a request wants of a model.
struct Wanted {
    /// `predict`.
    predict: bool,
    /// The numeric outputs, in the model's order.
    values: Vec<Method>,
}

impl Wanted {
    /// The outputs named in `outputs` (none: the model's default), with `predict_proba` when
    /// `predict_proba` is set; each must be one the model gives.
    fn of(
        model: &Model,
        outputs: &[Cow<'_, str>],
        predict_proba: bool,
    ) -> Result<Self, InferError> {
        // A model that does not predict answers its first output (`transform`, or a
        // density's `score_samples`).
        let default = if model.predicts() {
            Method::Predict
        } else {
            model
                .methods()
                .first()
                .copied()
                .unwrap_or(Method::Transform)
        };
        let mut asked = Vec::with_capacity(outputs.len() + 2);
        for name in outputs {
            match Method::parse(name) {
                // Probabilities are what a client most often expects of a classifier: asking a
                // model without them is a request it cannot take (422), as MLServer says it.
                Some(method) if model.has(method) || method == Method::PredictProba => {
                    asked.push(method);
                }
                Some(method) if model.withheld(method).is_some() => {
                    let why = model.withheld(method).unwrap_or_default();
                    return Err(InferError::Invalid(format!(
                        "'{name}' is refused for this model: {why}"
                    )));
                }
                _ => {
                    let offered: Vec<String> =
                        model.methods().iter().map(|m| format!("'{m}'")).collect();
                    let (list, verb) = match offered.as_slice() {
                        [one] => (one.clone(), "is an output"),
                        [rest @ .., last] => {
                            (format!("{} and {last}", rest.join(", ")), "are outputs")
                        }
                        [] => ("nothing".into(), "is an output"),
                    };
                    return Err(InferError::Invalid(format!(
                        "only {list} {verb} of this model ('{name}' was asked for)"
                    )));
                }
            }
        }
        if outputs.is_empty() {
            asked.push(default);
        }
        if predict_proba {
            asked.push(Method::PredictProba);
        }
        if let Some(&method) = asked.iter().find(|m| !model.has(**m)) {
            return Err(InferError::NoSuchOutput {
                method,
                chain: model.chain().to_owned(),
            });
        }
        let mut values: Vec<Method> = asked
            .iter()
            .copied()
            .filter(|m| *m != Method::Predict)
            .collect();
        values.sort();
        values.dedup();
        Ok(Self {
            predict: asked.contains(&Method::Predict),
            values,
        })
    }
}

/// Row-major, so that its elements are one slice.
fn standard_layout(values: Array2<f64>) -> Array2<f64> {
    if values.is_standard_layout() {
        values
    } else {
        values.as_standard_layout().into_owned()
    }
}

impl<'m> Inference<'m> {
    /// The model that answered.
    pub fn loaded(&self) -> &'m LoadedModel {
        self.loaded
    }

    /// The client's named columns, when it sent them.
    pub fn frame(&self) -> Option<&Frame> {
        self.input.frame()
    }

    /// `predict`'s answer; `None` for a model that only transforms.
    pub fn predicted(&self) -> Option<&Prediction> {
        self.predicted.as_ref()
    }

    /// Whether the request asked for `predict`.
    pub fn with_predict(&self) -> bool {
        self.with_predict
    }

    /// A numeric output the request asked for, rows × its width.
    pub fn values(&self, method: Method) -> Option<&Array2<f64>> {
        self.values
            .iter()
            .find(|(m, _)| *m == method)
            .map(|(_, values)| values)
    }

    /// The explanations, when asked.
    pub fn explanations(&self) -> Option<&[Explanation<'m>]> {
        self.explanations.as_deref()
    }

    /// Each row's score, when asked and the model has one.
    pub fn scores(&self) -> Option<&[f64]> {
        self.scores.as_deref()
    }

    pub fn n_rows(&self) -> usize {
        match (&self.predicted, self.values.first()) {
            (Some(predicted), _) => predicted.n_rows(),
            (None, Some((_, values))) => values.nrows(),
            (None, None) => 0,
        }
    }

    /// What the observer is shown.
    fn seen(&self) -> Seen<'_> {
        Seen {
            model: self.loaded,
            input: self.input.seen(self.loaded.model()),
            predicted: self.predicted.as_ref(),
            n_rows: self.n_rows(),
        }
    }

    /// The outputs asked for, in the protocol's order: `predict`, then the numeric outputs in
    /// the model's order (`predict_proba`, `decision_function`, …).
    pub fn outputs(&self) -> impl Iterator<Item = Output<'_>> {
        let model = self.loaded.model();
        let n_rows = self.n_rows();
        let classes = model.output_classes();
        let predict = match (&self.predicted, classes) {
            _ if !self.with_predict => None,
            (Some(Prediction::Classes(indices)), Some(classes)) => Some(Output {
                name: PREDICT,
                datatype: label_datatype(classes),
                shape: [n_rows, 1],
                data: OutputData::Labels { classes, indices },
            }),
            (Some(Prediction::MultiClasses(indices)), Some(classes)) => Some(Output {
                name: PREDICT,
                datatype: label_datatype(classes),
                shape: [n_rows, classes.len()],
                // Made row-major by `infer`.
                data: OutputData::Labels {
                    classes,
                    indices: indices.as_slice().unwrap_or(&[]),
                },
            }),
            (Some(Prediction::Values(values)), _) => Some(Output {
                name: PREDICT,
                datatype: Datatype::Fp64,
                shape: [n_rows, values.ncols()],
                // Made row-major by `infer`.
                data: OutputData::Floats(values.as_slice().unwrap_or(&[])),
            }),
            (Some(Prediction::Classes(_) | Prediction::MultiClasses(_)), None) | (None, _) => None,
        };
        let values = self.values.iter().map(move |(method, values)| Output {
            name: method.name(),
            datatype: Datatype::Fp64,
            shape: [n_rows, values.ncols()],
            data: OutputData::Floats(values.as_slice().unwrap_or(&[])),
        });
        predict.into_iter().chain(values)
    }
}

impl ModelInput {
    fn frame(&self) -> Option<&Frame> {
        match self {
            Self::Frame(frame) => Some(frame),
            Self::Matrix { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{EMBEDDED_FEATURES, EMBEDDED_MODEL};

    fn model() -> LoadedModel {
        LoadedModel::from_bytes("m", EMBEDDED_MODEL, "m.pkl", Some(EMBEDDED_FEATURES)).unwrap()
    }

    fn request<'a>(shape: Vec<i64>, data: TensorData<'a>, outputs: &[&'static str]) -> Request<'a> {
        Request {
            input: Input::Tensors(vec![InputTensor {
                name: "x".into(),
                datatype: Datatype::Fp64,
                shape,
                data,
            }]),
            outputs: outputs.iter().map(|&o| o.into()).collect(),
            predict_proba: false,
            explain: false,
            score: false,
        }
    }

    fn limited(max_batch_rows: usize) -> Context<'static> {
        Context {
            max_batch_rows,
            observer: &Unobserved,
        }
    }

    #[test]
    fn raw_and_numbers_predict_alike() {
        let loaded = model();
        let row: Vec<f64> = (0..37).map(|i| f64::from(i % 2)).collect();
        let raw: Vec<u8> = row.iter().flat_map(|v| v.to_le_bytes()).collect();
        let from_numbers = infer(
            &loaded,
            request(
                vec![1, 37],
                TensorData::Numbers(row.clone()),
                &[PREDICT_PROBA],
            ),
            &limited(10),
        )
        .unwrap();
        let from_raw = infer(
            &loaded,
            request(vec![1, 37], TensorData::Raw(&raw), &[PREDICT_PROBA]),
            &limited(10),
        )
        .unwrap();
        let floats = |inference: &Inference<'_>| match inference.outputs().next().unwrap().data {
            OutputData::Floats(values) => values.to_vec(),
            OutputData::Labels { .. } => panic!("predict_proba comes first when asked alone"),
        };
        assert_eq!(floats(&from_numbers), floats(&from_raw));
        assert_eq!(from_raw.outputs().count(), 1);
    }

    #[test]
    fn sizes_then_rows_are_checked_before_raw_data_is_decoded() {
        let loaded = model();
        let short = infer(
            &loaded,
            request(vec![1_000_000, 37], TensorData::Raw(&[]), &[]),
            &limited(10),
        );
        assert!(matches!(short, Err(InferError::Invalid(_))), "{short:?}");
        let eleven_rows = vec![0u8; 11 * 37 * 8];
        let error = infer(
            &loaded,
            request(vec![11, 37], TensorData::Raw(&eleven_rows), &[]),
            &limited(10),
        )
        .unwrap_err();
        assert_eq!(
            error,
            InferError::TooManyRows {
                rows: 11,
                limit: 10
            }
        );
    }

    #[test]
    fn rows_and_tensors_meet_the_same_limit_and_give_the_same_answer() {
        let loaded = model();
        let row: Vec<f64> = (0..37).map(|i| f64::from(i % 3 == 0)).collect();
        let two_rows = [row.clone(), row.clone()].concat();
        let rows = |values: Vec<f64>| Request {
            outputs: vec![PREDICT.into(), PREDICT_PROBA.into()],
            ..Request::new(Input::Rows {
                values,
                dtype: Dtype::F64,
            })
        };
        let error = infer(&loaded, rows(two_rows), &limited(1)).unwrap_err();
        assert_eq!(error, InferError::TooManyRows { rows: 2, limit: 1 });

        let from_rows = infer(&loaded, rows(row.clone()), &limited(1)).unwrap();
        let from_tensor = infer(
            &loaded,
            request(
                vec![1, 37],
                TensorData::Numbers(row),
                &[PREDICT, PREDICT_PROBA],
            ),
            &limited(1),
        )
        .unwrap();
        assert_eq!(from_rows.predicted(), from_tensor.predicted());
        assert_eq!(
            from_rows.values(Method::PredictProba),
            from_tensor.values(Method::PredictProba)
        );
    }

    #[test]
    fn outputs_the_model_lacks_are_named() {
        let loaded = model();
        let row = vec![0.0; 37];
        let asking = |outputs: &[&'static str]| {
            infer(
                &loaded,
                request(vec![1, 37], TensorData::Numbers(row.clone()), outputs),
                &limited(1),
            )
        };
        assert!(matches!(
            asking(&["score_samples"]).unwrap_err(),
            InferError::Invalid(_)
        ));
        let unknown = asking(&["probabilities"]).unwrap_err().to_string();
        assert_eq!(
            unknown,
            "only 'predict', 'predict_proba' and 'decision_function' are outputs of this model \
             ('probabilities' was asked for)"
        );
        // A classifier's decision values are an output of their own.
        let decision = asking(&["decision_function"]).unwrap();
        assert_eq!(
            decision.values(Method::DecisionFunction).map(|d| d.dim()),
            Some((1, 1))
        );
    }
}
