//! XGBoost and LightGBM against themselves (`tests/python/gbm/`): XGBoost 1.7, 2.1 and 3.x,
//! LightGBM 3.3 and 4.x, each pair fitted in a venv of its own, every objective and option
//! skserve serves, each model as a pickle, a joblib file and the library's own files. Labels
//! identical; XGBoost's float32 outputs equal as float32 numbers; LightGBM's within 1e-12
//! relative; each row's margin (the value `explain` takes apart) as the library's, and its
//! TreeSHAP values as `pred_contribs` / `pred_contrib` within 1e-6.

use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;
use skserve::model::{Cell, ColumnKind, Dtype, Features, Model, Prediction};

use crate::helpers::{close, manifests_under, read_json};

/// The matrices, made by `tests/python/gbm/ensure_gbm.sh` (`tests/run.sh` runs it and sets
/// `SKSERVE_GBM_DIR`).
pub fn gbm_matrices() -> std::path::PathBuf {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        crate::helpers::made_by::made_by("SKSERVE_GBM_DIR", "tests/python/gbm/ensure_gbm.sh")
    })
    .clone()
}

#[derive(Debug, Deserialize)]
struct Manifest {
    xgboost_version: String,
    lightgbm_version: String,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    file: String,
    format: String,
    library: String,
    model: String,
    input: String,
    expected: String,
}

/// Numbers are read from their text with Rust's own parser, which is exact (the values are
/// compared bit for bit).
#[derive(Debug, Deserialize)]
struct Input {
    columns: Option<Vec<String>>,
    rows: Vec<Vec<Box<RawValue>>>,
}

#[derive(Debug, Deserialize)]
struct Expected {
    predict: Box<RawValue>,
    predict_proba: Option<Box<RawValue>>,
    raw: Option<Box<RawValue>>,
    contribs: Option<Box<RawValue>>,
}

/// The numbers of a nested JSON array, in order, `null` as NaN.
fn numbers(raw: &RawValue) -> Vec<f64> {
    raw.get()
        .split(|c: char| matches!(c, '[' | ']' | ',') || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| {
            if t == "null" {
                f64::NAN
            } else {
                t.parse().unwrap_or_else(|_| panic!("{t} is not a number"))
            }
        })
        .collect()
}

/// The rows of a nested JSON array, each row's numbers.
fn rows_of(raw: &RawValue) -> Vec<Vec<f64>> {
    let rows: Vec<Box<RawValue>> = serde_json::from_str(raw.get()).unwrap();
    rows.iter().map(|r| numbers(r)).collect()
}

fn cell_number(raw: &RawValue) -> f64 {
    match raw.get() {
        "null" => f64::NAN,
        text => text.parse().unwrap_or(f64::NAN),
    }
}

