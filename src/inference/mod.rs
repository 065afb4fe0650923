//! Inference as the Open Inference Protocol (V2) defines it, whatever carries it: REST with JSON
//! or binary tensors (`crate::http`), gRPC (`crate::grpc`). Each transport turns its request into
//! a [`Request`] of [`InputTensor`]s, [`infer`] checks it against the model and predicts, and the
//! transport encodes the [`Inference`]'s outputs its own way. One implementation of the model
//! logic behind every protocol: the shape rules, the casts, the limits, the outputs and their
//! order are decided here and nowhere else. A model that names its columns takes one tensor per
//! column, built here into the model's own typed input (`crate::model::Frame`), BYTES elements
//! as strings, so that V1, the seed form, the CLI and every V2 transport meet the same checks.
//!
//! What must not live here: parsing or writing JSON, HTTP or protobuf (the transports), the
//! arithmetic of prediction and the checks of a column's values (`crate::model`).
//!
//! # Layout
//! - `tensor`: datatypes, element counts, numbers and raw little-endian elements.

pub mod tensor;

use std::borrow::Cow;

use ndarray::Array2;
pub use tensor::{Datatype, Element, InputTensor, TensorData};

use crate::model::{
    Absent, Cell, Classes, ColumnKind, Dtype, Features, Frame, FrameBuilder, InputError, Label,
    Model, Prediction, Target,
};
use crate::registry::LoadedModel;

/// The output of predicted labels (the default).
pub const PREDICT: &str = "predict";
/// The output of class probabilities.
pub const PREDICT_PROBA: &str = "predict_proba";
/// The name of the one input of a model fed a matrix.
pub const INPUT: &str = "x";

/// Why a request cannot be answered. Each transport says it its own way: HTTP 400, 422 and 413,
/// gRPC `INVALID_ARGUMENT` and `RESOURCE_EXHAUSTED`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InferError {
    /// The request is malformed: its structure, shapes, sizes or datatypes.
    #[error("{0}")]
    Invalid(String),
    /// A well-formed request the model cannot take (its width, its values, an output it lacks).
    #[error("{0}")]
    Unprocessable(String),
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
    /// One tensor of rows, or one tensor per column for a model that names its columns.
    pub inputs: Vec<InputTensor<'a>>,
    /// The outputs asked for by name, in order; none asks for the default (`predict`).
    pub outputs: Vec<Cow<'a, str>>,
    /// The request parameter `predict_proba: true`, as MLServer takes it.
    pub predict_proba: bool,
}

/// What a model answered: the input it saw, what it predicted and, when asked, probabilities.
#[derive(Debug)]
pub struct Inference<'m> {
    model: &'m Model,
    input: ModelInput,
    predicted: Prediction,
    /// Rows × classes, row-major.
    proba: Option<Vec<f64>>,
    with_predict: bool,
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
}

/// One output tensor of an [`Inference`].
#[derive(Clone, Copy, Debug)]
pub struct Output<'a> {
    pub name: &'static str,
    pub datatype: Datatype,
    pub shape: [usize; 2],
    pub data: OutputData<'a>,
}

/// The elements of an output.
#[derive(Clone, Copy, Debug)]
pub enum OutputData<'a> {
    /// Predicted labels, row-major (`rows × outputs`): element `i` indexes the classes of
    /// output `i % classes.len()` (one entry per output; one for most classifiers).
    Labels {
        classes: &'a [Classes],
        indices: &'a [usize],
    },
    /// Probabilities, or a regressor's values, row-major.
    Floats(&'a [f64]),
}

