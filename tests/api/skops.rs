//! skops archives through the server and the command line: a Pipeline saved by skops is served
//! over V1 and V2 with the answers `skserve predict` gives; a hostile archive stops
//! `skserve serve` with exit status 2 naming what it refused; a served archive is replaced by a
//! new one and kept through a hostile one, from a file and from Cloud Storage (the emulator).
//! That the answers are scikit-learn's, for every model of the matrices, is
//! tests/model/skops/matrix.rs's part.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use skserve::config::ServeSettings;
use skserve::store::ModelSource;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::helpers::{
    BUCKET, GcsEmulator, OBJECT, TestApp, eventually, json, replace_file, repo, spawn_app_with,
    spawn_app_with_model, wait_for_refresh_failures,
};

/// A ColumnTransformer → LogisticRegression Pipeline fitted on a DataFrame by scikit-learn 1.9
/// and saved by the newest skops (tests/python/skops/make_seeds.sh).
fn pipeline_archive() -> PathBuf {
    repo().join("tests/fixtures/skops_seeds/pipeline_ct_ohe_logistic__skops-newest.skops")
}

/// Rows of the Pipeline's columns: known and unknown cities, a missing temperature.
const ROWS: &str = "city,temp,kind,delay,month,empty
Lima,21.5,I,3.0,7,
Quito,,N,12.5,1,
Atlantis,-3.25,X,0.0,12,
Bogota,30.0,I,45.0,6,
";

fn v1_instances() -> Value {
    let mut lines = ROWS.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let instances: Vec<Value> = lines
        .map(|line| {
            let row: serde_json::Map<String, Value> = header
                .iter()
                .zip(line.split(','))
                .map(|(name, field)| {
                    let value = match field.parse::<f64>() {
                        _ if field.is_empty() => Value::Null,
                        Ok(v) => json!(v),
                        Err(_) => json!(field),
                    };
                    ((*name).to_owned(), value)
                })
                .collect();
            Value::Object(row)
        })
        .collect();
    json!({ "instances": instances })
}

/// `skserve predict`'s lines for [`ROWS`]: `LABEL,SCORE`.
fn command_line_answers(model: &Path) -> Vec<(String, f64)> {
    let dir = temp_dir("cli");
    let input = dir.join("rows.csv");
    std::fs::write(&input, ROWS).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_skserve"))
        .args(["predict", "--model"])
        .arg(model)
        .arg("--input")
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (label, score) = line.rsplit_once(',').unwrap();
            (label.to_owned(), score.parse().unwrap())
        })
        .collect()
}

fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("skserve-skops-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An archive's members, in order.
fn members(archive: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = ZipArchive::new(Cursor::new(archive)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut member = zip.by_index(i).unwrap();
            let mut bytes = Vec::new();
            member.read_to_end(&mut bytes).unwrap();
            (member.name().unwrap().into_owned(), bytes)
        })
        .collect()
}

