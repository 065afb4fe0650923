//! Rows of named features from every entry: a DictVectorizer → LogisticRegression takes each
//! row's features by name over V1 (objects, lists of strings, left-out features), V2 JSON (one
//! input per feature, BYTES for strings), gRPC and `skserve predict` (a CSV whose header names
//! the features); a FeatureHasher(input_type="string") → MultinomialNB takes each row's strings.
//! Every answer is scikit-learn 1.9's (`tests/fixtures/protocols/dicts.json`). A nested object,
//! a row of numbers, and a number where only strings may go are 4xx naming what is wrong.

use hyper::body::Bytes;
use serde_json::{Map, Value, json};
use skserve::config::ServeSettings;
use skserve::grpc::generated::inference::model_infer_request::InferInputTensor;
use skserve::grpc::generated::inference::{InferTensorContents, ModelInferRequest};
use skserve::store::ModelSource;

use crate::helpers::{
    TestApp, assert_answers, cli_predict, flat, grpc_client, json, protocol_expected,
    protocol_fixture, requested_outputs, spawn_app_with_grpc,
};

async fn serve(name: &str) -> (TestApp, Value) {
    let app = spawn_app_with_grpc(ServeSettings {
        model: ModelSource::File(protocol_fixture(&format!("{name}.pkl"))),
        model_name: name.into(),
        ..ServeSettings::default()
    })
    .await;
    (app, protocol_expected("dicts.json"))
}

fn rows(expected: &Value, key: &str) -> Vec<Map<String, Value>> {
    serde_json::from_value(expected[key].clone()).unwrap()
}

/// The values of `feature` in every row (each row has it).
fn column(rows: &[Map<String, Value>], feature: &str) -> Vec<Value> {
    rows.iter().map(|r| r[feature].clone()).collect()
}

