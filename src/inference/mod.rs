//! Inference as the Open Inference Protocol (V2) defines it, whatever carries it: REST with JSON
//! or binary tensors (`crate::http`), gRPC (`crate::grpc`). Each transport turns its request into
//! a [`Request`] of [`InputTensor`]s, [`infer`] checks it against the model and predicts, and the
//! transport encodes the [`Inference`]'s outputs its own way. One implementation of the model
//! logic behind every protocol: the shape rules, the casts, the limits, the outputs and their
//! order are decided here and nowhere else.
//!
//! What must not live here: parsing or writing JSON, HTTP or protobuf (the transports), the
//! arithmetic of prediction (`crate::model`).
//!
//! # Layout
//! - `tensor`: datatypes, element counts, numbers and raw little-endian elements.

pub mod tensor;

use std::borrow::Cow;

pub use tensor::{Datatype, InputTensor, TensorData};

use crate::model::{Classes, Model, Rows};
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

/// An inference request, whichever protocol brought it.
#[derive(Debug)]
pub struct Request<'a> {
    pub inputs: Vec<InputTensor<'a>>,
    /// The outputs asked for by name, in order; none asks for the default (`predict`).
    pub outputs: Vec<Cow<'a, str>>,
    /// The request parameter `predict_proba: true`, as MLServer takes it.
    pub predict_proba: bool,
}

/// What a model answered: the rows it saw, the labels it chose and, when asked, probabilities.
#[derive(Debug)]
pub struct Inference<'m> {
    model: &'m Model,
    values: Vec<f64>,
    predicted: Vec<usize>,
    proba: Option<Vec<f64>>,
    with_predict: bool,
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
    /// Predicted labels: the class of each row by its index.
    Labels {
        classes: &'a Classes,
        indices: &'a [usize],
    },
    Floats(&'a [f64]),
}

/// Checks `request` against the model of `loaded`, predicts, and keeps what was asked for.
/// Nothing is allocated for tensor data before its size is checked against its shape, and the
/// row count against `max_batch_rows`.
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
    let input = match inputs.len() {
        1 => inputs.pop().expect("one input"),
        n => {
            return Err(InferError::Invalid(format!(
                "expected exactly one input tensor, got {n}"
            )));
        }
    };
    input.check_size()?;
    let n_rows = rows_of(&input.name, &input.shape, model.n_features())?;
    if n_rows > max_batch_rows {
        return Err(InferError::TooManyRows {
            rows: n_rows,
            limit: max_batch_rows,
        });
    }

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
            model.estimator().name()
        )));
    }

    let values = input.into_values()?;
    let rows = model
        .rows(&values)
        .map_err(|e| InferError::Unprocessable(e.to_string()))?;
    let predicted = model.predict(rows);
    let proba = if with_proba {
        model.predict_proba(rows)
    } else {
        None
    };
    Ok(Inference {
        model,
        predicted,
        proba,
        with_predict: with_predict || !with_proba,
        values,
    })
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
    /// The rows the model predicted, as it saw them (for explanations).
    pub fn rows(&self) -> Rows<'_> {
        self.model
            .rows(&self.values)
            .expect("the rows were checked before predicting")
    }

    /// The class index predicted for each row.
    pub fn predicted(&self) -> &[usize] {
        &self.predicted
    }

    pub fn n_rows(&self) -> usize {
        self.predicted.len()
    }

    /// The outputs asked for, in the protocol's order: `predict`, then `predict_proba`.
    pub fn outputs(&self) -> impl Iterator<Item = Output<'_>> {
        let n_rows = self.n_rows();
        let classes = self.model.classes();
        let predict = self.with_predict.then(|| Output {
            name: PREDICT,
            datatype: label_datatype(classes),
            shape: [n_rows, 1],
            data: OutputData::Labels {
                classes,
                indices: &self.predicted,
            },
        });
        let proba = self.proba.as_deref().map(|proba| Output {
            name: PREDICT_PROBA,
            datatype: Datatype::Fp64,
            shape: [n_rows, classes.len()],
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
            Self::Labels { classes, indices } => match classes {
                Classes::Int(_) | Classes::Float(_) => indices.len() * 8,
                Classes::Bool(_) => indices.len(),
                Classes::Str(labels) => indices.iter().map(|&i| 4 + labels[i].len()).sum(),
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
                for &i in *indices {
                    match classes {
                        Classes::Int(v) => out.extend(v[i].to_le_bytes()),
                        Classes::Float(v) => out.extend(v[i].to_le_bytes()),
                        Classes::Bool(v) => out.push(u8::from(v[i])),
                        Classes::Str(v) => {
                            let length = u32::try_from(v[i].len()).unwrap_or(u32::MAX);
                            out.extend(length.to_le_bytes());
                            out.extend(v[i].as_bytes());
                        }
                    }
                }
            }
        }
    }
}

/// The datatype of a model's labels.
pub fn label_datatype(classes: &Classes) -> Datatype {
    match classes {
        Classes::Int(_) => Datatype::Int64,
        Classes::Float(_) => Datatype::Fp64,
        Classes::Bool(_) => Datatype::Bool,
        Classes::Str(_) => Datatype::Bytes,
    }
}

/// A tensor a model takes or gives, as metadata describes it (`-1`: any size).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorMetadata {
    pub name: &'static str,
    pub datatype: Datatype,
    pub shape: [i64; 2],
}

/// The model's input tensors.
pub fn inputs_of(model: &Model) -> Vec<TensorMetadata> {
    vec![TensorMetadata {
        name: INPUT,
        datatype: Datatype::Fp64,
        shape: [-1, model.n_features() as i64],
    }]
}

/// The model's output tensors: `predict`, and `predict_proba` when it has one.
pub fn outputs_of(model: &Model) -> Vec<TensorMetadata> {
    let mut outputs = vec![TensorMetadata {
        name: PREDICT,
        datatype: label_datatype(model.classes()),
        shape: [-1, 1],
    }];
    if model.has_predict_proba() {
        outputs.push(TensorMetadata {
            name: PREDICT_PROBA,
            datatype: Datatype::Fp64,
            shape: [-1, model.classes().len() as i64],
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
        let classes = Classes::Str(vec!["on time".into(), "late".into()]);
        let data = OutputData::Labels {
            classes: &classes,
            indices: &[1, 0],
        };
        let mut raw = Vec::new();
        data.write_raw(&mut raw);
        assert_eq!(raw.len(), data.raw_len());
        assert_eq!(&raw[..8], b"\x04\0\0\0late");
        let classes = Classes::Int(vec![0, -3]);
        let mut raw = Vec::new();
        OutputData::Labels {
            classes: &classes,
            indices: &[1],
        }
        .write_raw(&mut raw);
        assert_eq!(raw, (-3i64).to_le_bytes());
    }
}
