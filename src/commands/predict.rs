//! `skserve predict`: rows of a CSV in, one line per row out: `LABEL,SCORE` for a classifier,
//! every output's label, comma-separated, for a classifier of several outputs, the `VALUE`
//! (values, comma-separated, for several outputs) for a regressor, as Python's `repr` prints
//! them.
//!
//! The CSV has a header row of column names when the model names its columns (a Pipeline over
//! a DataFrame); without one, its rows are the model's columns in order, numbers only. A model
//! of one text column (a vectorizer's documents) takes one document per row, the header
//! optional, every field a document. Fields may be quoted (`"a, b"`, `""` for a quote);
//! otherwise an empty field, `nan` or `NaN` is a missing value, as pandas and numpy's `savetxt`
//! write one. The input is UTF-8 text.

use std::io::{Read, Write};
use std::path::Path;

use ndarray::Array2;

use super::{CommandError, load_model_file};
use crate::inference::{self, Context, Inference, Observer, Unobserved};
use crate::model::{
    Absent, Cell, Dtype, Frame, LoadLimits, Method, Model, Prediction, python_float,
};
use crate::registry::LoadedModel;

pub fn predict(
    model_path: &Path,
    input: &Path,
    limits: LoadLimits,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    predict_observed(model_path, input, limits, out, &Unobserved)
}

/// [`predict`], with `observer` seeing the prediction as a server's observer would.
pub fn predict_observed(
    model_path: &Path,
    input: &Path,
    limits: LoadLimits,
    out: &mut impl Write,
    observer: &dyn Observer,
) -> Result<(), CommandError> {
    let loaded = load_model_file(model_path, limits)?;
    let text = read_input(input)?;
    let context = Context {
        observer,
        ..Context::unbounded()
    };
    let lines = predict_lines(&loaded, &text, &context).map_err(CommandError::Other)?;
    let mut buffer = std::io::BufWriter::new(out);
    let write_failed =
        |e: std::io::Error| CommandError::Other(format!("cannot write predictions: {e}"));
    for line in lines {
        writeln!(buffer, "{line}").map_err(write_failed)?;
    }
    buffer.flush().map_err(write_failed)
}

/// The output lines for a CSV's rows.
fn predict_lines(
    loaded: &LoadedModel,
    text: &str,
    context: &Context<'_>,
) -> Result<Vec<String>, String> {
    let model = loaded.model();
    let request = inference::Request {
        score: model.classes().is_some(),
        ..inference::Request::new(csv_input(model, text)?)
    };
    let inference = inference::infer(loaded, request, context).map_err(|e| e.to_string())?;
    Ok(lines(&inference))
}

/// A CSV's rows as the model's input: named columns under a header row (required for a model
/// of strings), else positional numbers.
pub(crate) fn csv_input(model: &Model, text: &str) -> Result<inference::Input<'static>, String> {
    let records = parse_records(text)?;
    let Some(first) = records.first() else {
        return Err("the input holds no rows".into());
    };
    let header = is_header(model, &first.1);
    Ok(if let Some(column) = model.input().text_column() {
        inference::Input::Frame(text_frame(model, &column.name, &records)?)
    } else if header || !model.input().all_numeric() {
        inference::Input::Frame(named_frame(model, &records)?)
    } else {
        inference::Input::Rows {
            values: numbers(&records, model.n_features())?,
            dtype: Dtype::F64,
        }
    })
}

