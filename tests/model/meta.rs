//! The meta-estimator matrix against scikit-learn 1.1, 1.3 and 1.9 (`tests/python/meta/`):
//! ensembles, calibration, the multiclass and multioutput wrappers, TransformedTargetRegressor,
//! FeatureUnion, feature selection and FunctionTransformer with numpy ufuncs, alone, nested
//! and in Pipelines, in every pickle protocol and joblib container. skserve offers exactly
//! the outputs scikit-learn has; labels are identical and every value within 1e-9 relative
//! (a NaN where scikit-learn gives one). Also the malformed meta-estimators and selectors
//! (`tests/python/meta/make_malformed_meta.py`), refused naming the attribute.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;
use skserve::model::{Method, Model, Prediction};

use crate::helpers::{close, manifests_under, read_json, repo};

const REL: f64 = 1e-9;
/// Values below this compare absolutely (sums that cancel to about zero).
const FLOOR: f64 = 1e-6;

#[derive(Debug, Deserialize)]
struct Manifest {
    sklearn_version: String,
    numpy_version: String,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    file: String,
    format: String,
    estimator: String,
    input: String,
    expected: String,
}

#[derive(Debug, Deserialize)]
struct Expected {
    chain: String,
    outputs: BTreeMap<String, serde_json::Value>,
}

/// The matrices, one per scikit-learn version, made by `tests/python/meta/ensure_meta.sh`
/// (`tests/run.sh` runs it and sets `SKSERVE_META_DIR`).
fn meta_matrices() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        crate::helpers::made_by("SKSERVE_META_DIR", "tests/python/meta/ensure_meta.sh")
    })
    .clone()
}

#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn scikit_learn_1_1_1_3_and_1_9_meta_estimators() {
    let root = meta_matrices();
    let mut versions = Vec::new();
    let mut total = 0;
    let mut failures = Vec::new();
    for dir in manifests_under(&root) {
        let (version, checked) = check_matrix(&dir, &mut failures);
        versions.push(version);
        total += checked;
    }
    assert!(
        failures.is_empty(),
        "{} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    versions.sort();
    let minors: Vec<&str> = versions.iter().map(|v| &v[..3]).collect();
    assert_eq!(minors, ["1.1", "1.3", "1.9"], "{versions:?}");
    assert!(total >= 1400, "only {total} cases in {}", root.display());
}

/// Checks one version's matrix, adding what differs to `failures`.
fn check_matrix(dir: &Path, failures: &mut Vec<String>) -> (String, usize) {
    let manifest: Manifest = read_json(&dir.join("manifest.json"));
    let before = failures.len();
    for case in &manifest.cases {
        if let Err(why) = check_case(dir, case) {
            failures.push(format!(
                "scikit-learn {}: {} [{}]: {why}",
                manifest.sklearn_version, case.file, case.format
            ));
        }
    }
    if failures.len() == before {
        eprintln!(
            "{}: {} meta-estimator cases match scikit-learn {} / numpy {}",
            dir.display(),
            manifest.cases.len(),
            manifest.sklearn_version,
            manifest.numpy_version
        );
    }
    (manifest.sklearn_version, manifest.cases.len())
}

fn check_case(dir: &Path, case: &Case) -> Result<(), String> {
    let bytes = std::fs::read(dir.join(&case.file)).map_err(|e| e.to_string())?;
    let model = Model::from_bytes(&bytes).map_err(|e| e.explain(&case.file))?;
    if model.estimator() != case.estimator {
        return Err(format!(
            "estimator {} != {}",
            model.estimator(),
            case.estimator
        ));
    }
    let expected: Expected = read_json(&dir.join(&case.expected));
    if model.chain() != expected.chain {
        return Err(format!("chain {} != {}", model.chain(), expected.chain));
    }
    let offered: BTreeSet<&str> = model.methods().iter().map(|m| m.name()).collect();
    let wanted: BTreeSet<&str> = expected.outputs.keys().map(String::as_str).collect();
    if offered != wanted {
        return Err(format!("outputs {offered:?} != scikit-learn's {wanted:?}"));
    }
    let rows: Vec<Vec<f64>> = read_json(&dir.join(&case.input));
    let values: Vec<f64> = rows.iter().flatten().copied().collect();
    let features = model.rows(&values).map_err(|e| e.to_string())?;
    for (name, want) in &expected.outputs {
        let method = Method::parse(name).ok_or_else(|| format!("unknown output {name}"))?;
        if method == Method::Predict {
            compare_prediction(&model, &model.predict(&features), want)?;
            continue;
        }
        let got = model
            .values(method, &features)
            .ok_or_else(|| format!("{name} not computed"))?;
        if got.ncols() != model.width(method) {
            return Err(format!(
                "{name}: {} columns but the metadata says {}",
                got.ncols(),
                model.width(method)
            ));
        }
        compare_values(name, got.iter().copied().collect(), want)?;
    }
    Ok(())
}

