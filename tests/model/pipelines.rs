//! The Pipeline matrix against scikit-learn 1.1, 1.3 and 1.9, each fitted in a venv of its
//! own (`tests/python/pipelines/`): every model, in every pickle protocol and joblib
//! container, on rows with string columns, missing values and unknown categories, as float64
//! and as float32. Labels identical, probabilities, decision values and predicted values
//! within 1e-9 relative; where scikit-learn refuses a row, skserve refuses it too.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use skserve::model::{Cell, ColumnKind, Dtype, Frame, InputError, Model, Prediction};

use crate::helpers::{close, pipeline_matrices, read_json};

const REL: f64 = 1e-9;
/// Decision values and predicted values below this compare absolutely (sums that cancel).
const FLOOR: f64 = 1e-6;

#[derive(Debug, Deserialize)]
struct Manifest {
    sklearn_version: String,
    numpy_version: String,
    inputs: HashMap<String, String>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    file: String,
    format: String,
    columns: Vec<String>,
    estimator: String,
    expected: String,
}

#[derive(Debug, Deserialize)]
struct Expected {
    chain: String,
    classes: Option<serde_json::Value>,
    variants: HashMap<String, Answers>,
}

#[derive(Debug, Deserialize)]
struct Answers {
    predict: Option<serde_json::Value>,
    predict_proba: Option<serde_json::Value>,
    decision_function: Option<serde_json::Value>,
    row_errors: Option<Vec<Option<String>>>,
}

/// A CSV with a header row, fields as written.
pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

pub fn read_csv(path: &Path) -> Csv {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines().filter(|l| !l.is_empty());
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    Csv { header, rows }
}

/// The frame a client would send for `rows` of the CSV: the model's columns by name, numbers
/// of `dtype`, an empty field missing.
pub fn frame(model: &Model, csv: &Csv, rows: &[usize], dtype: Dtype) -> Result<Frame, InputError> {
    let mut builder = model.frame_builder(rows.len());
    for (index, column) in model.input().columns.iter().enumerate() {
        let at = csv
            .header
            .iter()
            .position(|h| *h == column.name)
            .unwrap_or_else(|| panic!("the CSV has no column {}", column.name));
        if column.kind == ColumnKind::Text {
            for (i, &row) in rows.iter().enumerate() {
                let field = &csv.rows[row][at];
                let cell = if field.is_empty() {
                    Cell::Missing
                } else {
                    Cell::Text(field)
                };
                builder.set(i, index, cell)?;
            }
        } else {
            let values = rows
                .iter()
                .map(|&row| csv.rows[row][at].parse().unwrap_or(f64::NAN))
                .collect();
            builder.set_numbers(index, values, dtype)?;
        }
    }
    builder.finish(skserve::model::Absent::Refused)
}

#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn scikit_learn_1_1_1_3_and_1_9_pipelines() {
    check_versions(&pipeline_matrices(), 400);
}

/// Checks the matrix of every version under `root` (the tree matrix shares the layout): one
/// each of 1.1, 1.3 and 1.9, at least `at_least` cases in all.
pub fn check_versions(root: &Path, at_least: usize) {
    crate::helpers::check_each_version(root, at_least, check_matrix);
}

