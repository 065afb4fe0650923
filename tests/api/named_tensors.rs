//! Named input in the protocols' binary forms: the challenge Pipeline's string columns as
//! BYTES tensors in the REST binary extension (each element after a 4-byte little-endian
//! length) and over gRPC (raw contents, and `bytes_contents`), its numbers beside them,
//! against scikit-learn's answers; malformed BYTES refused with what is wrong.

use prost::bytes::Bytes;
use serde_json::{Map, Value, json};
use skserve::config::ServeSettings;
use skserve::grpc::generated::inference::model_infer_request::{
    InferInputTensor, InferRequestedOutputTensor,
};
use skserve::grpc::generated::inference::{InferTensorContents, ModelInferRequest};
use skserve::store::ModelSource;

use crate::helpers::{
    BinaryAnswer, TestApp, binary_body, challenge_pipeline, f64s, grpc_client, i64s, json,
    length_prefixed, named_rows, pipeline_expected, spawn_app_with_grpc,
};

const MODEL: &str = "challenge_pipeline";
const TEXT: [&str; 2] = ["OPERA", "TIPOVUELO"];
const ROWS: usize = 100;

async fn spawn() -> TestApp {
    spawn_app_with_grpc(ServeSettings {
        model: ModelSource::File(challenge_pipeline()),
        model_name: MODEL.into(),
        ..ServeSettings::default()
    })
    .await
}

/// Each column of `rows` in its binary form: BYTES for the text columns, INT64 for MES.
fn raw_columns(rows: &[Map<String, Value>]) -> Vec<(String, &'static str, Vec<u8>)> {
    rows[0]
        .keys()
        .map(|name| {
            let column = rows.iter().map(|r| &r[name.as_str()]);
            if TEXT.contains(&name.as_str()) {
                let bytes = length_prefixed(column.map(|v| v.as_str().unwrap()));
                (name.clone(), "BYTES", bytes)
            } else {
                let bytes = column
                    .flat_map(|v| v.as_i64().unwrap().to_le_bytes())
                    .collect();
                (name.clone(), "INT64", bytes)
            }
        })
        .collect()
}