/// Checks `request` against the model of `loaded`, predicts, and keeps what was asked for.
/// Nothing is allocated for tensor data before its size is checked against its shape, and the
/// row count against `max_batch_rows`.
///
/// The input is one tensor of rows (`[N, n_features]`), or, for a model that names its
/// columns, one tensor per column (`[N]` or `[N, 1]`, BYTES for strings). A single 1-D tensor
/// named like one of the model's columns is a column.
pub fn infer<'m>(
    loaded: &'m LoadedModel,
    request: Request<'_>,
    max_batch_rows: usize,
) -> Result<Inference<'m>, InferError> {
    let model = loaded.model();
    let Request {
        mut inputs,
        outputs,
        predict_proba,
    } = request;
    let schema = model.input();
    let input = match inputs.as_slice() {
        [] => {
            return Err(InferError::Invalid(
                "expected exactly one input tensor, got 0".into(),
            ));
        }
        [one] if schema.position(&one.name).is_none() || one.shape.len() != 1 => {
            matrix(model, inputs.pop().expect("one input"), max_batch_rows)?
        }
        _ if schema.named => ModelInput::Frame(frame(model, inputs, max_batch_rows)?),
        _ => {
            return Err(InferError::Invalid(format!(
                "expected exactly one input tensor, got {} (this model does not name its columns)",
                inputs.len()
            )));
        }
    };

    let mut with_proba = predict_proba;
    let mut with_predict = outputs.is_empty();
    for output in &outputs {
        match output.as_ref() {
            PREDICT => with_predict = true,
            PREDICT_PROBA => with_proba = true,
            other => {
                return Err(InferError::Invalid(format!(
                    "only '{PREDICT}' and '{PREDICT_PROBA}' are outputs of this model \
                     ('{other}' was asked for)"
                )));
            }
        }
    }
    if with_proba && !model.has_predict_proba() {
        return Err(InferError::Unprocessable(format!(
            "this model ({}) has no '{PREDICT_PROBA}'",
            model.chain()
        )));
    }

    let features = input.features(model)?;
    let (predicted, proba) = if with_proba {
        model.predict_with_proba(&features)
    } else {
        (model.predict(&features), None)
    };
    let predicted = match predicted {
        Prediction::Values(values) => Prediction::Values(standard_layout(values)),
        classes => classes,
    };
    let proba = proba.map(|p| standard_layout(p).into_raw_vec_and_offset().0);
    drop(features);
    Ok(Inference {
        model,
        input,
        predicted,
        proba,
        with_predict: with_predict || !with_proba,
    })
}

/// Row-major, so that its elements are one slice.
fn standard_layout(values: Array2<f64>) -> Array2<f64> {
    if values.is_standard_layout() {
        values
    } else {
        values.as_standard_layout().into_owned()
    }
}

/// The numeric type numpy would hold a tensor of `datatype` as.
fn dtype_of(datatype: Datatype) -> Dtype {
    match datatype {
        Datatype::Fp32 | Datatype::Fp16 => Dtype::F32,
        Datatype::Bool => Dtype::Bool,
        Datatype::Fp64 | Datatype::Bytes => Dtype::F64,
        Datatype::Int8
        | Datatype::Int16
        | Datatype::Int32
        | Datatype::Int64
        | Datatype::Uint8
        | Datatype::Uint16
        | Datatype::Uint32
        | Datatype::Uint64 => Dtype::Int,
    }
}

/// One tensor of rows of numbers.
fn matrix(
    model: &Model,
    input: InputTensor<'_>,
    max_batch_rows: usize,
) -> Result<ModelInput, InferError> {
    input.check_numbers()?;
    input.check_size()?;
    let n_rows = rows_of(&input.name, &input.shape, model.n_features())?;
    if n_rows > max_batch_rows {
        return Err(InferError::TooManyRows {
            rows: n_rows,
            limit: max_batch_rows,
        });
    }
    let dtype = dtype_of(input.datatype);
    Ok(ModelInput::Matrix {
        values: input.into_values()?,
        dtype,
    })
}

/// One tensor per named column: numbers in a numeric datatype, strings as BYTES, missing
/// values as JSON `null`. Every size is checked before any column is built.
fn frame(
    model: &Model,
    inputs: Vec<InputTensor<'_>>,
    max_batch_rows: usize,
) -> Result<Frame, InferError> {
    let counts = inputs
        .iter()
        .map(InputTensor::check_size)
        .collect::<Result<Vec<usize>, _>>()?;
    let n_rows = counts[0];
    if n_rows > max_batch_rows {
        return Err(InferError::TooManyRows {
            rows: n_rows,
            limit: max_batch_rows,
        });
    }
    let mut builder = model.frame_builder(n_rows);
    for (input, n) in inputs.into_iter().zip(counts) {
        let column = builder.column(&input.name)?;
        let shape_ok = match input.shape.as_slice() {
            [rows] | [rows, 1] => usize::try_from(*rows) == Ok(n),
            _ => false,
        };
        if !shape_ok {
            return Err(InferError::Invalid(format!(
                "input '{}' has shape {:?} for {n} values; a column's input has shape [N] or \
                 [N, 1]",
                input.name, input.shape
            )));
        }
        if n != n_rows {
            return Err(InputError::ColumnLength {
                column: input.name.into_owned(),
                got: n,
                expected: n_rows,
            }
            .into());
        }
        if input.datatype == Datatype::Bytes {
            builder.claim(column)?;
            set_cells(&mut builder, column, &input)?;
        } else {
            let dtype = dtype_of(input.datatype);
            builder.set_numbers(column, input.into_column_values()?, dtype)?;
        }
    }
    Ok(builder.finish(Absent::Refused)?)
}

