//! The model-health fixture (`tests/fixtures/health/`, made by
//! `tests/python/health/make_health_model.py`): a Pipeline of a MinMaxScaler over `distance`
//! and `duration`, a OneHotEncoder ignoring unknown `airline`s and a median imputer over
//! `passengers`, fitted on `train.csv`; `fresh.csv` holds rows of the same distribution. Rows
//! as each protocol sends them, profiles made with `skserve profile`, and model health as
//! `/slo.json` shows it.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use skserve::grpc::generated::inference::model_infer_request::InferInputTensor;
use skserve::grpc::generated::inference::{InferTensorContents, ModelInferRequest};
use skserve::model::LoadLimits;

use super::{TestApp, eventually, repo};

/// One row of the fixture's CSVs; `None` is a missing value.
#[derive(Clone, Debug, PartialEq)]
pub struct Flight {
    pub distance: Option<f64>,
    pub duration: Option<f64>,
    pub airline: Option<String>,
    pub passengers: Option<f64>,
}

pub fn flights_file(name: &str) -> PathBuf {
    repo().join("tests/fixtures/health").join(name)
}

/// The rows of `train.csv` or `fresh.csv`.
pub fn flights(csv: &str) -> Vec<Flight> {
    let text = std::fs::read_to_string(flights_file(csv)).unwrap();
    let number = |f: &str| (!f.is_empty()).then(|| f.parse().unwrap());
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            Flight {
                distance: number(f[0]),
                duration: number(f[1]),
                airline: (!f[2].is_empty()).then(|| f[2].to_owned()),
                passengers: number(f[3]),
            }
        })
        .collect()
}

/// A fresh directory of this test process, `name`d.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("skserve-health-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A copy of a fixture model in `dir`, without a profile beside it yet.
pub fn model_in(dir: &Path, fixture: &str, as_name: &str) -> PathBuf {
    let path = dir.join(as_name);
    std::fs::copy(flights_file(fixture), &path).unwrap();
    path
}

/// `skserve profile --model MODEL --data DATA [--out OUT]`, in process; the profile's path.
pub fn profile(model: &Path, data: &Path, out: Option<&Path>) -> PathBuf {
    let mut said = Vec::new();
    skserve::commands::profile(model, data, out, 10, LoadLimits::default(), &mut said)
        .expect("skserve profile");
    let said = String::from_utf8(said).unwrap();
    let path = said
        .strip_prefix("wrote ")
        .and_then(|rest| rest.split(": ").next())
        .unwrap_or_else(|| panic!("skserve profile said {said:?}"));
    PathBuf::from(path)
}

/// V1 `instances` of named rows (`null` for a missing value).
pub fn v1_body(rows: &[Flight]) -> Value {
    let instances: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut row = serde_json::Map::new();
            row.insert("distance".into(), json!(r.distance));
            row.insert("duration".into(), json!(r.duration));
            row.insert("airline".into(), json!(r.airline));
            row.insert("passengers".into(), json!(r.passengers));
            Value::Object(row)
        })
        .collect();
    json!({ "instances": instances })
}

/// A V2 request of one tensor per column (rows without missing values).
pub fn v2_body(rows: &[Flight]) -> Value {
    let n = rows.len();
    let numbers = |name: &str, values: Vec<f64>| json!({"name": name, "datatype": "FP64", "shape": [n, 1], "data": values});
    let airlines: Vec<String> = rows.iter().map(|r| r.airline.clone().unwrap()).collect();
    let inputs = vec![
        numbers(
            "distance",
            rows.iter().map(|r| r.distance.unwrap()).collect(),
        ),
        numbers(
            "duration",
            rows.iter().map(|r| r.duration.unwrap()).collect(),
        ),
        json!({"name": "airline", "datatype": "BYTES", "shape": [n, 1], "data": airlines}),
        numbers(
            "passengers",
            rows.iter().map(|r| r.passengers.unwrap()).collect(),
        ),
    ];
    json!({ "inputs": inputs })
}

/// A gRPC `ModelInfer` of one tensor per column (a missing number as NaN).
pub fn grpc_request(model: &str, rows: &[Flight]) -> ModelInferRequest {
    let n = rows.len() as i64;
    let numbers = |name: &str, values: Vec<f64>| InferInputTensor {
        name: name.into(),
        datatype: "FP64".into(),
        shape: vec![n, 1],
        contents: Some(InferTensorContents {
            fp64_contents: values,
            ..Default::default()
        }),
        ..Default::default()
    };
    let nan = |v: Option<f64>| v.unwrap_or(f64::NAN);
    ModelInferRequest {
        model_name: model.into(),
        inputs: vec![
            numbers("distance", rows.iter().map(|r| nan(r.distance)).collect()),
            numbers("duration", rows.iter().map(|r| nan(r.duration)).collect()),
            InferInputTensor {
                name: "airline".into(),
                datatype: "BYTES".into(),
                shape: vec![n, 1],
                contents: Some(InferTensorContents {
                    bytes_contents: rows
                        .iter()
                        .map(|r| r.airline.clone().unwrap().into_bytes().into())
                        .collect(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            numbers(
                "passengers",
                rows.iter().map(|r| nan(r.passengers)).collect(),
            ),
        ],
        ..Default::default()
    }
}

/// The rows without a missing value (V2's JSON has no missing number).
pub fn complete(rows: &[Flight]) -> Vec<Flight> {
    rows.iter()
        .filter(|r| r.distance.is_some() && r.duration.is_some() && r.passengers.is_some())
        .filter(|r| r.airline.is_some())
        .cloned()
        .collect()
}

/// `model`'s health in `/slo.json`.
pub async fn health(app: &TestApp, model: &str) -> Value {
    let figures = app.slo_json().await;
    figures["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == model)
        .unwrap_or_else(|| panic!("no model {model} in {figures}"))["health"]
        .clone()
}

/// `model`'s health once its figures count `rows` rows (figures are computed at most every
/// few seconds).
pub async fn health_after(app: &TestApp, model: &str, rows: u64) -> Value {
    eventually(
        &format!("{model}'s health to count {rows} rows"),
        || async { health(app, model).await["rows"]["windows"][0]["rows"] == rows },
    )
    .await;
    health(app, model).await
}

/// A column's figures (`prediction` for the predictions).
pub fn column<'a>(health: &'a Value, feature: &str) -> &'a Value {
    if feature == "prediction" {
        return &health["prediction"];
    }
    health["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["feature"] == feature)
        .unwrap_or_else(|| panic!("no column {feature} in {health}"))
}

/// A column's PSI over `window` (`1h`, `1d`).
pub fn psi(health: &Value, feature: &str, window: &str) -> f64 {
    drift(health, feature, window, "psi")
}

/// A column's `statistic` (`psi`, `jensen_shannon`) over `window`.
pub fn drift(health: &Value, feature: &str, window: &str, statistic: &str) -> f64 {
    column(health, feature)["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["window"] == window)
        .and_then(|d| d[statistic].as_f64())
        .unwrap_or_else(|| panic!("no {statistic} over {window} for {feature}: {health}"))
}
