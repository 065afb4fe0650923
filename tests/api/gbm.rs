//! XGBoost and LightGBM files served (`tests/fixtures/gbm`: small real models, each with a
//! categorical feature): V2 metadata names their platform and columns, and V2 (JSON and
//! gRPC) and V1 answer as the model answers in-process, by column name where it has names.

use serde_json::{Value, json};
use skserve::config::ServeSettings;
use skserve::grpc::generated::inference::ModelMetadataRequest;
use skserve::model::{Cell, Dtype, Model};
use skserve::store::ModelSource;

use crate::helpers::{grpc_client, json, repo, spawn_app_with_grpc, spawn_app_with_model};

/// Four rows as a client sends them: three numbers and the XGBoost model's category by name.
const ROWS: [(f64, f64, f64, &str); 4] = [
    (17.99, 10.38, 122.8, "high"),
    (13.54, 14.36, 87.46, "low"),
    (11.42, 20.38, 77.58, "mid"),
    (20.57, 17.77, 132.9, "mid"),
];

fn path(name: &str) -> std::path::PathBuf {
    repo().join("tests/fixtures/gbm").join(name)
}

/// The probabilities of class 1 the model gives `ROWS` in-process, the category at `band`.
fn in_process(name: &str, band: impl for<'a> Fn(&'a str) -> Cell<'a>) -> Vec<f64> {
    let model = Model::from_bytes(&std::fs::read(path(name)).unwrap()).unwrap();
    let mut builder = model.frame_builder(ROWS.len());
    for (j, column) in [0usize, 1, 2].into_iter().enumerate() {
        let values = ROWS.iter().map(|r| [r.0, r.1, r.2][column]).collect();
        builder.set_numbers(j, values, Dtype::F64).unwrap();
    }
    for (i, row) in ROWS.iter().enumerate() {
        builder.set(i, 3, band(row.3)).unwrap();
    }
    let frame = builder.finish(skserve::model::Absent::Refused).unwrap();
    let x = model.features(&frame).unwrap();
    let proba = model.predict_proba(&x).unwrap();
    proba.column(1).to_vec()
}

fn code(band: &str) -> f64 {
    ["low", "mid", "high"]
        .iter()
        .position(|b| *b == band)
        .unwrap() as f64
}

/// A V2 request of `ROWS` by column, the category as `band` makes it.
fn v2_columns(band: impl Fn(&str) -> Value) -> Value {
    let n = ROWS.len();
    json!({
        "inputs": [
            {"name": "radius", "datatype": "FP64", "shape": [n], "data": ROWS.map(|r| r.0)},
            {"name": "texture", "datatype": "FP64", "shape": [n], "data": ROWS.map(|r| r.1)},
            {"name": "perimeter", "datatype": "FP64", "shape": [n], "data": ROWS.map(|r| r.2)},
            {"name": "band", "datatype": "BYTES", "shape": [n], "data": ROWS.map(|r| band(r.3))},
        ],
        "outputs": [{"name": "predict_proba"}],
    })
}

fn class_one(body: &Value) -> Vec<f64> {
    let data = body["outputs"][0]["data"]
        .as_array()
        .expect("predict_proba data");
    data.iter()
        .skip(1)
        .step_by(2)
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[tokio::test]
async fn an_xgboost_model_is_served_by_column_name_with_its_categories() {
    let want = in_process("xgb_small.json", |b| Cell::Text(b));
    let app = spawn_app_with_model(&path("xgb_small.json")).await;

    let (status, meta) = json(app.model_metadata("xgb_small").await).await;
    assert_eq!(status, 200, "{meta}");
    assert_eq!(meta["platform"], "xgboost");
    assert_eq!(
        meta["parameters"]["feature_names"],
        json!(["radius", "texture", "perimeter", "band"])
    );

    let request = v2_columns(|b| json!(b));
    let (status, body) = json(app.infer("xgb_small", &request).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(class_one(&body), want);

    let instances: Vec<Value> = ROWS
        .iter()
        .map(|r| json!({"radius": r.0, "texture": r.1, "perimeter": r.2, "band": r.3}))
        .collect();
    let (status, body) = json(
        app.v1_predict(
            "xgb_small",
            "?proba=true",
            &json!({ "instances": instances }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let v1: Vec<f64> = body["probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_f64().unwrap_or(f64::NAN))
        .collect();
    assert_eq!(v1, want, "{body}");

    // A category training never saw is refused with a 4xx that names it.
    let request = v2_columns(|_| json!("violet"));
    let (status, body) = json(app.infer("xgb_small", &request).await).await;
    assert!((400..500).contains(&status), "{status} {body}");
    assert!(body.to_string().contains("violet"), "{body}");
}

#[tokio::test]
async fn a_lightgbm_model_is_served_with_its_platform_over_rest_and_grpc() {
    let want = in_process("lgb_small.txt", |b| Cell::Number(code(b)));
    let app = spawn_app_with_grpc(ServeSettings {
        model: ModelSource::File(path("lgb_small.txt")),
        model_name: "lgb_small".into(),
        ..ServeSettings::default()
    })
    .await;

    let (status, meta) = json(app.model_metadata("lgb_small").await).await;
    assert_eq!(status, 200, "{meta}");
    assert_eq!(meta["platform"], "lightgbm");
    let mut client = grpc_client(&app).await;
    let grpc = client
        .model_metadata(ModelMetadataRequest {
            name: "lgb_small".into(),
            version: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(grpc.platform, "lightgbm");

    // Fitted on an array: one tensor of rows, the category by its code.
    let data: Vec<f64> = ROWS
        .iter()
        .flat_map(|r| [r.0, r.1, r.2, code(r.3)])
        .collect();
    let request = json!({
        "inputs": [{"name": "x", "datatype": "FP64", "shape": [ROWS.len(), 4], "data": data}],
        "outputs": [{"name": "predict_proba"}],
    });
    let (status, body) = json(app.infer("lgb_small", &request).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(class_one(&body), want);
}