/// The elements of a BYTES column, each checked by the builder against what the column takes.
fn set_cells(
    builder: &mut FrameBuilder<'_>,
    column: usize,
    input: &InputTensor<'_>,
) -> Result<(), InferError> {
    let name = &input.name;
    fn text<'t>(name: &str, row: usize, bytes: &'t [u8]) -> Result<Cell<'t>, InferError> {
        std::str::from_utf8(bytes).map(Cell::Text).map_err(|_| {
            InferError::Invalid(format!(
                "input '{name}': BYTES element {row} is not UTF-8 text"
            ))
        })
    }
    match &input.data {
        TensorData::Numbers(values) => {
            for (row, &v) in values.iter().enumerate() {
                builder.set(row, column, Cell::Number(v))?;
            }
        }
        TensorData::Strings(values) => {
            for (row, bytes) in values.iter().enumerate() {
                builder.set(row, column, text(name, row, bytes)?)?;
            }
        }
        TensorData::Elements(elements) => {
            for (row, element) in elements.iter().enumerate() {
                let cell = match element {
                    Element::Number(v) => Cell::Number(*v),
                    Element::Text(bytes) => text(name, row, bytes)?,
                    Element::Missing => Cell::Missing,
                };
                builder.set(row, column, cell)?;
            }
        }
        TensorData::Raw(bytes) => {
            let count = input.element_count()?;
            for (row, bytes) in tensor::raw_strings(name, bytes, count)?.iter().enumerate() {
                builder.set(row, column, text(name, row, bytes)?)?;
            }
        }
    }
    Ok(())
}

/// The rows of an input of `shape` (its element count already checked) for a model of
/// `n_features` columns: `[N, n_features]`, or `[n_features]` for one row.
fn rows_of(name: &str, shape: &[i64], n_features: usize) -> Result<usize, InferError> {
    let width = n_features as i64;
    let rows = match *shape {
        [features] if features == width => 1,
        [rows, features] if features == width => rows as usize,
        [_] | [_, _] => {
            return Err(InferError::Unprocessable(format!(
                "input '{name}' has shape {shape:?}; the model expects [N, {n_features}] \
                 ({n_features} features per row)"
            )));
        }
        _ => {
            return Err(InferError::Unprocessable(format!(
                "input '{name}' has shape {shape:?}; expected [N, {n_features}]"
            )));
        }
    };
    if rows == 0 {
        return Err(InferError::Unprocessable(format!(
            "input '{name}' has no rows"
        )));
    }
    Ok(rows)
}

impl<'m> Inference<'m> {
    /// The features the model predicted from (for explanations), computed again.
    pub fn features(&self) -> Result<Features<'_>, InferError> {
        Ok(self.input.features(self.model)?)
    }

    /// The client's named columns, when it sent them.
    pub fn frame(&self) -> Option<&Frame> {
        match &self.input {
            ModelInput::Frame(frame) => Some(frame),
            ModelInput::Matrix { .. } => None,
        }
    }

    pub fn predicted(&self) -> &Prediction {
        &self.predicted
    }

    pub fn n_rows(&self) -> usize {
        self.predicted.n_rows()
    }

    /// The outputs asked for, in the protocol's order: `predict`, then `predict_proba`.
    pub fn outputs(&self) -> impl Iterator<Item = Output<'_>> {
        let n_rows = self.n_rows();
        let classes = self.model.output_classes();
        let predict = match (&self.predicted, classes) {
            _ if !self.with_predict => None,
            (Prediction::Classes(indices), Some(classes)) => Some(Output {
                name: PREDICT,
                datatype: label_datatype(classes),
                shape: [n_rows, 1],
                data: OutputData::Labels { classes, indices },
            }),
            (Prediction::MultiClasses(indices), Some(classes)) => Some(Output {
                name: PREDICT,
                datatype: label_datatype(classes),
                shape: [n_rows, classes.len()],
                // Made row-major by `infer`.
                data: OutputData::Labels {
                    classes,
                    indices: indices.as_slice().unwrap_or(&[]),
                },
            }),
            (Prediction::Values(values), _) => Some(Output {
                name: PREDICT,
                datatype: Datatype::Fp64,
                shape: [n_rows, values.ncols()],
                // Made row-major by `infer`.
                data: OutputData::Floats(values.as_slice().unwrap_or(&[])),
            }),
            (Prediction::Classes(_) | Prediction::MultiClasses(_), None) => None,
        };
        let proba = self
            .proba
            .as_deref()
            .zip(classes)
            .map(|(proba, classes)| Output {
                name: PREDICT_PROBA,
                datatype: Datatype::Fp64,
                shape: [n_rows, classes.iter().map(Classes::len).sum()],
                data: OutputData::Floats(proba),
            });
        predict.into_iter().chain(proba)
    }
}

