//! `skserve predict`: rows of a headerless CSV in, `LABEL,SCORE` lines out.

use std::io::{Read, Write};
use std::path::Path;

use super::{CommandError, load_model_file};
use crate::model::python_float;

pub fn predict(model_path: &Path, input: &Path, out: &mut impl Write) -> Result<(), CommandError> {
    let model = load_model_file(model_path)?;
    let text = read_input(input)?;
    let values = parse_csv(&text, model.n_features()).map_err(CommandError::Other)?;
    let rows = model
        .rows(&values)
        .map_err(|e| CommandError::Other(e.to_string()))?;
    let classes = model.classes();
    let mut buffer = std::io::BufWriter::new(out);
    let write_failed =
        |e: std::io::Error| CommandError::Other(format!("cannot write predictions: {e}"));
    for (class, score) in model.predict_scored(rows) {
        writeln!(buffer, "{},{}", classes.label(class), python_float(score))
            .map_err(write_failed)?;
    }
    buffer.flush().map_err(write_failed)
}

fn read_input(input: &Path) -> Result<String, CommandError> {
    let mut text = String::new();
    let result = if input.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text)
    } else {
        std::fs::File::open(input).and_then(|mut f| f.read_to_string(&mut text))
    };
    result.map_err(|e| CommandError::Other(format!("cannot read {}: {e}", input.display())))?;
    Ok(text)
}

/// Parses headerless CSV rows of numbers (LF or CRLF) into row-major values, checking every
/// row has `n_features` columns. Rows are numbered from 1 in errors; blank lines are skipped.
pub fn parse_csv(text: &str, n_features: usize) -> Result<Vec<f64>, String> {
    let mut values = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let row = index + 1;
        let start = values.len();
        for (column, field) in line.split(',').enumerate() {
            let field = field.trim();
            let value: f64 = field.parse().map_err(|_| {
                format!(
                    "row {row}, column {}: '{field}' is not a number",
                    column + 1
                )
            })?;
            if !value.is_finite() {
                return Err(format!(
                    "row {row}, column {}: '{field}' is not a finite number",
                    column + 1
                ));
            }
            values.push(value);
        }
        let got = values.len() - start;
        if got != n_features {
            return Err(format!(
                "row {row} has {got} columns, expected {n_features} (the model's features)"
            ));
        }
    }
    if values.is_empty() {
        return Err("the input holds no rows".into());
    }
    Ok(values)
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
    fn non_numbers_and_nan_are_refused() {
        assert!(
            parse_csv("1,x\n", 2)
                .unwrap_err()
                .contains("'x' is not a number")
        );
        assert!(
            parse_csv("1,nan\n", 2)
                .unwrap_err()
                .contains("not a finite number")
        );
    }
}