#[tokio::test]
async fn a_dict_vectorizer_logistic_regression_takes_named_features_on_every_entry() {
    let name = "dict_logistic";
    let (app, expected) = serve(name).await;
    let answers = &expected["models"][name];
    let labels = flat(&answers["answers"]["predict"]);
    let proba = flat(&answers["answers"]["predict_proba"]);
    let full = rows(&expected, "rows");
    let n = full.len();

    // V1: objects; then objects leaving features out, with lists of strings.
    let (status, body) = json(
        app.v1_predict(name, "?proba=true", &json!({ "instances": full }))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_answers(&flat(&body["predictions"]), &labels, "V1");
    assert_answers(&flat(&body["probabilities"]), &proba, "V1 probabilities");
    let sparse = rows(&expected, "sparse_rows");
    let (status, body) = json(
        app.v1_predict(name, "?proba=true", &json!({ "instances": sparse }))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let want = &answers["sparse_answers"];
    assert_answers(
        &flat(&body["predictions"]),
        &flat(&want["predict"]),
        "V1 sparse",
    );
    let what = "V1 sparse probabilities";
    assert_answers(
        &flat(&body["probabilities"]),
        &flat(&want["predict_proba"]),
        what,
    );

    // V2 JSON: one input per feature; a null is a feature the row does not have.
    let request = json!({
        "inputs": [
            {"name": "age", "datatype": "FP64", "shape": [n], "data": column(&full, "age")},
            {"name": "city", "datatype": "BYTES", "shape": [n], "data": column(&full, "city")},
            {"name": "income", "datatype": "FP64", "shape": [n], "data": column(&full, "income")},
        ],
        "outputs": [{"name": "predict"}, {"name": "predict_proba"}],
    });
    let (status, body) = json(app.infer(name, &request).await).await;
    assert_eq!(status, 200, "{body}");
    assert_answers(&flat(&body["outputs"][0]["data"]), &labels, "V2");
    assert_answers(
        &flat(&body["outputs"][1]["data"]),
        &proba,
        "V2 predict_proba",
    );
    let request = json!({
        "inputs": [
            {"name": "age", "datatype": "FP64", "shape": [2], "data": [30.0, null]},
            {"name": "city", "datatype": "BYTES", "shape": [2], "data": [null, "Rome"]},
        ],
        "outputs": [{"name": "predict_proba"}],
    });
    let (status, body) = json(app.infer(name, &request).await).await;
    assert_eq!(status, 200, "{body}");
    let first_two: Vec<Value> = flat(&want["predict_proba"])[..4].to_vec();
    // `sparse_rows` 0 and 1 without their lists: {"age": 30} and {"city": "Rome"}; row 0's
    // tags change its answer, so only row 1 is compared.
    assert_answers(
        &flat(&body["outputs"][0]["data"])[2..],
        &first_two[2..],
        "V2 nulls",
    );

    // gRPC: fp64_contents and bytes_contents.
    let numbers = |feature: &str| InferInputTensor {
        name: feature.into(),
        datatype: "FP64".into(),
        shape: vec![n as i64],
        contents: Some(InferTensorContents {
            fp64_contents: full.iter().map(|r| r[feature].as_f64().unwrap()).collect(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let call = ModelInferRequest {
        model_name: name.into(),
        inputs: vec![
            numbers("age"),
            InferInputTensor {
                name: "city".into(),
                datatype: "BYTES".into(),
                shape: vec![n as i64],
                contents: Some(InferTensorContents {
                    bytes_contents: full
                        .iter()
                        .map(|r| Bytes::from(r["city"].as_str().unwrap().to_owned()))
                        .collect(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            numbers("income"),
        ],
        outputs: requested_outputs(&["predict", "predict_proba"]),
        ..Default::default()
    };
    let mut client = grpc_client(&app).await;
    let reply = client.model_infer(call).await.unwrap().into_inner();
    let contents = reply.outputs[1].contents.clone().unwrap();
    let probabilities: Vec<Value> = contents
        .fp64_contents
        .into_iter()
        .map(Value::from)
        .collect();
    assert_answers(&probabilities, &proba, "gRPC predict_proba");

    // `skserve predict`: the header names the features.
    let mut csv = String::from("age,city,income\n");
    for r in &full {
        csv.push_str(&format!(
            "{},{},{}\n",
            r["age"],
            r["city"].as_str().unwrap(),
            r["income"]
        ));
    }
    let predicted: Vec<Value> = cli_predict(name, &csv)
        .lines()
        .map(|l| Value::from(l.split_once(',').unwrap().0))
        .collect();
    assert_answers(&predicted, &labels, "CLI");

    // Mistakes: a nested object names its feature; a row of numbers is refused.
    let (status, body) = json(
        app.v1_predict(
            name,
            "",
            &json!({"instances": [{"age": 3, "city": {"name": "Rome"}}]}),
        )
        .await,
    )
    .await;
    assert!((400..500).contains(&status), "{status} {body}");
    assert!(body["error"].as_str().unwrap().contains("city"), "{body}");
    let (status, body) = json(
        app.v1_predict(name, "", &json!({"instances": [[1.0]]}))
            .await,
    )
    .await;
    assert!((400..500).contains(&status), "{status} {body}");
    assert!(
        body["error"].as_str().unwrap().contains("named features"),
        "{body}"
    );
}

#[tokio::test]
async fn a_feature_hasher_of_strings_takes_each_rows_strings_and_refuses_a_number() {
    let name = "hasher_string_nb";
    let (app, expected) = serve(name).await;
    let answers = &expected["models"][name]["answers"];
    let tokens: Vec<Vec<String>> = serde_json::from_value(expected["tokens"].clone()).unwrap();
    let instances: Vec<Value> = tokens.iter().map(|t| json!({ "tokens": t })).collect();
    let (status, body) = json(
        app.v1_predict(name, "?proba=true", &json!({ "instances": instances }))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_answers(
        &flat(&body["predictions"]),
        &flat(&answers["predict"]),
        "V1",
    );
    let what = "V1 probabilities";
    assert_answers(
        &flat(&body["probabilities"]),
        &flat(&answers["predict_proba"]),
        what,
    );

    // V2: the first string of each row as one BYTES input, the rest (null where a row has
    // no more) as another: the same rows.
    let width = tokens.iter().map(Vec::len).max().unwrap();
    let inputs: Vec<Value> = (0..width)
        .map(|k| {
            let data: Vec<Value> = tokens.iter().map(|t| json!(t.get(k))).collect();
            json!({"name": format!("t{k}"), "datatype": "BYTES", "shape": [tokens.len()], "data": data})
        })
        .collect();
    let (status, body) = json(
        app.infer(
            name,
            &json!({"inputs": inputs, "outputs": [{"name": "predict_proba"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let what = "V2 predict_proba";
    assert_answers(
        &flat(&body["outputs"][0]["data"]),
        &flat(&answers["predict_proba"]),
        what,
    );

    let (status, body) = json(
        app.v1_predict(
            name,
            "",
            &json!({"instances": [{"city": "Rome", "size": 3}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("\"size\"") && error.contains("strings"),
        "{body}"
    );
}