impl OutputData<'_> {
    /// How many bytes [`OutputData::write_raw`] writes.
    pub fn raw_len(&self) -> usize {
        match self {
            Self::Floats(values) => values.len() * 8,
            Self::Labels { classes, indices } => match label_datatype(classes) {
                Datatype::Bool => indices.len(),
                Datatype::Bytes => labels(classes, indices)
                    .map(|label| 4 + label_text(label).len())
                    .sum(),
                _ => indices.len() * 8,
            },
        }
    }

    /// Appends the elements little-endian, as the binary extension and gRPC's raw contents
    /// carry them (BYTES: each a 4-byte length, then its UTF-8).
    pub fn write_raw(&self, out: &mut Vec<u8>) {
        out.reserve(self.raw_len());
        match self {
            Self::Floats(values) => values.iter().for_each(|v| out.extend(v.to_le_bytes())),
            Self::Labels { classes, indices } => {
                let text = label_datatype(classes) == Datatype::Bytes;
                for label in labels(classes, indices) {
                    match (text, label) {
                        (true, _) | (_, Label::Str(_)) => {
                            let label = label_text(label);
                            let length = u32::try_from(label.len()).unwrap_or(u32::MAX);
                            out.extend(length.to_le_bytes());
                            out.extend(label.as_bytes());
                        }
                        (_, Label::Int(v)) => out.extend(v.to_le_bytes()),
                        (_, Label::Float(v)) => out.extend(v.to_le_bytes()),
                        (_, Label::Bool(v)) => out.push(u8::from(v)),
                    }
                }
            }
        }
    }
}

/// The labels of [`OutputData::Labels`], in order.
pub fn labels<'a>(
    classes: &'a [Classes],
    indices: &'a [usize],
) -> impl Iterator<Item = Label<'a>> + 'a {
    indices
        .iter()
        .zip(classes.iter().cycle())
        .map(|(&i, classes)| classes.label(i))
}

/// A label as a BYTES element carries it: a string as it is, another label as Python's
/// `str()` prints it (outputs of different kinds share one BYTES tensor).
pub fn label_text(label: Label<'_>) -> Cow<'_, str> {
    match label {
        Label::Str(text) => Cow::Borrowed(text),
        other => Cow::Owned(other.to_string()),
    }
}

/// The datatype of a model's labels: the one of its outputs' classes, or BYTES when outputs
/// hold labels of different kinds.
pub fn label_datatype(classes: &[Classes]) -> Datatype {
    let of = |classes: &Classes| match classes {
        Classes::Int(_) => Datatype::Int64,
        Classes::Float(_) => Datatype::Fp64,
        Classes::Bool(_) => Datatype::Bool,
        Classes::Str(_) => Datatype::Bytes,
    };
    let first = classes.first().map_or(Datatype::Bytes, of);
    if classes.iter().all(|c| of(c) == first) {
        first
    } else {
        Datatype::Bytes
    }
}

/// A tensor a model takes or gives, as metadata describes it (`-1`: any size).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorMetadata {
    pub name: String,
    pub datatype: Datatype,
    pub shape: [i64; 2],
}

