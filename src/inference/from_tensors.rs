//! V2 tensors into the model's input: one tensor of rows (`[N, n_features]`, or
//! `[n_features]` for one row), or, for a model that names its columns, one tensor per column
//! (`[N]` or `[N, 1]`, BYTES for strings), built into the model's own typed input
//! (`crate::model::Frame`); for a model of rows of named features, one tensor per feature, a
//! BYTES tensor `[N, k]` giving each row k strings. Every size is checked against its shape, and the rows against the
//! limit, before any data is decoded.

use super::tensor::{self, Datatype, Element, InputTensor, TensorData};
use super::{InferError, ModelInput};
use crate::model::{Absent, Cell, Dtype, FrameBuilder, InputError, Model};

/// The model's input from a request's tensors: one tensor of rows, or, for a model that names
/// its columns, one tensor per column. A single 1-D tensor named like one of the model's
/// columns is a column.
pub(super) fn model_input(
    model: &Model,
    mut inputs: Vec<InputTensor<'_>>,
    max_batch_rows: usize,
) -> Result<ModelInput, InferError> {
    let schema = model.input();
    match inputs.as_slice() {
        [] => Err(InferError::Invalid(
            "expected exactly one input tensor, got 0".into(),
        )),
        // A model of one text column takes one BYTES tensor of documents, whatever its name.
        [one] if one.datatype == Datatype::Bytes && schema.text_column().is_some() => {
            Ok(ModelInput::Frame(texts(
                model,
                inputs.pop().expect("one input"),
                max_batch_rows,
            )?))
        }
        // Rows of named features: each input is a feature, whatever its name.
        _ if schema.mapping_column().is_some() => {
            Ok(ModelInput::Frame(features(model, inputs, max_batch_rows)?))
        }
        [one] if schema.position(&one.name).is_none() || one.shape.len() != 1 => {
            matrix(model, inputs.pop().expect("one input"), max_batch_rows)
        }
        _ if schema.named => Ok(ModelInput::Frame(frame(model, inputs, max_batch_rows)?)),
        _ => Err(InferError::Invalid(format!(
            "expected exactly one input tensor, got {} (this model does not name its columns)",
            inputs.len()
        ))),
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
) -> Result<crate::model::Frame, InferError> {
    let counts = sizes(&inputs)?;
    let n_rows = within(counts[0], max_batch_rows)?;
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

/// One tensor per feature of a model of rows of named features: numbers (`[N]` or `[N, 1]`)
/// in a numeric datatype, strings as BYTES, `[N, k]` for k strings to a row (a list).
fn features(
    model: &Model,
    inputs: Vec<InputTensor<'_>>,
    max_batch_rows: usize,
) -> Result<crate::model::Frame, InferError> {
    let counts = sizes(&inputs)?;
    let rows = inputs[0].shape.first().copied().unwrap_or(0);
    let n_rows = within(usize::try_from(rows).unwrap_or(0), max_batch_rows)?;
    let mut builder = model.frame_builder(n_rows);
    for (input, n) in inputs.into_iter().zip(counts) {
        let feature = builder.column(&input.name)?;
        let strings = input.datatype == Datatype::Bytes;
        let width = match input.shape.as_slice() {
            [rows] | [rows, 1] if usize::try_from(*rows) == Ok(n_rows) => Some(1),
            [rows, k] if strings && *k > 1 && usize::try_from(*rows) == Ok(n_rows) => {
                usize::try_from(*k).ok()
            }
            _ => None,
        };
        let Some(width) = width else {
            return Err(InferError::Invalid(format!(
                "input '{}' has shape {:?}; a feature's input has shape [N] or [N, 1] with N \
                 the rows of the first input ({n_rows}), or [N, k] of BYTES for k strings to \
                 a row",
                input.name, input.shape
            )));
        };
        if !strings {
            let dtype = dtype_of(input.datatype);
            builder.set_numbers(feature, input.into_column_values()?, dtype)?;
            continue;
        }
        builder.claim(feature)?;
        if width == 1 {
            set_cells(&mut builder, feature, &input)?;
            continue;
        }
        let name = &input.name;
        let raw;
        let elements: Vec<Option<&[u8]>> = match &input.data {
            TensorData::Strings(values) => values.iter().map(|b| Some(b.as_ref())).collect(),
            TensorData::Elements(elements) => elements
                .iter()
                .map(|e| match e {
                    Element::Text(bytes) => Some(bytes.as_ref()),
                    Element::Number(_) | Element::Missing => None,
                })
                .collect(),
            TensorData::Raw(bytes) => {
                raw = tensor::raw_strings(name, bytes, n)?;
                raw.iter().map(|b| Some(*b)).collect()
            }
            TensorData::Numbers(_) => vec![None; n],
        };
        for (row, chunk) in elements.chunks(width).enumerate() {
            let mut texts = Vec::with_capacity(width);
            for (k, element) in chunk.iter().enumerate() {
                let at = row * width + k;
                let bytes = element.ok_or_else(|| {
                    InferError::Invalid(format!(
                        "input '{name}': element {at} is not a string; each row of a [N, k] \
                         input is k strings (send rows of different lengths over V1)"
                    ))
                })?;
                texts.push(std::str::from_utf8(bytes).map_err(|_| {
                    InferError::Invalid(format!(
                        "input '{name}': BYTES element {at} is not UTF-8 text"
                    ))
                })?);
            }
            builder.set_texts(row, feature, texts)?;
        }
    }
    Ok(builder.finish(Absent::Refused)?)
}

/// Each input's element count, every one checked against its data before any is decoded.
fn sizes(inputs: &[InputTensor<'_>]) -> Result<Vec<usize>, InferError> {
    inputs.iter().map(InputTensor::check_size).collect()
}

/// `n_rows`, or the refusal of a request of more rows than the limit.
fn within(n_rows: usize, max_batch_rows: usize) -> Result<usize, InferError> {
    if n_rows > max_batch_rows {
        return Err(InferError::TooManyRows {
            rows: n_rows,
            limit: max_batch_rows,
        });
    }
    Ok(n_rows)
}

/// One BYTES tensor of documents (`[N]` or `[N, 1]`) as a model's one text column.
fn texts(
    model: &Model,
    input: InputTensor<'_>,
    max_batch_rows: usize,
) -> Result<crate::model::Frame, InferError> {
    let n_rows = input.check_size()?;
    if !matches!(input.shape.as_slice(), [_] | [_, 1]) {
        return Err(InferError::Invalid(format!(
            "input '{}' has shape {:?}; documents come as shape [N] or [N, 1]",
            input.name, input.shape
        )));
    }
    if n_rows > max_batch_rows {
        return Err(InferError::TooManyRows {
            rows: n_rows,
            limit: max_batch_rows,
        });
    }
    let mut builder = model.frame_builder(n_rows);
    builder.claim(0)?;
    set_cells(&mut builder, 0, &input)?;
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
