//! The protocols as real clients speak them: Triton's Python client (`tritonclient[http,grpc]`,
//! in the test venv) and KServe's SDK (`kserve`, in a venv of its own: it pins pandas below
//! 3), each run as a subprocess against skserve serving REST and gRPC, with the clients'
//! defaults. The scripts (`tests/python/clients/`) report what the clients got; here it is
//! compared with scikit-learn's answers. A missing package fails the test.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::{Value, json};
use skserve::config::ServeSettings;
use skserve::store::ModelSource;

use crate::helpers::{
    TestApp, assert_close, expected_test, matrix_tree, repo, spawn_app_with_grpc, trees_dir,
};

const MODEL: &str = "pickle_model";

/// The Python of a venv made by `tests/python/setup_venv.sh` (made here when missing: the
/// script returns at once when the venv is current).
fn venv_python(venv: &str, requirements: &str, imports: &str) -> PathBuf {
    let dir = repo().join("target").join(venv);
    let status = std::process::Command::new("bash")
        .arg(repo().join("tests/python/setup_venv.sh"))
        .arg(&dir)
        .arg(repo().join("tests/python").join(requirements))
        .arg(imports)
        .stdout(Stdio::null())
        .status()
        .expect("runs tests/python/setup_venv.sh");
    assert!(
        status.success(),
        "cannot make {}: the client tests need PyPI",
        dir.display()
    );
    dir.join("bin/python")
}

/// Runs a client script against `app`'s challenge model; its report.
async fn run_client(python: PathBuf, script: &str, http: String, app: &TestApp) -> Value {
    let rows = repo().join("model-files/x_test.csv");
    run_client_on(python, script, http, app, MODEL, &rows).await
}

