//! The checked-in skops archives (tests/fixtures/skops_seeds, written by skops 0.6, 0.10 and
//! the newest skops; `tests/python/skops/make_seeds.sh`): each loads, answers as the pickle
//! of the same model does (the matrix checks that in full), and `inspect` reports format
//! `skops`, the archive's protocol and every type it names, all allowed.

use std::path::PathBuf;

use skserve::model::{Model, inspect};

use crate::helpers::{repo, skserve};

/// Every seed, with the protocol its skops wrote.
pub fn seeds() -> Vec<(PathBuf, u8)> {
    let dir = repo().join("tests/fixtures/skops_seeds");
    let mut seeds: Vec<(PathBuf, u8)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "skops"))
        .map(|p| {
            let protocol = if p.to_string_lossy().contains("skops0.6") {
                1
            } else {
                2
            };
            (p, protocol)
        })
        .collect();
    seeds.sort();
    assert_eq!(seeds.len(), 4, "the checked-in seeds");
    seeds
}

#[test]
fn every_seed_loads_and_inspect_reports_format_protocol_and_audit() {
    for (path, protocol) in seeds() {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let model = Model::from_bytes(&bytes).unwrap_or_else(|e| panic!("{}", e.explain(&name)));
        assert_eq!(model.origin().format, "skops", "{name}");
        assert_eq!(model.origin().protocol, Some(protocol), "{name}");
        let report = inspect(&bytes, &name);
        assert_eq!(report.format, "skops", "{name}");
        assert_eq!(report.protocol, Some(protocol), "{name}");
        assert!(report.loadable, "{name}: {:?}", report.error);
        assert!(
            report.globals.iter().all(|g| g.allowed),
            "{name}: {:?}",
            report.globals
        );
        for expected in ["builtins.dict", "numpy.ndarray"] {
            assert!(
                report.globals.iter().any(|g| g.name == expected),
                "{name} names no {expected}"
            );
        }
    }
}

#[test]
fn the_command_line_inspects_a_skops_archive() {
    let (path, _) = seeds()
        .into_iter()
        .find(|(p, _)| p.to_string_lossy().contains("ct_ohe"))
        .unwrap();
    let out = skserve()
        .args(["inspect", "--model"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["format"], "skops");
    assert_eq!(report["protocol"], 2);
    assert_eq!(report["estimator"], "Pipeline");
    assert_eq!(report["chain"], "ColumnTransformer>LogisticRegression");
    let globals = report["globals"].as_array().unwrap();
    assert!(globals.iter().any(|g| g["name"]
        == "sklearn.linear_model._logistic.LogisticRegression"
        && g["allowed"] == true));
}
