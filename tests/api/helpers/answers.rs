//! The protocol fixtures (`tests/fixtures/protocols`, made by
//! `tests/python/protocols/make_protocol_fixtures.py` with scikit-learn 1.9 and checked in
//! with its answers) and comparing any entry's output with scikit-learn's: values flattened in
//! row order, labels exactly, numbers within 1e-9 relative.

use std::path::PathBuf;

use serde_json::Value;

use super::{f64s, i64s, repo, strings};

const REL: f64 = 1e-9;
/// Values below this compare absolutely (sums that cancel).
const FLOOR: f64 = 1e-12;

pub fn protocol_fixture(file: &str) -> PathBuf {
    let path = repo().join("tests/fixtures/protocols").join(file);
    assert!(path.exists(), "missing fixture {}", path.display());
    path
}

/// `numeric.json` or `text.json`: inputs and, per model, scikit-learn's answers by method.
pub fn protocol_expected(file: &str) -> Value {
    serde_json::from_slice(&std::fs::read(protocol_fixture(file)).unwrap()).unwrap()
}

/// The outputs scikit-learn answered for a model (`answers` by method), in the order the
/// fixture script asks them: predict first.
pub fn answered_methods(answers: &Value) -> Vec<&'static str> {
    [
        "predict",
        "predict_proba",
        "decision_function",
        "score_samples",
        "transform",
    ]
    .into_iter()
    .filter(|m| answers.get(m).is_some())
    .collect()
}

/// Every scalar of `value`, nested arrays flattened in row order.
pub fn flat(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.iter().flat_map(flat).collect(),
        scalar => vec![scalar.clone()],
    }
}

/// The elements of a binary output (V2's binary extension, gRPC's raw contents) in
/// `datatype`, as JSON scalars.
pub fn decoded(datatype: &str, bytes: &[u8]) -> Vec<Value> {
    match datatype {
        "FP64" => f64s(bytes).into_iter().map(Value::from).collect(),
        "INT64" => i64s(bytes).into_iter().map(Value::from).collect(),
        "BYTES" => strings(bytes).into_iter().map(Value::from).collect(),
        other => panic!("no decoding of {other} here"),
    }
}

/// Asserts `actual` is scikit-learn's `expected`: strings and integers exactly, floats within
/// 1e-9 relative.
pub fn assert_answers(actual: &[Value], expected: &[Value], what: &str) {
    assert_eq!(
        actual.len(),
        expected.len(),
        "{what}: {actual:?} vs {expected:?}"
    );
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let same = match (a.as_f64(), e.as_f64()) {
            (Some(a), Some(e)) => (a - e).abs() <= (REL * e.abs()).max(FLOOR),
            _ => a == e,
        };
        assert!(same, "{what}, element {i}: {a} vs scikit-learn's {e}");
    }
}

/// What `skserve predict` prints for `csv` through the protocol fixture `name`.
pub fn cli_predict(name: &str, csv: &str) -> String {
    let path = std::env::temp_dir().join(format!("skserve-protocols-{name}-{}.csv", csv.len()));
    std::fs::write(&path, csv).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_skserve"))
        .arg("predict")
        .arg("--model")
        .arg(protocol_fixture(&format!("{name}.pkl")))
        .arg("--input")
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{name}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}
