//! The estimator matrix against scikit-learn 1.1, 1.3 and 1.9 (`tests/python/estimators/`):
//! the rest of the linear models, cross decomposition, outlier detectors, clusters, mixtures,
//! kernel ridge and Gaussian processes, alone and as a Pipeline's last step, in every pickle
//! protocol and joblib container. skserve offers exactly the outputs scikit-learn has; labels
//! are identical and every value within 1e-9 relative.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use skserve::model::{Method, Model};

use crate::helpers::{close, estimator_matrices, manifests_under, read_json};
use crate::meta::compare_prediction;

const REL: f64 = 1e-9;
/// Values below this compare absolutely (sums that cancel to about zero).
const FLOOR: f64 = 1e-6;
/// GaussianProcessClassifier's probabilities compare absolutely: scikit-learn solves
/// `L_ v = W_sr_ k` with a general LU solve (LAPACK's pivoting `getrf`) where skserve
/// substitutes forward on the triangular factor, and its five-erf sum cancels terms in the
/// thousands down to a probability, so the last bit of the variance moves a probability of
/// 1e-4 by about 3e-13 (docs/models.md, Kernel models).
const GPC_PROBA_FLOOR: f64 = 1.0;

#[derive(Debug, Deserialize)]
struct Manifest {
    sklearn_version: String,
    numpy_version: String,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Case {
    pub file: String,
    pub format: String,
    pub estimator: String,
    pub input: String,
    pub expected: String,
}

#[derive(Debug, Deserialize)]
struct Expected {
    outputs: BTreeMap<String, serde_json::Value>,
}

#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn scikit_learn_1_1_1_3_and_1_9_estimators() {
    let root = estimator_matrices();
    let mut versions = Vec::new();
    let mut total = 0;
    let mut failures = Vec::new();
    for dir in manifests_under(&root) {
        let (version, checked) = check_matrix(&dir, &mut failures);
        versions.push(version);
        total += checked;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    versions.sort();
    let minors: Vec<&str> = versions.iter().map(|v| &v[..3]).collect();
    assert_eq!(minors, ["1.1", "1.3", "1.9"], "{versions:?}");
    assert!(total >= 800, "only {total} cases in {}", root.display());
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
    if failures.len() > before {
        return (manifest.sklearn_version, manifest.cases.len());
    }
    eprintln!(
        "{}: {} estimator cases match scikit-learn {} / numpy {}",
        dir.display(),
        manifest.cases.len(),
        manifest.sklearn_version,
        manifest.numpy_version
    );
    (manifest.sklearn_version, manifest.cases.len())
}

/// Loads `case`'s file, checks it offers exactly scikit-learn's outputs, and compares each.
/// Rows of named features as a client sends them: a JSON object per row, each value a number
/// or a string.
fn mappings_frame(
    model: &Model,
    mappings: &serde_json::Value,
) -> Result<skserve::model::Frame, skserve::model::InputError> {
    let rows = mappings.as_array().expect("a list of rows");
    let mut builder = model.frame_builder(rows.len());
    for (i, row) in rows.iter().enumerate() {
        for (name, value) in row.as_object().expect("an object per row") {
            let feature = builder.column(name)?;
            let cell = match value {
                serde_json::Value::String(s) => skserve::model::Cell::Text(s),
                v => skserve::model::Cell::Number(v.as_f64().expect("a number")),
            };
            builder.set(i, feature, cell)?;
        }
    }
    builder.finish(skserve::model::Absent::Missing)
}

pub(crate) fn check_case(dir: &Path, case: &Case) -> Result<(), String> {
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
    let offered: BTreeSet<&str> = model.methods().iter().map(|m| m.name()).collect();
    // An output skserve refuses with the reason (skserve::model::WITHHELD) is not offered.
    let wanted: BTreeSet<&str> = expected
        .outputs
        .keys()
        .map(String::as_str)
        .filter(|m| Method::parse(m).is_none_or(|m| model.withheld(m).is_none()))
        .collect();
    if offered != wanted {
        return Err(format!("outputs {offered:?} != scikit-learn's {wanted:?}"));
    }
    let input: serde_json::Value = read_json(&dir.join(&case.input));
    let values: Vec<f64>;
    let features = match input.get("mappings") {
        // Rows of named features (the census's DictVectorizer and FeatureHasher).
        Some(mappings) => {
            let frame = mappings_frame(&model, mappings).map_err(|e| e.to_string())?;
            model.features(&frame).map_err(|e| e.to_string())?
        }
        None => {
            let rows: Vec<Vec<f64>> = serde_json::from_value(input).map_err(|e| e.to_string())?;
            values = rows.iter().flatten().copied().collect();
            model.rows(&values).map_err(|e| e.to_string())?
        }
    };
    for (name, want) in &expected.outputs {
        let method = Method::parse(name).ok_or_else(|| format!("unknown output {name}"))?;
        if model.withheld(method).is_some() {
            continue;
        }
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
        let gpc =
            case.file.starts_with("models/gpc_") || case.estimator == "GaussianProcessClassifier";
        let floor = if gpc && method == Method::PredictProba {
            GPC_PROBA_FLOOR
        } else {
            FLOOR
        };
        compare_values(name, got.iter().copied().collect(), want, floor)?;
    }
    Ok(())
}

fn flatten(value: &serde_json::Value, out: &mut Vec<f64>) {
    match value {
        serde_json::Value::Array(items) => items.iter().for_each(|v| flatten(v, out)),
        v => out.push(v.as_f64().unwrap_or(f64::NAN)),
    }
}

fn compare_values(
    what: &str,
    got: Vec<f64>,
    want: &serde_json::Value,
    floor: f64,
) -> Result<(), String> {
    let mut expected = Vec::new();
    flatten(want, &mut expected);
    if got.len() != expected.len() {
        return Err(format!(
            "{what}: {} values != {}",
            got.len(),
            expected.len()
        ));
    }
    // A NaN (null in the answers) matches a NaN: IsotonicRegression's out_of_bounds="nan".
    let same = |a: f64, b: f64| (a.is_nan() && b.is_nan()) || close(a, b, REL, floor);
    match (0..got.len()).find(|&i| !same(got[i], expected[i])) {
        Some(i) => Err(format!("{what}[{i}]: {} != {}", got[i], expected[i])),
        None => Ok(()),
    }
}
