//! Differential tests: every model of the scikit-learn matrix (each estimator, label type,
//! pickle protocol and joblib container) answers exactly as scikit-learn did: labels identical,
//! probabilities and decision values within 1e-9 relative.

use std::collections::HashMap;
use std::path::Path;

use skserve::commands::parse_csv;
use skserve::model::{Model, Prediction};

use crate::helpers::{
    Case, Expected, Manifest, close, live_matrix, manifests_under, read_json, repo,
};

const REL: f64 = 1e-9;
/// Decision values smaller than this are compared absolutely: they are sums that cancel, where
/// BLAS and a plain dot product legitimately differ in the last bits.
const DECISION_FLOOR: f64 = 1e-6;

#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn live_scikit_learn_matrix() {
    let dir = live_matrix();
    let checked = check_matrix(&dir);
    // The matrix covers every estimator in every container; a much smaller count means the
    // generator silently lost cases.
    assert!(checked >= 200, "only {checked} cases in {}", dir.display());
}

#[test]
fn legacy_numpy1_and_old_joblib_fixtures() {
    let dirs = manifests_under(&repo().join("tests/fixtures/legacy"));
    assert!(dirs.len() >= 2, "legacy fixtures missing: {dirs:?}");
    for dir in dirs {
        check_matrix(&dir);
    }
}

/// Checks every case of one matrix directory, reporting all failures at once.
fn check_matrix(dir: &Path) -> usize {
    let manifest: Manifest = read_json(&dir.join("manifest.json"));
    let mut inputs: HashMap<String, Vec<f64>> = HashMap::new();
    let mut expectations: HashMap<String, Expected> = HashMap::new();
    let mut failures = Vec::new();
    for case in &manifest.cases {
        let expected = expectations
            .entry(case.expected.clone())
            .or_insert_with(|| read_json(&dir.join(&case.expected)));
        let values = inputs.entry(case.input.clone()).or_insert_with(|| {
            let text = std::fs::read_to_string(dir.join(&case.input)).unwrap();
            parse_csv(&text, case.n_features).unwrap()
        });
        if let Err(why) = check_case(dir, case, values, expected) {
            failures.push(format!(
                "{} [{} p{:?}]: {why}",
                case.file, case.format, case.protocol
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from scikit-learn {} / numpy {} in {}:\n{}",
        failures.len(),
        manifest.cases.len(),
        manifest.sklearn_version,
        manifest.numpy_version,
        dir.display(),
        failures.join("\n")
    );
    eprintln!(
        "{}: {} cases match scikit-learn {} / numpy {}",
        dir.display(),
        manifest.cases.len(),
        manifest.sklearn_version,
        manifest.numpy_version
    );
    manifest.cases.len()
}

fn check_case(dir: &Path, case: &Case, values: &[f64], expected: &Expected) -> Result<(), String> {
    let bytes = std::fs::read(dir.join(&case.file)).map_err(|e| e.to_string())?;
    let model = Model::from_bytes(&bytes).map_err(|e| e.explain(&case.file))?;
    if model.estimator() != case.estimator {
        return Err(format!(
            "estimator {} != {}",
            model.estimator(),
            case.estimator
        ));
    }
    let classes = model.classes().ok_or("a classifier without classes")?;
    if classes.to_json() != expected.classes {
        return Err(format!(
            "classes {} != {}",
            classes.to_json(),
            expected.classes
        ));
    }
    if model.has_predict_proba() != case.has_predict_proba {
        return Err(format!(
            "has_predict_proba {} != {}",
            model.has_predict_proba(),
            case.has_predict_proba
        ));
    }
    let rows = model.rows(values).map_err(|e| e.to_string())?;
    let Prediction::Classes(predicted) = model.predict(&rows) else {
        return Err("a classifier predicted values".into());
    };
    let labels: Vec<serde_json::Value> = predicted
        .into_iter()
        .map(|i| classes.label(i).to_json())
        .collect();
    if let Some(row) = (0..labels.len()).find(|&i| labels[i] != expected.predict[i]) {
        return Err(format!(
            "row {row}: label {} != {}",
            labels[row], expected.predict[row]
        ));
    }

    let decision = model
        .decision_function(&rows)
        .ok_or("no decision_function")?
        .into_iter()
        .collect::<Vec<f64>>();
    let expected_decision: Vec<f64> = match &expected.decision_function {
        serde_json::Value::Array(rows) => rows
            .iter()
            .flat_map(|r| match r {
                serde_json::Value::Array(cols) => {
                    cols.iter().map(|c| c.as_f64().unwrap()).collect()
                }
                v => vec![v.as_f64().unwrap()],
            })
            .collect(),
        other => return Err(format!("decision_function is {other}")),
    };
    compare(
        "decision_function",
        &decision,
        &expected_decision,
        DECISION_FLOOR,
    )?;

    match (model.predict_proba(&rows), &expected.predict_proba) {
        (Some(proba), Some(expected)) => {
            let proba: Vec<f64> = proba.into_iter().collect();
            let expected: Vec<f64> = expected.iter().flatten().copied().collect();
            compare("predict_proba", &proba, &expected, 1e-300)?;
        }
        (None, None) => {}
        (got, _) => {
            return Err(format!(
                "predict_proba present: {} vs scikit-learn",
                got.is_some()
            ));
        }
    }
    Ok(())
}

fn compare(what: &str, got: &[f64], expected: &[f64], floor: f64) -> Result<(), String> {
    if got.len() != expected.len() {
        return Err(format!(
            "{what}: {} values != {}",
            got.len(),
            expected.len()
        ));
    }
    match (0..got.len()).find(|&i| !close(got[i], expected[i], REL, floor)) {
        Some(i) => Err(format!("{what}[{i}]: {} != {}", got[i], expected[i])),
        None => Ok(()),
    }
}
