//! Hostile files: every one is refused with exit status 2 and a message naming what was
//! refused, by the loader, by `predict` and by `inspect` (which still reports its audit).
//! Also hand-made abuse of the VM's limits: deep nesting, huge length fields, memo abuse.

use serde::Deserialize;
use skserve::model::Model;

use crate::helpers::{read_json, repo, skserve};

#[derive(Debug, Deserialize)]
struct Hostile {
    file: String,
    refused: String,
    why: String,
}

fn hostile_files() -> Vec<Hostile> {
    let list: Vec<Hostile> = read_json(&repo().join("tests/fixtures/hostile/manifest.json"));
    assert!(
        list.len() >= 30,
        "expected the full hostile set, found {}",
        list.len()
    );
    list
}

#[test]
fn every_hostile_file_is_refused_naming_what() {
    let dir = repo().join("tests/fixtures/hostile");
    let mut failures = Vec::new();
    for h in hostile_files() {
        let bytes = std::fs::read(dir.join(&h.file)).unwrap();
        match Model::from_bytes(&bytes) {
            Ok(_) => failures.push(format!("{} ({}) loaded", h.file, h.why)),
            Err(e) => {
                let message = e.explain(&h.file);
                if !message.contains(&h.refused) {
                    failures.push(format!(
                        "{}: '{message}' does not name '{}'",
                        h.file, h.refused
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_command_line_refuses_hostile_files_with_exit_2() {
    let dir = repo().join("tests/fixtures/hostile");
    for h in hostile_files() {
        let path = dir.join(&h.file);
        let out = skserve()
            .args(["predict", "--input", "-", "--model"])
            .arg(&path)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", h.file);
        assert!(stderr.contains(&h.refused), "{}: {stderr}", h.file);
        assert!(!stderr.contains("panicked"), "{}: {stderr}", h.file);

        let out = skserve()
            .args(["inspect", "--model"])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "inspect {}", h.file);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("inspect {} printed no JSON: {e}", h.file));
        assert_eq!(report["loadable"], false);
    }
}

#[test]
fn inspect_audits_a_refused_global_without_running_it() {
    // GLOBAL 'posix system', the argument, REDUCE: the classic.
    let path = std::env::temp_dir().join(format!("skserve-evil-{}.pkl", std::process::id()));
    std::fs::write(
        &path,
        b"\x80\x02cposix\nsystem\nq\x00X\x05\x00\x00\x00touchq\x01\x85q\x02Rq\x03.",
    )
    .unwrap();
    let out = skserve()
        .args(["inspect", "--model"])
        .arg(&path)
        .output()
        .unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["globals"],
        serde_json::json!([{"name": "posix.system", "allowed": false}])
    );
    let error = report["error"].as_str().unwrap();
    assert!(
        error.starts_with("refusing to load skserve-evil-"),
        "{error}"
    );
    assert!(
        error.ends_with("it references posix.system, which is not an allowed class"),
        "{error}"
    );
}

fn load_err(bytes: &[u8]) -> String {
    Model::from_bytes(bytes)
        .expect_err("hostile input loaded")
        .to_string()
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let depth = 1_000_000;
    let mut bytes = b"\x80\x04".to_vec();
    bytes.extend(std::iter::repeat_n(b']', depth));
    bytes.extend(std::iter::repeat_n(b'a', depth - 1));
    bytes.push(b'.');
    assert!(load_err(&bytes).contains("nesting depth exceeds"));

    let mut marks = b"\x80\x04".to_vec();
    marks.extend(std::iter::repeat_n(b'(', depth));
    marks.push(b'.');
    assert!(load_err(&marks).contains("stack underflow"));
}

#[test]
fn a_self_referencing_list_is_refused() {
    // ] MEMOIZE, h0 (the list itself), APPEND: a list that contains itself.
    assert!(load_err(b"\x80\x04]\x94h\x00a.").contains("cycle"));
}

#[test]
fn huge_length_fields_allocate_nothing() {
    for opcode in [0x8d_u8, 0x8e, 0x96] {
        let mut bytes = vec![0x80, 0x04, opcode];
        bytes.extend(u64::MAX.to_le_bytes());
        let err = load_err(&bytes);
        assert!(
            err.contains("length field too large") || err.contains("truncated"),
            "{err}"
        );
        let mut bytes = vec![0x80, 0x04, opcode];
        bytes.extend((1u64 << 40).to_le_bytes());
        assert!(load_err(&bytes).contains("truncated"));
    }
    let mut frame = vec![0x80, 0x04, 0x95];
    frame.extend(u64::MAX.to_le_bytes());
    frame.push(b'N');
    frame.push(b'.');
    assert!(load_err(&frame).contains("not a scikit-learn estimator"));
}

#[test]
fn memo_abuse_is_a_clear_error() {
    // A get of a key never put, a put on an empty stack, a huge key.
    assert!(load_err(b"\x80\x04h\x07.").contains("memo key 7 was never stored"));
    assert!(load_err(b"\x80\x04q\x00.").contains("stack underflow"));
    assert!(
        load_err(b"\x80\x04Nr\xff\xff\xff\xffj\xff\xff\xff\xff.")
            .contains("not a scikit-learn estimator")
    );
    // A million gets of one string: the stack grows with the input, then is dropped whole.
    let mut bytes = b"\x80\x04\x8c\x01a\x94(".to_vec();
    bytes.extend(std::iter::repeat_n(*b"h\x00", 1_000_000).flatten());
    bytes.extend(b"l.");
    assert!(load_err(&bytes).contains("not a scikit-learn estimator"));
}

#[test]
fn array_shapes_must_match_their_bytes() {
    // _frombuffer(b'\0' * 8, dtype('f8'), (10**7, 10**7), 'C')
    let mut bytes = b"\x80\x05\x8c\x13numpy._core.numeric\x8c\x0b_frombuffer\x93(".to_vec();
    bytes.extend(b"\x96\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00");
    bytes.extend(b"\x8c\x05numpy\x8c\x05dtype\x93\x8c\x02f8\x89\x88\x87R");
    bytes.extend(b"\x8a\x04\x80\x96\x98\x00\x8a\x04\x80\x96\x98\x00\x86\x8c\x01Ct");
    bytes.extend(b"R.");
    let err = load_err(&bytes);
    assert!(
        err.contains("needs 800000000000000 bytes but the file holds 8"),
        "{err}"
    );
}

#[test]
fn an_unsupported_estimator_is_named_with_what_is_served() {
    // An SVC: STACK_GLOBAL, NEWOBJ, an empty state.
    let mut bytes = b"\x80\x04\x8c\x14sklearn.svm._classes\x8c\x03SVC\x93".to_vec();
    bytes.extend(b")\x81}b.");
    let err = Model::from_bytes(&bytes).unwrap_err().explain("svc.pkl");
    assert_eq!(
        err,
        format!(
            "refusing to load svc.pkl: it references sklearn.svm._classes.SVC, \
             which is not an allowed class (skserve serves {})",
            skserve::model::catalog::supported()
        )
    );
}

/// Real Pipelines with one piece of fitted state edited (`tests/python/pipelines/
/// make_malformed.py`): every one is refused at load, naming the step's attribute (or the
/// callable), with exit status 2 and no panic; every class the Pipeline support serves is
/// the one refused in at least one of them.
#[test]
fn every_malformed_pipeline_is_refused_naming_what() {
    let classes = [
        "Pipeline",
        "ColumnTransformer",
        "StandardScaler",
        "MinMaxScaler",
        "RobustScaler",
        "MaxAbsScaler",
        "OneHotEncoder",
        "OrdinalEncoder",
        "SimpleImputer",
        "MissingIndicator",
        "FunctionTransformer",
        "LinearRegression",
        "Ridge)",
        "RidgeCV",
        "Lasso)",
        "LassoCV",
        "ElasticNet",
        "SGDRegressor",
        "HuberRegressor",
        "LinearSVR",
        "PoissonRegressor",
        "GammaRegressor",
        "TweedieRegressor",
        "GridSearchCV",
        "RandomizedSearchCV",
    ];
    refused_as_listed(&repo().join("tests/fixtures/malformed"), 100, &classes);
}

/// Every file of `dir`'s manifest (at least `at_least`) is refused at load naming what its
/// entry says, and by `predict` with exit status 2 and no panic; each of `classes` is named
/// by at least one refusal.
pub fn refused_as_listed(dir: &std::path::Path, at_least: usize, classes: &[&str]) {
    let list: Vec<Hostile> = read_json(&dir.join("manifest.json"));
    assert!(
        list.len() >= at_least,
        "found {} malformed files",
        list.len()
    );
    let mut failures = Vec::new();
    let mut messages = Vec::new();
    for h in &list {
        let bytes = std::fs::read(dir.join(&h.file)).unwrap();
        match Model::from_bytes(&bytes) {
            Ok(_) => failures.push(format!("{} ({}) loaded", h.file, h.why)),
            Err(e) => {
                // A neutral file name: the fixture's own name must not be what matches.
                let message = e.explain("the model file");
                if !message.contains(&h.refused) {
                    failures.push(format!(
                        "{}: '{message}' does not name '{}'",
                        h.file, h.refused
                    ));
                }
                messages.push(message);
            }
        }
        let out = skserve()
            .args(["predict", "--input", "-", "--model"])
            .arg(dir.join(&h.file))
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(2) || stderr.contains("panicked") {
            failures.push(format!(
                "{}: exit {:?}: {stderr}",
                h.file,
                out.status.code()
            ));
        }
    }
    for class in classes {
        if !messages.iter().any(|m| m.contains(class)) {
            failures.push(format!("no malformed file is refused naming {class}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Real estimators with one attribute edited (`tests/python/estimators/
/// make_malformed_estimators.py`): the rest of the linear models, cross decomposition,
/// outlier detectors, clusters, mixtures, KernelRidge and Gaussian processes, each refused at
/// load naming the attribute, with exit status 2 and no panic.
#[test]
fn every_malformed_estimator_is_refused_naming_the_attribute() {
    let classes = [
        "QuantileRegressor",
        "BayesianRidge",
        "ARDRegression",
        "TheilSenRegressor",
        "RANSACRegressor",
        "PassiveAggressiveClassifier",
        "PassiveAggressiveRegressor",
        "LogisticRegressionCV",
        ": Lars:",
        "LarsCV",
        ": LassoLars:",
        "LassoLarsCV",
        "LassoLarsIC",
        ": OrthogonalMatchingPursuit:",
        "OrthogonalMatchingPursuitCV",
        "SGDOneClassSVM",
        ": MultiTaskLasso:",
        ": MultiTaskElasticNet:",
        "MultiTaskLassoCV",
        "MultiTaskElasticNetCV",
        "PLSRegression",
        "PLSCanonical",
        "CCA",
        "PLSSVD",
        "IsolationForest",
        "EllipticEnvelope",
        ": KMeans:",
        "MiniBatchKMeans",
        "BisectingKMeans",
        "Birch",
        "AffinityPropagation",
        "MeanShift",
        "GaussianMixture",
        "BayesianGaussianMixture",
        "KernelRidge",
        "GaussianProcessRegressor",
        "GaussianProcessClassifier",
    ];
    refused_as_listed(
        &repo().join("tests/fixtures/malformed_estimators"),
        100,
        &classes,
    );
}