/// Runs a client script against `model` of `app` with the rows of `csv`; its report.
async fn run_client_on(
    python: PathBuf,
    script: &str,
    http: String,
    app: &TestApp,
    model: &str,
    csv: &Path,
) -> Value {
    let grpc = format!("127.0.0.1:{}", app.grpc_port.unwrap());
    let output = tokio::process::Command::new(python)
        .arg(repo().join("tests/python/clients").join(script))
        .args([http.as_str(), grpc.as_str(), model])
        .arg(csv)
        .output()
        .await
        .expect("the client script runs");
    assert!(
        output.status.success(),
        "{script} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Every infer call of a report answered what scikit-learn answers for its rows.
fn assert_answers_like_scikit_learn(report: &Value, protocol: &str) {
    let calls = report["infer"].as_array().unwrap();
    assert!(!calls.is_empty());
    for call in calls {
        let rows = call["rows"].as_u64().unwrap() as usize;
        let what = format!(
            "{protocol}: {} rows of {}, binary {}",
            rows, call["datatype"], call["binary"]
        );
        let expected = expected_test(rows);
        let labels: Vec<i64> = expected.iter().map(|&(label, _)| label).collect();
        assert_eq!(call["predict"], json!(labels), "{what}");
        let Some(proba) = call["predict_proba"].as_array() else {
            assert_eq!(
                call["binary"],
                Value::Null,
                "{what}: only the defaults leave it out"
            );
            continue;
        };
        assert_eq!(proba.len(), rows, "{what}");
        for (i, (row, &(_, p1))) in proba.iter().zip(&expected).enumerate() {
            assert_close(row[1].as_f64().unwrap(), p1, &format!("{what}, row {i}"));
        }
    }
    let refused = &report["wrong_width"];
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("has shape [1, 36]; the model expects [N, 37] (37 features per row)"),
        "{protocol}: {refused}"
    );
    assert_eq!(report["live"], true, "{protocol}");
    assert_eq!(report["ready"], true, "{protocol}");
    assert_eq!(report["model_ready"], true, "{protocol}");
}

#[tokio::test]
#[ignore = "full tier: needs tritonclient and the KServe SDK from PyPI (tests/run.sh)"]
async fn tritonclient_http_and_grpc_with_their_defaults() {
    let python = venv_python(
        "test-venv",
        "requirements.txt",
        "tritonclient.http,tritonclient.grpc",
    );
    let app = spawn_app_with_grpc(ServeSettings::default()).await;

    let report = run_client(
        python,
        "triton_check.py",
        format!("127.0.0.1:{}", app.port),
        &app,
    )
    .await;

    for protocol in ["http", "grpc"] {
        let report = &report[protocol];
        assert_answers_like_scikit_learn(report, protocol);
        assert_eq!(report["server_metadata"]["name"], "skserve");
        assert_eq!(
            report["server_metadata"]["extensions"],
            json!(["binary_tensor_data"])
        );
        let metadata = &report["model_metadata"];
        assert_eq!(metadata["inputs"][0]["datatype"], "FP64");
        assert_eq!(metadata["outputs"][1]["name"], "predict_proba");
    }
    let binary_modes: Vec<&Value> = report["http"]["infer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["binary"])
        .collect();
    assert!(binary_modes.contains(&&json!(true)) && binary_modes.contains(&&json!(false)));
    assert_eq!(report["http"]["wrong_width"]["status"], "422");
    assert_eq!(
        report["grpc"]["wrong_width"]["status"],
        "StatusCode.INVALID_ARGUMENT"
    );
}

/// A classifier of two outputs of string labels: tritonclient decodes `predict` as a
/// `[N, 2]` array of strings and `predict_proba` as both outputs' probabilities side by side.
#[tokio::test]
#[ignore = "full tier: needs tritonclient and the KServe SDK from PyPI (tests/run.sh)"]
async fn tritonclient_reads_every_output_of_a_multi_output_classifier() {
    let python = venv_python(
        "test-venv",
        "requirements.txt",
        "tritonclient.http,tritonclient.grpc",
    );
    let id = "random_forest_two_labels";
    let (model, rows, expected) = matrix_tree(id);
    let app = spawn_app_with_grpc(ServeSettings {
        model: ModelSource::File(model),
        model_name: id.into(),
        ..ServeSettings::default()
    })
    .await;
    let csv = trees_dir().join(format!("sk1.9/inputs/edges_{id}.csv"));

    let report = run_client_on(
        python,
        "triton_outputs.py",
        format!("127.0.0.1:{}", app.port),
        &app,
        id,
        &csv,
    )
    .await;

    let answers = &expected["answers"];
    for protocol in ["http", "grpc"] {
        let report = &report[protocol];
        assert_eq!(
            report["predict"]["shape"],
            json!([rows.len(), 2]),
            "{protocol}"
        );
        assert_eq!(report["predict"]["data"], answers["predict"], "{protocol}");
        assert_eq!(report["predict_proba"]["shape"], json!([rows.len(), 5]));
        let got = numbers(&report["predict_proba"]["data"]);
        let want = numbers(&answers["predict_proba"]);
        assert_eq!(got.len(), want.len(), "{protocol}");
        for (i, (g, w)) in got.into_iter().zip(want).enumerate() {
            assert_close(g, w, &format!("{protocol}: predict_proba[{i}]"));
        }
    }
}

/// The numbers of a list of rows, in order.
fn numbers(rows: &Value) -> Vec<f64> {
    rows.as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
        .collect()
}

#[tokio::test]
#[ignore = "full tier: needs tritonclient and the KServe SDK from PyPI (tests/run.sh)"]
async fn kserve_rest_and_grpc_clients() {
    let python = venv_python("kserve-venv", "requirements-kserve.txt", "kserve");
    let app = spawn_app_with_grpc(ServeSettings::default()).await;

    let report = run_client(python, "kserve_check.py", app.address.clone(), &app).await;

    assert_answers_like_scikit_learn(&report["http"], "http");
    assert_answers_like_scikit_learn(&report["grpc"], "grpc");
    assert_eq!(report["http"]["wrong_width"]["status"], "422");
    assert_eq!(
        report["grpc"]["wrong_width"]["status"],
        "StatusCode.INVALID_ARGUMENT"
    );
}
