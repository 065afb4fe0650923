//! What an inference gives back, as every protocol encodes it: output tensors with their
//! datatypes and shapes, labels in their own type (or as text when outputs mix types), and
//! the metadata of the tensors a model takes and gives.

use std::borrow::Cow;

use super::tensor::Datatype;
use crate::model::{Classes, ColumnKind, Label, Method, Model};

/// The name of the one input of a model fed a matrix.
pub const INPUT: &str = "x";

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

/// The model's input tensors: one of BYTES for a model of one text column, one per known
/// feature for a model of rows of named features, one per column for a Pipeline that names
/// its columns (BYTES where it takes strings), else one of rows.
pub fn inputs_of(model: &Model) -> Vec<TensorMetadata> {
    // Rows of named features: each feature the model knows, as an input of its own that a
    // request may leave out; strings may come several to a row (`[N, k]`).
    if let Some(features) = model.named_features() {
        return features
            .into_iter()
            .map(|(name, kind)| TensorMetadata {
                name,
                datatype: if kind == ColumnKind::Text {
                    Datatype::Bytes
                } else {
                    Datatype::Fp64
                },
                shape: [-1, if kind == ColumnKind::Text { -1 } else { 1 }],
            })
            .collect();
    }
    if let Some(column) = model.input().text_column() {
        return vec![TensorMetadata {
            name: if model.input().named {
                column.name.clone()
            } else {
                INPUT.into()
            },
            datatype: Datatype::Bytes,
            shape: [-1, 1],
        }];
    }
    if model.is_pipeline() && model.input().named {
        return model
            .input()
            .columns
            .iter()
            .filter(|c| !matches!(c.kind, ColumnKind::Unused | ColumnKind::Mapping))
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

/// The model's output tensors, one per [`Method`] it answers: `predict` (labels, or a
/// regressor's values), then its numeric outputs (`predict_proba`, `decision_function`, …).
pub fn outputs_of(model: &Model) -> Vec<TensorMetadata> {
    model
        .methods()
        .iter()
        .map(|&method| {
            let datatype = match (method, model.output_classes()) {
                (Method::Predict, Some(classes)) => label_datatype(classes),
                _ => Datatype::Fp64,
            };
            TensorMetadata {
                name: method.name().into(),
                datatype,
                shape: [-1, model.width(method) as i64],
            }
        })
        .collect()
}

/// The extensions of the protocol skserve serves, for server metadata.
pub const EXTENSIONS: &[&str] = &["binary_tensor_data"];

#[cfg(test)]
mod tests {
    use super::*;

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
