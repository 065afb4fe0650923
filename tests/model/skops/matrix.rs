//! The skops matrix (`tests/python/skops/`): every model of the Pipeline and tree matrices
//! written by skops 0.6 (scikit-learn 1.1, protocol 1), 0.10 (1.3, protocol 2) and the
//! newest skops (1.9), stored and deflated. Each archive answers as scikit-learn does, within
//! the pickle matrix's tolerance (`pipelines::check_versions`), and exactly as skserve answers
//! from the pickle it was written from: the same structure, labels, and every value to the
//! bit. Its audit lists only allowed names.

use std::collections::HashMap;
use std::path::Path;

use ndarray::Array2;
use serde::Deserialize;
use skserve::model::{Dtype, Model, Prediction, inspect};

use crate::helpers::{manifests_under, read_json, skops_matrices};
use crate::pipelines::{Csv, check_versions, frame, read_csv};

#[derive(Debug, Deserialize)]
struct Manifest {
    skops_version: String,
    skops_protocols: Vec<u8>,
    inputs: HashMap<String, String>,
    cases: Vec<Case>,
    skipped: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Case {
    file: String,
    pickle: String,
    expected: String,
}

#[derive(Debug, Deserialize)]
struct Expected {
    variants: HashMap<String, serde_json::Value>,
}

#[test]
#[ignore = "full tier: needs Python, scikit-learn and skops from PyPI (tests/run.sh)"]
fn skops_archives_answer_as_scikit_learn() {
    let root = skops_matrices();
    check_versions(&root.join("pipelines"), 100);
    check_versions(&root.join("trees"), 150);
}

#[test]
#[ignore = "full tier: needs Python, scikit-learn and skops from PyPI (tests/run.sh)"]
fn skops_archives_answer_exactly_as_their_pickles_and_audit_clean() {
    let root = skops_matrices();
    let mut versions = Vec::new();
    let mut protocols = Vec::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for kind in ["pipelines", "trees"] {
        for dir in manifests_under(&root.join(kind)) {
            let manifest: Manifest = read_json(&dir.join("manifest.json"));
            assert!(
                manifest.skipped.is_empty(),
                "skops {} could not write every model of {}: {:?}",
                manifest.skops_version,
                dir.display(),
                manifest.skipped
            );
            let csvs: HashMap<&str, Csv> = manifest
                .inputs
                .iter()
                .map(|(name, file)| (name.as_str(), read_csv(&dir.join(file))))
                .collect();
            for case in &manifest.cases {
                let protocol = manifest.skops_protocols[0];
                if let Err(why) = same_as_pickle(&dir, case, protocol, &csvs) {
                    failures.push(format!(
                        "{} (skops {}): {why}",
                        case.file, manifest.skops_version
                    ));
                }
                checked += 1;
            }
            versions.push(manifest.skops_version.clone());
            protocols.extend(manifest.skops_protocols);
        }
    }
    assert!(
        failures.is_empty(),
        "{} archives differ from their pickles:\n{}",
        failures.len(),
        failures.join("\n")
    );
    versions.sort();
    versions.dedup();
    protocols.sort();
    protocols.dedup();
    assert_eq!(protocols, [1, 2], "{versions:?}");
    for old in ["0.6.", "0.10."] {
        assert!(
            versions.iter().any(|v| v.starts_with(old)),
            "no skops {old}x among {versions:?}"
        );
    }
    assert_eq!(versions.len(), 3, "{versions:?}");
    // About 200 models, each stored and, from skops 0.7, deflated: 334 archives today.
    assert!(checked >= 300, "only {checked} archives");
    eprintln!("{checked} skops archives of skops {versions:?} answer exactly as their pickles");
}

fn load(path: &Path) -> Result<(Vec<u8>, Model), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let model = Model::from_bytes(&bytes).map_err(|e| e.explain(&path.display().to_string()))?;
    Ok((bytes, model))
}

fn same_as_pickle(
    dir: &Path,
    case: &Case,
    protocol: u8,
    csvs: &HashMap<&str, Csv>,
) -> Result<(), String> {
    let (bytes, skops) = load(&dir.join(&case.file))?;
    let (_, pickle) = load(&dir.join(&case.pickle))?;
    if (skops.origin().format, skops.origin().protocol) != ("skops", Some(protocol)) {
        return Err(format!("origin {:?}", skops.origin()));
    }
    let report = inspect(&bytes, &case.file);
    if let Some(refused) = report.globals.iter().find(|g| !g.allowed) {
        return Err(format!("the audit refuses {}", refused.name));
    }
    let described = |m: &Model| {
        (
            m.estimator(),
            m.chain().to_owned(),
            m.structure().clone(),
            m.classes_json(),
            m.methods().to_vec(),
        )
    };
    if described(&skops) != described(&pickle) {
        return Err("its structure, classes or outputs differ from the pickle's".into());
    }
    let expected: Expected = read_json(&dir.join(&case.expected));
    let mut inputs: Vec<&str> = expected
        .variants
        .keys()
        .filter_map(|k| k.rsplit_once('-').map(|(input, _)| input))
        .collect();
    inputs.sort();
    inputs.dedup();
    for input in inputs {
        let csv = &csvs[input];
        let rows: Vec<usize> = (0..csv.rows.len()).collect();
        for dtype in [Dtype::F64, Dtype::F32] {
            let (a, b) = (
                answers(&skops, csv, &rows, dtype),
                answers(&pickle, csv, &rows, dtype),
            );
            let same = match (&a, &b) {
                (Err(x), Err(y)) => x == y,
                (Ok(x), Ok(y)) => x.predicted == y.predicted && bitwise(&x.values, &y.values),
                _ => false,
            };
            if !same {
                return Err(format!(
                    "{input} as {dtype:?}: the answers differ from the pickle's"
                ));
            }
        }
    }
    Ok(())
}

/// What a model answers on rows of a CSV: its prediction and every numeric output.
struct Answers {
    predicted: Prediction,
    values: Vec<Option<Array2<f64>>>,
}

fn answers(model: &Model, csv: &Csv, rows: &[usize], dtype: Dtype) -> Result<Answers, String> {
    let frame = frame(model, csv, rows, dtype).map_err(|e| e.to_string())?;
    let features = model.features(&frame).map_err(|e| e.to_string())?;
    let mut values: Vec<_> = model
        .methods()
        .iter()
        .map(|&m| model.values(m, &features))
        .collect();
    values.push(model.predict_proba(&features));
    values.push(model.decision_function(&features));
    Ok(Answers {
        predicted: model.predict(&features),
        values,
    })
}

/// Equal to the bit, NaN included.
fn bitwise(a: &[Option<Array2<f64>>], b: &[Option<Array2<f64>>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(p, q)| match (p, q) {
            (None, None) => true,
            (Some(p), Some(q)) => {
                p.shape() == q.shape() && p.iter().zip(q).all(|(u, v)| u.to_bits() == v.to_bits())
            }
            _ => false,
        })
}