fn check_matrix(dir: &Path) -> (String, usize) {
    let manifest: Manifest = read_json(&dir.join("manifest.json"));
    let csvs: HashMap<&str, Csv> = manifest
        .inputs
        .iter()
        .map(|(name, file)| (name.as_str(), read_csv(&dir.join(file))))
        .collect();
    let mut failures = Vec::new();
    for case in &manifest.cases {
        let expected: Expected = read_json(&dir.join(&case.expected));
        if let Err(why) = check_case(dir, case, &expected, &csvs) {
            failures.push(format!("{} [{}]: {why}", case.file, case.format));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from scikit-learn {} / numpy {}:\n{}",
        failures.len(),
        manifest.cases.len(),
        manifest.sklearn_version,
        manifest.numpy_version,
        failures.join("\n")
    );
    eprintln!(
        "{}: {} Pipeline cases match scikit-learn {} / numpy {}",
        dir.display(),
        manifest.cases.len(),
        manifest.sklearn_version,
        manifest.numpy_version
    );
    (manifest.sklearn_version, manifest.cases.len())
}

fn check_case(
    dir: &Path,
    case: &Case,
    expected: &Expected,
    csvs: &HashMap<&str, Csv>,
) -> Result<(), String> {
    let bytes = std::fs::read(dir.join(&case.file)).map_err(|e| e.to_string())?;
    let model = Model::from_bytes(&bytes).map_err(|e| e.explain(&case.file))?;
    if model.estimator() != case.estimator {
        return Err(format!(
            "estimator {} != {}",
            model.estimator(),
            case.estimator
        ));
    }
    if model.chain() != expected.chain {
        return Err(format!("chain {} != {}", model.chain(), expected.chain));
    }
    let names: Vec<&str> = model
        .input()
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    if names != case.columns {
        return Err(format!("columns {names:?} != {:?}", case.columns));
    }
    if let (Some(classes), Some(expected)) = (model.classes_json(), &expected.classes)
        && classes != *expected
    {
        return Err(format!("classes {classes} != {expected}"));
    }
    for (key, answers) in &expected.variants {
        let (input, variant) = key.split_once('-').ok_or("variant without an input")?;
        let csv = &csvs[input];
        let dtype = if variant == "float32" {
            Dtype::F32
        } else {
            Dtype::F64
        };
        let all: Vec<usize> = (0..csv.rows.len()).collect();
        let check = || -> Result<(), String> {
            if let Some(row_errors) = &answers.row_errors {
                return check_refusals(&model, csv, dtype, row_errors);
            }
            let frame = frame(&model, csv, &all, dtype).map_err(|e| e.to_string())?;
            let features = model.features(&frame).map_err(|e| e.to_string())?;
            compare_prediction(&model, &model.predict(&features), answers.predict.as_ref())?;
            let proba = model.predict_proba(&features);
            compare_matrix(
                "predict_proba",
                proba.as_ref(),
                answers.predict_proba.as_ref(),
                1e-300,
            )?;
            // The one pass a request asking for both outputs takes answers exactly as the two.
            let (predicted, one_pass_proba) = model.predict_with_proba(&features);
            if predicted != model.predict(&features) || one_pass_proba != proba {
                return Err("predict_with_proba differs from predict and predict_proba".into());
            }
            let decision = model.decision_function(&features);
            compare_matrix(
                "decision_function",
                decision.as_ref(),
                answers.decision_function.as_ref(),
                FLOOR,
            )
        };
        check().map_err(|why| format!("{key}: {why}"))?;
    }
    Ok(())
}

/// Where scikit-learn refused the batch: each row it refuses alone is refused, and the others
/// are served.
fn check_refusals(
    model: &Model,
    csv: &Csv,
    dtype: Dtype,
    row_errors: &[Option<String>],
) -> Result<(), String> {
    let mut refused = 0;
    for (row, error) in row_errors.iter().enumerate() {
        let result = frame(model, csv, &[row], dtype).and_then(|f| model.features(&f));
        match (result, error) {
            (Err(_), Some(_)) => refused += 1,
            (Ok(_), None) => {}
            (Ok(_), Some(error)) => {
                return Err(format!("row {row} was served; scikit-learn: {error}"));
            }
            (Err(e), None) => {
                return Err(format!(
                    "row {row} was refused ({e}); scikit-learn served it"
                ));
            }
        }
    }
    if refused == 0 {
        return Err("scikit-learn refused the batch but no row alone".into());
    }
    Ok(())
}

fn compare_prediction(
    model: &Model,
    got: &Prediction,
    expected: Option<&serde_json::Value>,
) -> Result<(), String> {
    let expected = expected.ok_or("no expected predict")?;
    match got {
        Prediction::Classes(indices) => {
            let classes = model.classes().ok_or("no classes")?;
            let labels: Vec<serde_json::Value> = indices
                .iter()
                .map(|&i| classes.label(i).to_json())
                .collect();
            let expected = expected.as_array().ok_or("predict is not a list")?;
            match (0..labels.len()).find(|&i| labels[i] != expected[i]) {
                Some(i) => Err(format!("row {i}: label {} != {}", labels[i], expected[i])),
                None if labels.len() != expected.len() => Err("row counts differ".into()),
                None => Ok(()),
            }
        }
        Prediction::MultiClasses(indices) => {
            let outputs = model.output_classes().ok_or("no classes")?;
            let expected = expected.as_array().ok_or("predict is not a list")?;
            if expected.len() != indices.nrows() {
                return Err("row counts differ".into());
            }
            for (i, (row, want)) in indices.rows().into_iter().zip(expected).enumerate() {
                let labels: Vec<serde_json::Value> = row
                    .iter()
                    .zip(outputs)
                    .map(|(&c, classes)| classes.label(c).to_json())
                    .collect();
                if want.as_array() != Some(&labels) {
                    return Err(format!("row {i}: labels {labels:?} != {want}"));
                }
            }
            Ok(())
        }
        Prediction::Values(values) => {
            compare_matrix("predict", Some(values), Some(expected), FLOOR)
        }
    }
}

fn flatten(value: &serde_json::Value, out: &mut Vec<f64>) {
    match value {
        serde_json::Value::Array(items) => items.iter().for_each(|v| flatten(v, out)),
        v => out.push(v.as_f64().unwrap_or(f64::NAN)),
    }
}

fn compare_matrix(
    what: &str,
    got: Option<&ndarray::Array2<f64>>,
    expected: Option<&serde_json::Value>,
    floor: f64,
) -> Result<(), String> {
    match (got, expected) {
        (None, None) => Ok(()),
        (Some(got), Some(expected)) => {
            let mut want = Vec::new();
            flatten(expected, &mut want);
            let got: Vec<f64> = got.iter().copied().collect();
            if got.len() != want.len() {
                return Err(format!("{what}: {} values != {}", got.len(), want.len()));
            }
            match (0..got.len()).find(|&i| !close(got[i], want[i], REL, floor)) {
                Some(i) => Err(format!("{what}[{i}]: {} != {}", got[i], want[i])),
                None => Ok(()),
            }
        }
        (got, _) => Err(format!("{what} present: {} vs scikit-learn", got.is_some())),
    }
}
