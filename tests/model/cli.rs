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
    predict_with(&repo().join("model-files/pickle_model.pkl"), input)
}

/// `skserve predict` on `model` with `input` on standard input.
fn predict_with(model: &std::path::Path, input: &str) -> std::process::Output {
    let mut child = skserve()
        .args(["predict", "--input", "-", "--model"])
        .arg(model)
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

fn challenge(file: &str) -> std::path::PathBuf {
    crate::helpers::pipeline_matrices()
        .join("challenge")
        .join(file)
}

/// `skserve predict` on a Pipeline with `input` on standard input.
fn predict_pipeline(model: &str, input: &str) -> std::process::Output {
    predict_with(&challenge(model), input)
}

#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn predict_reads_named_columns_of_strings_under_a_header() {
    let out = skserve()
        .args(["predict", "--model"])
        .arg(challenge("challenge_pipeline.pkl"))
        .arg("--input")
        .arg(challenge("challenge_rows.csv"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = String::from_utf8(out.stdout).unwrap();
    let expected = std::fs::read_to_string(challenge("challenge_expected.csv")).unwrap();
    let mut rows = 0;
    for (got, expected) in got.lines().zip(expected.lines()) {
        let (label, score) = got.split_once(',').unwrap();
        let (want_label, want_score) = expected.split_once(',').unwrap();
        assert_eq!(label, want_label, "row {rows}");
        let (score, want): (f64, f64) = (score.parse().unwrap(), want_score.parse().unwrap());
        assert!(
            close(score, want, 1e-12, 0.0),
            "row {rows}: {score} vs {want}"
        );
        rows += 1;
    }
    assert_eq!(rows, 22_508);
}

#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn a_regressor_prints_one_value_per_line_and_nan_is_missing() {
    let rows = std::fs::read_to_string(challenge("ridge_rows.csv")).unwrap();
    let expected = std::fs::read_to_string(challenge("ridge_expected.csv")).unwrap();
    // The first rows, with every empty field written as pandas and numpy write NaN.
    let input: String = rows
        .lines()
        .take(40)
        .map(|line| {
            let fields: Vec<&str> = line
                .split(',')
                .map(|f| if f.is_empty() { "nan" } else { f })
                .collect();
            fields.join(",") + "\r\n"
        })
        .collect();
    assert!(input.contains("nan"), "the rows hold a missing value");

    let out = predict_pipeline("ridge_pipeline.pkl", &input);

    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = String::from_utf8(out.stdout).unwrap();
    assert_eq!(got.lines().count(), 39);
    for (got, want) in got.lines().zip(expected.lines()) {
        let (got, want): (f64, f64) = (got.parse().unwrap(), want.parse().unwrap());
        assert!(close(got, want, 1e-12, 1e-9), "{got} vs {want}");
        // Python's repr: the shortest text that reads back as the same float.
        assert_eq!(got.to_string().parse::<f64>().unwrap(), got);
    }
}

#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn csv_mistakes_name_the_row_and_column_with_exit_1() {
    let cases = [
        (
            "Grupo LATAM,I,7\n",
            "this model takes named columns; the first row must be a header naming them (OPERA (strings), TIPOVUELO (strings), MES (numbers))",
        ),
        (
            "OPERA,TIPOVUELO,DIA\nGrupo LATAM,I,7\n",
            "unknown column \"DIA\"; the model's columns are OPERA, TIPOVUELO, MES",
        ),
        ("OPERA,TIPOVUELO\nGrupo LATAM,I\n", "missing column \"MES\""),
        (
            "OPERA,TIPOVUELO,MES\nGrupo LATAM,I,7\nSky Airline,N,July\n",
            "row 3, column \"MES\": \"July\" is not a number; MES takes numbers",
        ),
        (
            "OPERA,TIPOVUELO,MES\nGrupo LATAM,I\n",
            "row 2 has 2 fields but the header names 3",
        ),
    ];
    for (input, message) in cases {
        let out = predict_pipeline("challenge_pipeline.pkl", input);
        assert_eq!(out.status.code(), Some(1), "{input}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains(message),
            "{input:?}: '{err}' lacks '{message}'"
        );
    }
}

#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn inspect_prints_the_pipeline_structure_and_its_audit() {
    let out = skserve()
        .args(["inspect", "--model"])
        .arg(challenge("challenge_pipeline.pkl"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["estimator"], "Pipeline");
    assert_eq!(report["chain"], "ColumnTransformer>LogisticRegression");
    assert_eq!(
        report["feature_names"],
        serde_json::json!(["OPERA", "TIPOVUELO", "MES"])
    );
    assert_eq!(
        report["columns"][0],
        serde_json::json!({"name": "OPERA", "kind": "text"})
    );
    let encoder = &report["structure"]["steps"][0]["transformers"][0];
    assert_eq!(encoder["class"], "OneHotEncoder");
    assert_eq!(encoder["columns"][2]["column"], "MES");
    assert_eq!(encoder["columns"][2]["categories"][0], "1");
    assert!(
        encoder["columns"][0]["categories"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("Grupo LATAM"))
    );
    let globals: Vec<&str> = report["globals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert!(
        globals.contains(&"sklearn.pipeline.Pipeline"),
        "{globals:?}"
    );
    assert!(
        globals.contains(&"sklearn.preprocessing._encoders.OneHotEncoder"),
        "{globals:?}"
    );
    assert!(
        report["globals"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["allowed"] == true)
    );
}