fn flatten(value: &serde_json::Value, out: &mut Vec<f64>) {
    match value {
        serde_json::Value::Array(items) => items.iter().for_each(|v| flatten(v, out)),
        v => out.push(v.as_f64().unwrap_or(f64::NAN)),
    }
}

fn compare_values(what: &str, got: Vec<f64>, want: &serde_json::Value) -> Result<(), String> {
    let mut expected = Vec::new();
    flatten(want, &mut expected);
    if got.len() != expected.len() {
        return Err(format!(
            "{what}: {} values != {}",
            got.len(),
            expected.len()
        ));
    }
    let same = |a: f64, b: f64| (a.is_nan() && b.is_nan()) || close(a, b, REL, FLOOR);
    match (0..got.len()).find(|&i| !same(got[i], expected[i])) {
        Some(i) => Err(format!("{what}[{i}]: {} != {}", got[i], expected[i])),
        None => Ok(()),
    }
}

/// Labels compare by value (numpy's int32 labels against int64 ones, a bool as 0/1 and a
/// string as scikit-learn's `str` of it).
fn same_label(label: &serde_json::Value, want: &serde_json::Value) -> bool {
    label == want
        || (label.is_number() && want.is_number() && label.as_f64() == want.as_f64())
        || want.as_str().is_some_and(|w| match label {
            serde_json::Value::String(s) => s == w,
            other => serde_json::to_string(other).is_ok_and(|text| text == w),
        })
}

/// `predict` against scikit-learn's labels (one or several outputs) or values.
pub(crate) fn compare_prediction(
    model: &Model,
    got: &Prediction,
    want: &serde_json::Value,
) -> Result<(), String> {
    let want = want.as_array().ok_or("predict is not a list")?;
    match got {
        Prediction::Classes(indices) => {
            let classes = model.classes().ok_or("no classes")?;
            if want.len() != indices.len() {
                return Err("row counts differ".into());
            }
            for (i, (&index, w)) in indices.iter().zip(want).enumerate() {
                let label = classes.label(index).to_json();
                if !same_label(&label, w) {
                    return Err(format!("row {i}: label {label} != {w}"));
                }
            }
            Ok(())
        }
        Prediction::MultiClasses(indices) => {
            let outputs = model.output_classes().ok_or("no classes")?;
            if want.len() != indices.nrows() {
                return Err("row counts differ".into());
            }
            for (i, (row, w)) in indices.rows().into_iter().zip(want).enumerate() {
                let w = w.as_array().ok_or("a row of labels is not a list")?;
                let labels: Vec<serde_json::Value> = row
                    .iter()
                    .zip(outputs)
                    .map(|(&c, classes)| classes.label(c).to_json())
                    .collect();
                if labels.len() != w.len() || !labels.iter().zip(w).all(|(l, w)| same_label(l, w)) {
                    return Err(format!("row {i}: labels {labels:?} != {w:?}"));
                }
            }
            Ok(())
        }
        Prediction::Values(values) => compare_values(
            "predict",
            values.iter().copied().collect(),
            &serde_json::Value::Array(want.clone()),
        ),
    }
}

/// Real meta-estimators and selectors with one attribute edited (`tests/python/meta/
/// make_malformed_meta.py`): each refused at load naming the attribute, with exit status 2
/// and no panic.
#[test]
fn every_malformed_meta_estimator_is_refused_naming_the_attribute() {
    let classes = [
        "AdaBoostClassifier",
        "AdaBoostRegressor",
        "BaggingClassifier",
        "BaggingRegressor",
        "VotingClassifier",
        "VotingRegressor",
        "StackingClassifier",
        "StackingRegressor",
        "IsotonicRegression",
        "_SigmoidCalibration",
        "OneVsRestClassifier",
        "OneVsOneClassifier",
        "OutputCodeClassifier",
        "ClassifierChain",
        "RegressorChain",
        "TransformedTargetRegressor",
        "FeatureUnion",
        "SelfTrainingClassifier",
        "VarianceThreshold",
        "SelectKBest",
        "SelectPercentile",
        "GenericUnivariateSelect",
        "SelectFromModel",
        "RFE",
        "RFECV",
        "SequentialFeatureSelector",
        "FunctionTransformer",
        "numpy.sin",
        "TunedThresholdClassifierCV",
        "HalvingGridSearchCV",
        "HalvingRandomSearchCV",
    ];
    crate::hostile::refused_as_listed(&repo().join("tests/fixtures/malformed_meta"), 60, &classes);
}