fn zip(members: &[(String, Vec<u8>)], method: CompressionMethod) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in members {
        writer.start_file(name.as_str(), options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// The same model in other bytes: the archive's members deflated.
fn deflated(archive: &[u8]) -> Vec<u8> {
    zip(&members(archive), CompressionMethod::Deflated)
}

/// The archive with its LogisticRegression's state naming `os.system` instead.
fn hostile(archive: &[u8]) -> Vec<u8> {
    fn rename(state: &mut Value) -> bool {
        if state["__class__"] == "LogisticRegression" {
            state["__module__"] = json!("os");
            state["__class__"] = json!("system");
            return true;
        }
        match state {
            Value::Object(fields) => fields.values_mut().any(rename),
            Value::Array(items) => items.iter_mut().any(rename),
            _ => false,
        }
    }
    let mut members = members(archive);
    let schema = members
        .iter_mut()
        .find(|(n, _)| n == "schema.json")
        .unwrap();
    let mut value: Value = serde_json::from_slice(&schema.1).unwrap();
    assert!(rename(&mut value), "the Pipeline has a LogisticRegression");
    schema.1 = serde_json::to_vec(&value).unwrap();
    zip(&members, CompressionMethod::Stored)
}

/// The version that answers a V1 prediction of the Pipeline served as `m`.
async fn served_version(app: &TestApp) -> String {
    let response = app.v1_predict("m", "", &v1_instances()).await;
    assert_eq!(response.status(), 200);
    response.headers()["x-model-version"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_skops_pipeline_is_served_with_the_answers_of_the_command_line() {
    let path = pipeline_archive();
    let expected = command_line_answers(&path);
    assert_eq!(expected.len(), 4);
    let app = spawn_app_with_model(&path).await;
    let name = path.file_stem().unwrap().to_str().unwrap();

    let (status, body) = json(app.v1_predict(name, "?proba=true", &v1_instances()).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["classes"], json!(["delayed", "on_time"]));
    for (i, (label, score)) in expected.iter().enumerate() {
        assert_eq!(body["predictions"][i], json!(label), "row {i}");
        let column = if label == "delayed" { 0 } else { 1 };
        assert_eq!(
            body["probabilities"][i][column].as_f64().unwrap().to_bits(),
            score.to_bits(),
            "row {i}"
        );
    }

    let (status, metadata) = json(app.model_metadata(name).await).await;
    assert_eq!(status, 200, "{metadata}");
    assert_eq!(metadata["platform"], "sklearn");
}

#[tokio::test]
async fn serve_refuses_a_hostile_archive_with_exit_2_naming_the_type() {
    let dir = temp_dir("serve");
    let path = dir.join("model.skops");
    std::fs::write(&path, hostile(&std::fs::read(pipeline_archive()).unwrap())).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_skserve"))
        .args(["serve", "--listen", "127.0.0.1:0", "--model"])
        .arg(&path)
        .env_remove("PORT")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), out)
        .await
        .expect("skserve serve exits")
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("os.system"), "{stderr}");
}

fn refreshed(model: ModelSource, emulator: Option<&GcsEmulator>) -> ServeSettings {
    ServeSettings {
        model,
        model_name: "m".into(),
        refresh_interval: Duration::from_millis(200),
        storage_emulator_host: emulator.map(GcsEmulator::host),
        ..ServeSettings::default()
    }
}

#[tokio::test]
async fn a_watched_archive_is_replaced_and_a_hostile_one_refused() {
    let archive = std::fs::read(pipeline_archive()).unwrap();
    let dir = temp_dir("watched");
    let path = dir.join("model.skops");
    std::fs::write(&path, &archive).unwrap();
    let app = spawn_app_with(refreshed(ModelSource::File(path.clone()), None)).await;
    let first = served_version(&app).await;

    replace_file(&path, &hostile(&archive));
    wait_for_refresh_failures(&app, "refused", 1.0).await;
    assert_eq!(served_version(&app).await, first);

    replace_file(&path, &deflated(&archive));
    eventually("the replaced archive", || async {
        served_version(&app).await != first
    })
    .await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
#[ignore = "full tier: needs fake-gcs-server from PyPI (tests/run.sh)"]
async fn an_archive_in_cloud_storage_is_served_replaced_and_kept_through_a_hostile_one() {
    let archive = std::fs::read(pipeline_archive()).unwrap();
    let emulator = GcsEmulator::start().await;
    let first = emulator.upload(OBJECT, archive.clone()).await;
    let source = ModelSource::Gcs {
        bucket: BUCKET.into(),
        object: OBJECT.into(),
    };
    let app = spawn_app_with(refreshed(source, Some(&emulator))).await;
    assert_eq!(served_version(&app).await, first);

    emulator.upload(OBJECT, hostile(&archive)).await;
    wait_for_refresh_failures(&app, "refused", 1.0).await;
    assert_eq!(served_version(&app).await, first);

    let second = emulator.upload(OBJECT, deflated(&archive)).await;
    eventually("the new generation", || async {
        served_version(&app).await == second
    })
    .await;
    let (status, body) = json(app.v1_predict("m", "", &v1_instances()).await).await;
    assert_eq!(status, 200, "{body}");
    let labels: Vec<String> = command_line_answers(&pipeline_archive())
        .into_iter()
        .map(|(label, _)| label)
        .collect();
    assert_eq!(body["predictions"], json!(labels));
}