#[test]
#[ignore = "full tier: needs Python, xgboost and lightgbm from PyPI (tests/run.sh)"]
fn xgboost_1_7_2_1_3_and_lightgbm_3_3_4_against_themselves() {
    let root = gbm_matrices();
    let mut versions = Vec::new();
    let mut checked = 0;
    let mut failures = Vec::new();
    for dir in manifests_under(&root) {
        let manifest: Manifest = read_json(&dir.join("manifest.json"));
        versions.push(format!(
            "xgboost {} lightgbm {}",
            manifest.xgboost_version, manifest.lightgbm_version
        ));
        for case in &manifest.cases {
            match check_case(&dir, case) {
                Ok(()) => checked += 1,
                Err(why) => failures.push(format!(
                    "{} ({}, xgboost {}, lightgbm {}): {why}",
                    case.file, case.format, manifest.xgboost_version, manifest.lightgbm_version
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        checked + failures.len(),
        failures.join("\n")
    );
    versions.sort();
    let majors: Vec<&str> = versions.iter().map(|v| &v[..11]).collect();
    assert_eq!(
        majors,
        ["xgboost 1.7", "xgboost 2.1", "xgboost 3.2"],
        "{versions:?}"
    );
    assert!(checked >= 400, "only {checked} cases");
}

/// The features of `input`'s rows as a client sends them: by name where the model has names,
/// else by position; `null` missing, strings as categories.
fn features<'a>(model: &Model, input: &Input) -> Result<Features<'a>, String> {
    let n = input.rows.len();
    let columns = &model.input().columns;
    let mut builder = model.frame_builder(n);
    for (index, column) in columns.iter().enumerate() {
        let at = match (&input.columns, model.feature_names()) {
            (Some(names), Some(_)) => names
                .iter()
                .position(|c| *c == column.name)
                .ok_or_else(|| format!("the input has no column {}", column.name))?,
            _ => index,
        };
        if column.kind == ColumnKind::Text {
            for (i, row) in input.rows.iter().enumerate() {
                let text: Option<String> = serde_json::from_str(row[at].get())
                    .map_err(|_| format!("row {i}: {} where a category belongs", row[at].get()))?;
                let cell = match &text {
                    Some(s) => Cell::Text(s),
                    None => Cell::Missing,
                };
                builder.set(i, index, cell).map_err(|e| e.to_string())?;
            }
        } else {
            let values = input.rows.iter().map(|r| cell_number(&r[at])).collect();
            builder
                .set_numbers(index, values, Dtype::F64)
                .map_err(|e| e.to_string())?;
        }
    }
    let frame = builder
        .finish(skserve::model::Absent::Refused)
        .map_err(|e| e.to_string())?;
    model.features(&frame).map_err(|e| e.to_string())
}

fn check_case(dir: &Path, case: &Case) -> Result<(), String> {
    let bytes = std::fs::read(dir.join(&case.file)).map_err(|e| e.to_string())?;
    let model = Model::from_bytes(&bytes).map_err(|e| format!("not loaded: {e}"))?;
    let expected_platform = case.library.as_str();
    if model.platform() != expected_platform {
        return Err(format!(
            "platform {} for {expected_platform}",
            model.platform()
        ));
    }
    let input: Input = read_json(&dir.join(&case.input));
    let expected: Expected = read_json(&dir.join(&case.expected));
    let x = features(&model, &input)?;
    let xgboost = case.library == "xgboost";
    // XGBoost's outputs are float32: equal as numbers. LightGBM's are doubles: 1e-12 relative.
    let agree = |a: f64, b: f64| {
        if xgboost {
            a == b || (a.is_nan() && b.is_nan())
        } else {
            close(a, b, 1e-12, 1e-300)
        }
    };
    let predicted = match model.predict(&x) {
        Prediction::Classes(indices) => {
            let classes = model.classes().expect("a classifier");
            let labels: Vec<serde_json::Value> =
                serde_json::from_str(expected.predict.get()).unwrap();
            for (row, (&i, want)) in indices.iter().zip(&labels).enumerate() {
                let got = classes.label(i).to_json();
                if got != *want && !(got.as_f64().is_some() && got.as_f64() == want.as_f64()) {
                    return Err(format!("row {row}: label {got}, expected {want}"));
                }
            }
            Some(indices)
        }
        Prediction::Values(values) => {
            let flat = numbers(&expected.predict);
            let got: Vec<f64> = values.iter().copied().collect();
            compare("predict", &got, &flat, agree)?;
            None
        }
        Prediction::MultiClasses(_) => return Err("several outputs of classes".into()),
    };
    if let Some(want) = &expected.predict_proba {
        let got = model.predict_proba(&x).ok_or("no predict_proba")?;
        let want = numbers(want);
        let got: Vec<f64> = got.iter().copied().collect();
        // multi:softmax's probabilities are scipy's softmax of the margins, in numpy's float32.
        if case.model.ends_with("softmax") {
            compare("predict_proba", &got, &want, |a, b| close(a, b, 1e-6, 1e-7))?;
        } else {
            compare("predict_proba", &got, &want, agree)?;
        }
    }
    check_explanations(&model, &x, case, &expected, predicted.as_deref(), xgboost)
}

fn compare(
    what: &str,
    got: &[f64],
    want: &[f64],
    agree: impl Fn(f64, f64) -> bool,
) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!(
            "{what}: {} values, expected {}",
            got.len(),
            want.len()
        ));
    }
    match got.iter().zip(want).position(|(a, b)| !agree(*a, *b)) {
        None => Ok(()),
        Some(i) => Err(format!(
            "{what}[{i}] is {:?}, expected {:?}",
            got[i], want[i]
        )),
    }
}

/// Each row's margin (what `explain` takes apart) against the library's raw output, and its
/// TreeSHAP values against the library's own, where it has them.
fn check_explanations(
    model: &Model,
    x: &Features<'_>,
    case: &Case,
    expected: &Expected,
    predicted: Option<&[usize]>,
    xgboost: bool,
) -> Result<(), String> {
    let Some(raw) = &expected.raw else {
        return Ok(());
    };
    let raw = rows_of(raw);
    let contribs = expected.contribs.as_deref().map(rows_of);
    let n_features = model.n_features();
    for (row, margins) in raw.iter().enumerate().take(40) {
        let class = predicted.map(|p| p[row]);
        let Some(explained) = model.explain(x, row, class) else {
            if contribs.is_some() {
                return Err(format!("row {row}: no explanation"));
            }
            continue;
        };
        let a = &explained.attribution;
        let column = if margins.len() == 1 {
            0
        } else {
            class.unwrap_or(0)
        };
        let margin_agrees = if xgboost {
            a.output == margins[column]
        } else {
            close(a.output, margins[column], 1e-12, 1e-300)
        };
        if !margin_agrees {
            return Err(format!(
                "row {row}: margin {} expected {}",
                a.output, margins[column]
            ));
        }
        let Some(contribs) = &contribs else { continue };
        let block = &contribs[row][column * (n_features + 1)..(column + 1) * (n_features + 1)];
        let shap_agrees = |a: f64, b: f64| close(a, b, 1e-6, 1.0);
        if !shap_agrees(a.base, block[n_features]) {
            return Err(format!(
                "row {row}: expected value {} vs {}",
                a.base, block[n_features]
            ));
        }
        compare(
            &format!("row {row} contributions ({})", case.model),
            &a.contributions,
            &block[..n_features],
            shap_agrees,
        )?;
    }
    Ok(())
}