/// Labels and the probability of each row's label, against scikit-learn's.
fn assert_like_scikit_learn(labels: &[i64], proba: &[f64]) {
    let expected = pipeline_expected("challenge_expected.csv", ROWS);
    assert_eq!(labels.len(), ROWS);
    assert_eq!(proba.len(), 2 * ROWS);
    for (i, want) in expected.iter().enumerate() {
        assert_eq!(labels[i], want[0] as i64, "row {i}");
        let p = proba[2 * i].max(proba[2 * i + 1]);
        assert!((p - want[1]).abs() <= 1e-9, "row {i}: {p} vs {}", want[1]);
    }
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn bytes_columns_in_the_binary_extension_predict_like_scikit_learn() {
    let app = spawn().await;
    let rows = named_rows("challenge_rows.csv", ROWS);
    let columns = raw_columns(&rows);
    let request = json!({
        "inputs": columns.iter().map(|(name, datatype, bytes)| json!({
            "name": name, "shape": [ROWS, 1], "datatype": datatype,
            "parameters": {"binary_data_size": bytes.len()},
        })).collect::<Vec<_>>(),
        "outputs": [{"name": "predict"}, {"name": "predict_proba"}],
        "parameters": {"binary_data_output": true},
    });
    let binary: Vec<u8> = columns.iter().flat_map(|(_, _, b)| b.clone()).collect();
    let (body, length) = binary_body(&request, &binary);

    let answer = BinaryAnswer::of(app.infer_binary(MODEL, body, Some(length)).await).await;

    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["outputs"][0]["datatype"], "INT64");
    assert_like_scikit_learn(
        &i64s(answer.section("predict")),
        &f64s(answer.section("predict_proba")),
    );
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn malformed_bytes_columns_are_refused_saying_what_is_wrong() {
    let app = spawn().await;
    let send = |opera: Vec<u8>, opera_rows: usize| {
        let tipo = length_prefixed(["I"]);
        let mes = 7i64.to_le_bytes().to_vec();
        let request = json!({
            "inputs": [
                {"name": "OPERA", "shape": [opera_rows], "datatype": "BYTES",
                 "parameters": {"binary_data_size": opera.len()}},
                {"name": "TIPOVUELO", "shape": [1], "datatype": "BYTES",
                 "parameters": {"binary_data_size": tipo.len()}},
                {"name": "MES", "shape": [1], "datatype": "INT64",
                 "parameters": {"binary_data_size": 8}},
            ],
        });
        binary_body(&request, &[opera, tipo, mes].concat())
    };
    let mut not_utf8 = 2u32.to_le_bytes().to_vec();
    not_utf8.extend([0xff, 0xfe]);
    let mut runs_past = 100u32.to_le_bytes().to_vec();
    runs_past.extend(b"Grupo LATAM");
    let cases = [
        (
            not_utf8,
            1,
            400,
            "input 'OPERA': BYTES element 0 is not UTF-8 text",
        ),
        (
            runs_past,
            1,
            400,
            "BYTES element 0 declares 100 bytes but only 11 follow",
        ),
        (
            length_prefixed(["Grupo LATAM", "Sky Airline"]),
            2,
            422,
            "column \"TIPOVUELO\" has 1 values but the other columns have 2",
        ),
    ];
    for (opera, opera_rows, status, message) in cases {
        let (body, length) = send(opera, opera_rows);
        let (got, error) = json(app.infer_binary(MODEL, body, Some(length)).await).await;
        assert_eq!(got, status, "{message}: {error}");
        let error = error["error"].as_str().unwrap();
        assert!(error.contains(message), "'{error}' lacks '{message}'");
    }
}

fn grpc_request(rows: &[Map<String, Value>], raw: bool) -> ModelInferRequest {
    let mut request = ModelInferRequest {
        model_name: MODEL.into(),
        outputs: ["predict", "predict_proba"]
            .map(|name| InferRequestedOutputTensor {
                name: name.into(),
                ..Default::default()
            })
            .to_vec(),
        ..Default::default()
    };
    for (name, datatype, bytes) in raw_columns(rows) {
        let contents = (!raw).then(|| {
            let column = rows.iter().map(|r| &r[name.as_str()]);
            if datatype == "BYTES" {
                InferTensorContents {
                    bytes_contents: column
                        .map(|v| Bytes::copy_from_slice(v.as_str().unwrap().as_bytes()))
                        .collect(),
                    ..Default::default()
                }
            } else {
                InferTensorContents {
                    int64_contents: column.map(|v| v.as_i64().unwrap()).collect(),
                    ..Default::default()
                }
            }
        });
        if raw {
            request.raw_input_contents.push(bytes.into());
        }
        request.inputs.push(InferInputTensor {
            name,
            datatype: datatype.into(),
            shape: vec![rows.len() as i64, 1],
            contents,
            ..Default::default()
        });
    }
    request
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn bytes_columns_over_grpc_raw_and_typed_predict_like_scikit_learn() {
    let app = spawn().await;
    let mut client = grpc_client(&app).await;
    let rows = named_rows("challenge_rows.csv", ROWS);

    let raw = client
        .model_infer(grpc_request(&rows, true))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(raw.outputs[0].datatype, "INT64");
    assert_like_scikit_learn(
        &i64s(&raw.raw_output_contents[0]),
        &f64s(&raw.raw_output_contents[1]),
    );

    let typed = client
        .model_infer(grpc_request(&rows, false))
        .await
        .unwrap()
        .into_inner();
    let contents = |i: usize| typed.outputs[i].contents.clone().unwrap();
    assert_like_scikit_learn(&contents(0).int64_contents, &contents(1).fp64_contents);

    let mut month_as_text = grpc_request(&rows[..1], false);
    let mes = month_as_text
        .inputs
        .iter_mut()
        .find(|input| input.name == "MES")
        .unwrap();
    mes.datatype = "BYTES".into();
    mes.contents = Some(InferTensorContents {
        bytes_contents: vec![Bytes::from_static(b"July")],
        ..Default::default()
    });
    let status = client.model_infer(month_as_text).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(
        status
            .message()
            .contains("column \"MES\": \"July\" is not a number; MES takes numbers"),
        "{}",
        status.message()
    );

    let metadata = client
        .model_metadata(skserve::grpc::generated::inference::ModelMetadataRequest {
            name: MODEL.into(),
            version: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let inputs: Vec<(&str, &str, &[i64])> = metadata
        .inputs
        .iter()
        .map(|t| (t.name.as_str(), t.datatype.as_str(), t.shape.as_slice()))
        .collect();
    assert_eq!(
        inputs,
        [
            ("OPERA", "BYTES", &[-1, 1][..]),
            ("TIPOVUELO", "BYTES", &[-1, 1]),
            ("MES", "FP64", &[-1, 1]),
        ]
    );
}