/// One line per row: `LABEL,SCORE` (`LABEL` alone for a classifier with no score), each
/// output's label for a classifier of several, the values of a regressor or a transform.
fn lines(inference: &Inference<'_>) -> Vec<String> {
    let model = inference.loaded().model();
    let joined = |values: &Array2<f64>| -> Vec<String> {
        values
            .rows()
            .into_iter()
            .map(|row| {
                row.iter()
                    .map(|&v| python_float(v))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect()
    };
    match (inference.predicted(), model.output_classes()) {
        (Some(Prediction::Classes(indices)), Some([classes])) => {
            let scores = inference.scores();
            indices
                .iter()
                .enumerate()
                .map(|(row, &class)| match scores {
                    Some(scores) => {
                        format!("{},{}", classes.label(class), python_float(scores[row]))
                    }
                    None => classes.label(class).to_string(),
                })
                .collect()
        }
        (Some(Prediction::MultiClasses(indices)), Some(outputs)) => indices
            .rows()
            .into_iter()
            .map(|row| {
                row.iter()
                    .zip(outputs)
                    .map(|(&i, classes)| classes.label(i).to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect(),
        (Some(Prediction::Values(values)), _) => joined(values),
        (None, _) => inference
            .values(Method::Transform)
            .map(joined)
            .unwrap_or_default(),
        (Some(Prediction::Classes(_) | Prediction::MultiClasses(_)), _) => Vec::new(),
    }
}

pub(crate) fn read_input(input: &Path) -> Result<String, CommandError> {
    let mut bytes = Vec::new();
    let result = if input.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes)
    } else {
        std::fs::File::open(input).and_then(|mut f| f.read_to_end(&mut bytes))
    };
    result.map_err(|e| CommandError::Other(format!("cannot read {}: {e}", input.display())))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let row = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        CommandError::Other(format!(
            "{}: row {row} is not UTF-8 text (byte {at})",
            input.display()
        ))
    })
}

/// Whether the first record names the model's columns: every field is a column name, or the
/// model takes strings (and a header is then required).
fn is_header(model: &Model, fields: &[Field]) -> bool {
    if !model.input().named {
        return false;
    }
    let names = fields
        .iter()
        .all(|f| model.input().position(f.trim()).is_some());
    names || !model.input().all_numeric() || fields.iter().any(|f| number(f).is_err())
}

/// A CSV field, and whether it was quoted: a quoted empty field in a text column is an empty
/// document, not a missing value.
#[derive(Debug, PartialEq)]
struct Field {
    text: String,
    quoted: bool,
}

impl std::ops::Deref for Field {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

impl PartialEq<&str> for Field {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

/// The records of the CSV with their line numbers; blank lines are skipped.
fn parse_records(text: &str) -> Result<Vec<(usize, Vec<Field>)>, String> {
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start_line = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut was_quoted = false;
        let mut any_quoted = false;
        loop {
            match chars.next() {
                None => break,
                Some('"') if quoted => {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        quoted = false;
                    }
                }
                Some('"') if field.trim().is_empty() && !was_quoted => {
                    field.clear();
                    quoted = true;
                    was_quoted = true;
                    any_quoted = true;
                }
                Some(c) if quoted => {
                    line += usize::from(c == '\n');
                    field.push(c);
                }
                Some(',') => {
                    fields.push(finish(&mut field, &mut was_quoted));
                }
                Some('\n') => {
                    line += 1;
                    break;
                }
                Some('\r') if chars.peek() == Some(&'\n') => {}
                Some(c) => field.push(c),
            }
        }
        if quoted {
            return Err(format!("row {start_line}: a quoted field is never closed"));
        }
        fields.push(finish(&mut field, &mut was_quoted));
        if fields.len() == 1 && fields[0].trim().is_empty() && !any_quoted {
            continue;
        }
        records.push((start_line, fields));
    }
    Ok(records)
}

fn finish(field: &mut String, was_quoted: &mut bool) -> Field {
    let text = if *was_quoted {
        std::mem::take(field)
    } else {
        std::mem::take(field).trim().to_owned()
    };
    Field {
        text,
        quoted: std::mem::take(was_quoted),
    }
}

/// A field as a number: `None` for a missing value (empty, `nan`, `NaN`).
fn number(field: &str) -> Result<Option<f64>, ()> {
    let field = field.trim();
    if is_missing(field) {
        return Ok(None);
    }
    field.parse::<f64>().map(Some).map_err(|_| ())
}

fn is_missing(field: &str) -> bool {
    matches!(field.trim(), "" | "nan" | "NaN")
}

/// Headerless rows of numbers, each of `n_features` fields.
fn numbers(records: &[(usize, Vec<Field>)], n_features: usize) -> Result<Vec<f64>, String> {
    let mut values = Vec::with_capacity(records.len() * n_features);
    for (row, fields) in records {
        if fields.len() != n_features {
            return Err(format!(
                "row {row} has {} columns, expected {n_features} (the model's features)",
                fields.len()
            ));
        }
        for (column, field) in fields.iter().enumerate() {
            let value = number(field).map_err(|()| {
                format!(
                    "row {row}, column {}: '{}' is not a number",
                    column + 1,
                    field.trim()
                )
            })?;
            values.push(value.unwrap_or(f64::NAN));
        }
    }
    Ok(values)
}

/// Rows under a header of column names (or, for a model of strings, with one required). A
/// quoted empty field in a text column is an empty document, as in a model of one text column.
fn named_frame(model: &Model, records: &[(usize, Vec<Field>)]) -> Result<Frame, String> {
    let (header_line, header) = &records[0];
    if model.input().mapping_column().is_none()
        && !header
            .iter()
            .any(|f| model.input().position(f.trim()).is_some())
    {
        return Err(format!(
            "row {header_line}: this model takes named columns; the first row must be a header \
             naming them ({})",
            model.input().described()
        ));
    }
    let mut builder = model.frame_builder(records.len() - 1);
    let columns = header
        .iter()
        .map(|name| builder.column(name.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("row {header_line}: {e}"))?;
    for &c in &columns {
        builder
            .claim(c)
            .map_err(|e| format!("row {header_line}: {e}"))?;
    }
    for (i, (line, fields)) in records[1..].iter().enumerate() {
        if fields.len() != columns.len() {
            return Err(format!(
                "row {line} has {} fields but the header names {}",
                fields.len(),
                columns.len()
            ));
        }
        for (field, &column) in fields.iter().zip(&columns) {
            // A mapping's features (numbered after the columns) take numbers or strings; a
            // quoted field is a string (`"42"`, `""`).
            let text = match model.input().columns.get(column) {
                Some(c) => c.kind == crate::model::ColumnKind::Text,
                None => field.quoted,
            };
            let cell = if is_missing(field) && !(text && field.quoted) {
                Cell::Missing
            } else if text {
                Cell::Text(field)
            } else {
                match number(field) {
                    Ok(Some(v)) => Cell::Number(v),
                    _ => Cell::Text(field),
                }
            };
            builder
                .set(i, column, cell)
                .map_err(|e| renumber(&e.to_string(), i + 1, *line))?;
        }
    }
    builder.finish(Absent::Refused).map_err(|e| e.to_string())
}

/// Documents for a model of one text column: one field per row, after an optional header
/// naming the column. Every field is a document (a blank line is skipped, `""` is an empty
/// document); an unquoted one is trimmed, so quote a document to keep its edge spaces.
fn text_frame(
    model: &Model,
    column: &str,
    records: &[(usize, Vec<Field>)],
) -> Result<Frame, String> {
    let skip = usize::from(records[0].1.len() == 1 && records[0].1[0] == column);
    let rows = &records[skip..];
    let mut builder = model.frame_builder(rows.len());
    for (i, (line, fields)) in rows.iter().enumerate() {
        let [text] = fields.as_slice() else {
            return Err(format!(
                "row {line} has {} fields; this model takes one column of text, one document \
                 per row (quote a document that holds commas)",
                fields.len()
            ));
        };
        builder
            .set(i, 0, Cell::Text(text))
            .map_err(|e| renumber(&e.to_string(), i + 1, *line))?;
    }
    builder.finish(Absent::Refused).map_err(|e| e.to_string())
}

/// An input error's row number (counted among data rows) as the CSV's line number.
fn renumber(message: &str, row: usize, line: usize) -> String {
    message.replacen(&format!("row {row},"), &format!("row {line},"), 1)
}

/// Parses headerless CSV rows of numbers (LF or CRLF) into row-major values, checking every
/// row has `n_features` columns; an empty field, `nan` or `NaN` is a missing value (`NaN`).
/// Rows are numbered from 1 in errors; blank lines are skipped.
pub fn parse_csv(text: &str, n_features: usize) -> Result<Vec<f64>, String> {
    let records = parse_records(text)?;
    if records.is_empty() {
        return Err("the input holds no rows".into());
    }
    numbers(&records, n_features)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_and_blank_lines() {
        assert_eq!(
            parse_csv("1,2\r\n3,4\r\n\r\n", 2).unwrap(),
            vec![1.0, 2.0, 3.0, 4.0]
        );
    }

    #[test]
    fn wrong_width_names_the_row() {
        let err = parse_csv("1,2\n3\n", 2).unwrap_err();
        assert_eq!(
            err,
            "row 2 has 1 columns, expected 2 (the model's features)"
        );
    }

    #[test]
    fn non_numbers_are_refused_and_nan_is_missing() {
        assert!(
            parse_csv("1,x\n", 2)
                .unwrap_err()
                .contains("'x' is not a number")
        );
        let values = parse_csv("1,nan\n,NaN\n", 2).unwrap();
        assert!(values[1].is_nan() && values[2].is_nan() && values[3].is_nan());
    }

    #[test]
    fn a_quoted_empty_field_is_told_from_an_empty_one() {
        let records = parse_records("\"\",,\" \"\n").unwrap();
        let quoted: Vec<bool> = records[0].1.iter().map(|f| f.quoted).collect();
        assert_eq!(records[0].1, ["", "", " "]);
        assert_eq!(quoted, [true, false, true]);
    }

    #[test]
    fn quoted_fields_keep_commas_and_quotes() {
        let records = parse_records("a,\"b, c\",\"say \"\"hi\"\"\"\n").unwrap();
        assert_eq!(records[0].1, ["a", "b, c", "say \"hi\""]);
    }
}
