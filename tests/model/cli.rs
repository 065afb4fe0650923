//! The command line as a user meets it: the challenge model against scikit-learn's answers,
//! standard input, and errors with their exit statuses.

use std::io::Write;
use std::process::Stdio;

use crate::helpers::{close, repo, skserve};

#[test]
fn predict_matches_scikit_learn_on_the_challenge_data() {
    let out = skserve()
        .args([
            "predict",
            "--model",
            "model-files/pickle_model.pkl",
            "--input",
            "model-files/x_test.csv",
        ])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = String::from_utf8(out.stdout).unwrap();
    let expected = std::fs::read_to_string(repo().join("model-files/expected_test.csv")).unwrap();
    let truth = std::fs::read_to_string(repo().join("model-files/y_test.csv")).unwrap();

    let (mut rows, mut correct) = (0usize, 0usize);
    for ((got, expected), truth) in got.lines().zip(expected.lines()).zip(truth.lines()) {
        let (label, score) = got.split_once(',').unwrap();
        let (expected_label, p1) = expected.split_once(',').unwrap();
        assert_eq!(label, expected_label, "row {rows}");
        // expected_test.csv holds P(class 1); skserve prints the predicted class's probability.
        let p1: f64 = p1.parse().unwrap();
        let best = p1.max(1.0 - p1);
        let score: f64 = score.parse().unwrap();
        assert!(
            close(score, best, 1e-12, 0.0),
            "row {rows}: {score} vs {best}"
        );
        correct += usize::from(label == truth.trim());
        rows += 1;
    }
    assert_eq!(rows, 22_508);
    let accuracy = correct as f64 / rows as f64;
    assert_eq!(format!("{accuracy:.4}"), "0.6036");
}

/// `skserve predict` on the challenge model with `input` on standard input.
fn predict_stdin(input: &str) -> std::process::Output {
    let mut child = skserve()
        .args([
            "predict",
            "--model",
            "model-files/pickle_model.pkl",
            "--input",
            "-",
        ])
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn predict_reads_standard_input_with_crlf() {
    let row = "0,1,0,0,0,1,0,1,0,0,0,1,0,0,0,1,0,1,0,1,0,1,0,0,0,1,0,0,0,1,0,0,0,1,0,0,0";
    let out = predict_stdin(&format!("{row}\r\n{row}\r\n"));
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(text.lines().all(|l| l.starts_with("1,")), "{text}");
}

#[test]
fn a_short_row_is_named_with_the_expected_count() {
    let full = ["0"; 37].join(",");
    let out = predict_stdin(&format!("{full}\n0,1,0\n"));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("row 2 has 3 columns, expected 37"), "{err}");
}

#[test]
fn a_missing_model_file_is_exit_1_not_a_panic() {
    let out = skserve()
        .args(["predict", "--model", "/nonexistent.pkl", "--input", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent.pkl"));
}

#[test]
fn inspect_describes_the_challenge_model() {
    let out = skserve()
        .args(["inspect", "--model", "model-files/pickle_model.pkl"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["estimator"], "LogisticRegression");
    assert_eq!(report["sklearn_version"], "1.1.2");
    assert_eq!(report["n_features_in"], 37);
    assert_eq!(report["classes"], serde_json::json!([0, 1]));
    assert_eq!(report["format"], "pickle");
    assert_eq!(report["protocol"], 4);
    let globals: Vec<&str> = report["globals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        globals,
        [
            "sklearn.linear_model._logistic.LogisticRegression",
            "numpy.core.multiarray._reconstruct",
            "numpy.ndarray",
            "numpy.dtype"
        ]
    );
    assert!(
        report["globals"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["allowed"] == true)
    );
}