/// The model's input tensors: one per column for a Pipeline that names its columns (BYTES
/// where it takes strings), else one of rows.
pub fn inputs_of(model: &Model) -> Vec<TensorMetadata> {
    if model.is_pipeline() && model.input().named {
        return model
            .input()
            .columns
            .iter()
            .filter(|c| c.kind != ColumnKind::Unused)
            .map(|c| TensorMetadata {
                name: c.name.clone(),
                datatype: if c.kind == ColumnKind::Text {
                    Datatype::Bytes
                } else {
                    Datatype::Fp64
                },
                shape: [-1, 1],
            })
            .collect();
    }
    vec![TensorMetadata {
        name: INPUT.into(),
        datatype: Datatype::Fp64,
        shape: [-1, model.n_features() as i64],
    }]
}

/// The model's output tensors: `predict` (labels, or a regressor's values), and
/// `predict_proba` when it has one.
pub fn outputs_of(model: &Model) -> Vec<TensorMetadata> {
    let Some(classes) = model.output_classes() else {
        let n_outputs = match model.target() {
            Target::Values { n_outputs, .. } => n_outputs,
            Target::Classes(_) | Target::MultiClasses(_) => 1,
        };
        return vec![TensorMetadata {
            name: PREDICT.into(),
            datatype: Datatype::Fp64,
            shape: [-1, n_outputs as i64],
        }];
    };
    let mut outputs = vec![TensorMetadata {
        name: PREDICT.into(),
        datatype: label_datatype(classes),
        shape: [-1, classes.len() as i64],
    }];
    if model.has_predict_proba() {
        outputs.push(TensorMetadata {
            name: PREDICT_PROBA.into(),
            datatype: Datatype::Fp64,
            shape: [-1, classes.iter().map(Classes::len).sum::<usize>() as i64],
        });
    }
    outputs
}

/// The extensions of the protocol skserve serves, for server metadata.
pub const EXTENSIONS: &[&str] = &["binary_tensor_data"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{EMBEDDED_FEATURES, EMBEDDED_MODEL};

    fn model() -> LoadedModel {
        LoadedModel::from_bytes("m", EMBEDDED_MODEL, "m.pkl", Some(EMBEDDED_FEATURES)).unwrap()
    }

    fn request<'a>(shape: Vec<i64>, data: TensorData<'a>, outputs: &[&'static str]) -> Request<'a> {
        Request {
            inputs: vec![InputTensor {
                name: "x".into(),
                datatype: Datatype::Fp64,
                shape,
                data,
            }],
            outputs: outputs.iter().map(|&o| o.into()).collect(),
            predict_proba: false,
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
            10,
        )
        .unwrap();
        let from_raw = infer(
            &loaded,
            request(vec![1, 37], TensorData::Raw(&raw), &[PREDICT_PROBA]),
            10,
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
            10,
        );
        assert!(matches!(short, Err(InferError::Invalid(_))), "{short:?}");
        let eleven_rows = vec![0u8; 11 * 37 * 8];
        let error = infer(
            &loaded,
            request(vec![11, 37], TensorData::Raw(&eleven_rows), &[]),
            10,
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
    fn labels_are_written_raw_in_their_datatype() {
        let classes = [Classes::Str(vec!["on time".into(), "late".into()])];
        let data = OutputData::Labels {
            classes: &classes,
            indices: &[1, 0],
        };
        let mut raw = Vec::new();
        data.write_raw(&mut raw);
        assert_eq!(raw.len(), data.raw_len());
        assert_eq!(&raw[..8], b"\x04\0\0\0late");
        let classes = [Classes::Int(vec![0, -3])];
        let mut raw = Vec::new();
        OutputData::Labels {
            classes: &classes,
            indices: &[1],
        }
        .write_raw(&mut raw);
        assert_eq!(raw, (-3i64).to_le_bytes());
    }

    #[test]
    fn outputs_of_different_kinds_share_one_bytes_tensor_as_text() {
        // Row-major, two outputs: [int label, string label] per row.
        let classes = [
            Classes::Int(vec![3, 7]),
            Classes::Str(vec!["a".into(), "bc".into()]),
        ];
        assert_eq!(label_datatype(&classes), Datatype::Bytes);
        let data = OutputData::Labels {
            classes: &classes,
            indices: &[1, 1, 0, 0],
        };
        let mut raw = Vec::new();
        data.write_raw(&mut raw);
        assert_eq!(raw.len(), data.raw_len());
        assert_eq!(raw, b"\x01\0\0\x007\x02\0\0\0bc\x01\0\0\x003\x01\0\0\0a");
        let same = [Classes::Int(vec![0, 1]), Classes::Int(vec![5, 6, 9])];
        assert_eq!(label_datatype(&same), Datatype::Int64);
    }
}
