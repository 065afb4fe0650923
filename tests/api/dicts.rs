//! Rows of named features from every entry. A DictVectorizer → LogisticRegression takes each
//! row's features by name over V1 (objects, lists of strings, left-out features), V2 JSON and
//! binary (one input per feature, BYTES for strings), gRPC and `skserve predict` (a CSV whose
//! header names the features), and V2 metadata lists its features; a DictVectorizer →
//! HistGradientBoosting reads a null as Python's None (NaN), as scikit-learn does. A
//! FeatureHasher(input_type="string") → MultinomialNB takes each row's strings as a V1 list
//! or object, a V2 BYTES input of `[N, k]` (JSON and binary), gRPC bytes and a CSV row. Every
//! answer is scikit-learn 1.9's (`tests/fixtures/protocols/dicts.json`). A nested object, a row
//! of numbers, a bare string, a null string and a number where only strings may go are 4xx
//! naming what is wrong.

use hyper::body::Bytes;
use serde_json::{Map, Value, json};
use skserve::config::ServeSettings;
use skserve::grpc::generated::inference::model_infer_request::InferInputTensor;
use skserve::grpc::generated::inference::{
    InferTensorContents, ModelInferRequest, ModelInferResponse,
};
use skserve::store::ModelSource;

use crate::helpers::{
    TestApp, assert_answers, binary_body, cli_predict, encode, flat, grpc_client, json,
    length_prefixed, protocol_expected, protocol_fixture, requested_outputs, spawn_app_with_grpc,
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

fn string_rows(expected: &Value, key: &str) -> Vec<Vec<String>> {
    serde_json::from_value(expected[key].clone()).unwrap()
}

/// The values of `feature` in every row (each row has it).
fn column(rows: &[Map<String, Value>], feature: &str) -> Vec<Value> {
    rows.iter().map(|r| r[feature].clone()).collect()
}

/// `POST /v1/models/{name}:predict?proba=true` of `instances`: the status and the JSON body.
async fn v1_proba(app: &TestApp, name: &str, instances: &impl serde::Serialize) -> (u16, Value) {
    json(
        app.v1_predict(name, "?proba=true", &json!({ "instances": instances }))
            .await,
    )
    .await
}

/// The numbers of output `output` of a gRPC reply.
fn fp64_output(reply: &ModelInferResponse, output: usize) -> Vec<Value> {
    let contents = reply.outputs[output].contents.clone().unwrap();
    contents
        .fp64_contents
        .into_iter()
        .map(Value::from)
        .collect()
}

/// The labels `skserve predict` prints for `csv` (the first field of each line).
fn cli_labels(name: &str, csv: &str) -> Vec<Value> {
    cli_predict(name, csv)
        .lines()
        .map(|l| Value::from(l.split_once(',').unwrap().0))
        .collect()
}

/// A V2 request of binary inputs `(name, datatype, shape, bytes)`, answered in JSON; the JSON
/// header's length.
fn binary_inputs(
    inputs: &[(&str, &str, Vec<usize>, Vec<u8>)],
    outputs: &[&str],
) -> (Vec<u8>, usize) {
    let described: Vec<Value> = inputs
        .iter()
        .map(|(name, datatype, shape, bytes)| {
            json!({"name": name, "datatype": datatype, "shape": shape,
                   "parameters": {"binary_data_size": bytes.len()}})
        })
        .collect();
    let outputs: Vec<Value> = outputs.iter().map(|o| json!({ "name": o })).collect();
    let data: Vec<u8> = inputs.iter().flat_map(|i| i.3.clone()).collect();
    binary_body(&json!({"inputs": described, "outputs": outputs}), &data)
}

async fn binary_json(app: &TestApp, name: &str, (body, header): (Vec<u8>, usize)) -> (u16, Value) {
    json(app.infer_binary(name, body, Some(header)).await).await
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
    let (status, body) = v1_proba(&app, name, &full).await;
    assert_eq!(status, 200, "{body}");
    assert_answers(&flat(&body["predictions"]), &labels, "V1");
    assert_answers(&flat(&body["probabilities"]), &proba, "V1 probabilities");
    let sparse = rows(&expected, "sparse_rows");
    let (status, body) = v1_proba(&app, name, &sparse).await;
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

    // A key repeated in one instance: the last counts, as Python's json.loads reads it.
    let first = &full[0];
    let repeated = format!(
        r#"{{"instances": [{{"age": 99, "city": "Nowhere", "age": {}, "city": {}, "income": {}}}]}}"#,
        first["age"], first["city"], first["income"]
    );
    let (status, body) = json(
        app.send(
            "POST",
            &format!("/v1/models/{name}:predict?proba=true"),
            Some("application/json"),
            repeated,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_answers(
        &flat(&body["probabilities"]),
        &proba[..2],
        "V1 repeated key",
    );

    // V2 metadata: every feature the vocabulary knows, strings as BYTES.
    let (status, body) = json(app.model_metadata(name).await).await;
    assert_eq!(status, 200, "{body}");
    let inputs: Vec<(String, String)> = body["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let name = i["name"].as_str().unwrap().to_owned();
            (name, i["datatype"].as_str().unwrap().to_owned())
        })
        .collect();
    let listed = |n: &str, t: &str| (n.to_owned(), t.to_owned());
    assert_eq!(
        inputs,
        [
            listed("age", "FP64"),
            listed("city", "BYTES"),
            listed("income", "FP64"),
            listed("tags", "BYTES"),
        ],
        "{body}"
    );

    // V2 JSON: one input per feature; a list of strings is a BYTES input of [N, k].
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
    // `sparse_rows` 0: {"age": 30, "tags": ["sale", "🙂", "sale"]}.
    let request = json!({
        "inputs": [
            {"name": "age", "datatype": "FP64", "shape": [1], "data": [30.0]},
            {"name": "tags", "datatype": "BYTES", "shape": [1, 3], "data": ["sale", "🙂", "sale"]},
        ],
        "outputs": [{"name": "predict_proba"}],
    });
    let (status, body) = json(app.infer(name, &request).await).await;
    assert_eq!(status, 200, "{body}");
    let sparse_proba = flat(&want["predict_proba"]);
    assert_answers(
        &flat(&body["outputs"][0]["data"]),
        &sparse_proba[..2],
        "V2 tags",
    );
    // A null age is NaN, which LogisticRegression refuses as scikit-learn does.
    let request = json!({
        "inputs": [{"name": "age", "datatype": "FP64", "shape": [2], "data": [30.0, null]}],
    });
    let (status, body) = json(app.infer(name, &request).await).await;
    assert!((400..500).contains(&status), "{status} {body}");

    // V2 binary: the same rows as little-endian numbers and length-prefixed strings.
    let numbers =
        |feature: &str| -> Vec<f64> { full.iter().map(|r| r[feature].as_f64().unwrap()).collect() };
    let cities: Vec<&str> = full.iter().map(|r| r["city"].as_str().unwrap()).collect();
    let body = binary_inputs(
        &[
            ("age", "FP64", vec![n], encode("FP64", &numbers("age"))),
            (
                "city",
                "BYTES",
                vec![n],
                length_prefixed(cities.iter().copied()),
            ),
            (
                "income",
                "FP64",
                vec![n, 1],
                encode("FP64", &numbers("income")),
            ),
        ],
        &["predict_proba"],
    );
    let (status, body) = binary_json(&app, name, body).await;
    assert_eq!(status, 200, "{body}");
    assert_answers(&flat(&body["outputs"][0]["data"]), &proba, "V2 binary");

    // gRPC: fp64_contents and bytes_contents.
    let fp64 = |feature: &str| InferInputTensor {
        name: feature.into(),
        datatype: "FP64".into(),
        shape: vec![n as i64],
        contents: Some(InferTensorContents {
            fp64_contents: numbers(feature),
            ..Default::default()
        }),
        ..Default::default()
    };
    let call = ModelInferRequest {
        model_name: name.into(),
        inputs: vec![
            fp64("age"),
            InferInputTensor {
                name: "city".into(),
                datatype: "BYTES".into(),
                shape: vec![n as i64],
                contents: Some(InferTensorContents {
                    bytes_contents: cities.iter().map(|c| Bytes::from(c.to_string())).collect(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            fp64("income"),
        ],
        outputs: requested_outputs(&["predict", "predict_proba"]),
        ..Default::default()
    };
    let mut client = grpc_client(&app).await;
    let reply = client.model_infer(call).await.unwrap().into_inner();
    assert_answers(&fp64_output(&reply, 1), &proba, "gRPC predict_proba");

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
    assert_answers(&cli_labels(name, &csv), &labels, "CLI");

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
async fn a_null_feature_is_pythons_none_which_dict_vectorizer_makes_nan() {
    let name = "dict_hgb";
    let (app, expected) = serve(name).await;
    let answers = &expected["models"][name]["answers"];
    let proba = flat(&answers["predict_proba"]);
    let nulls = rows(&expected, "null_rows");
    let (status, body) = v1_proba(&app, name, &nulls).await;
    assert_eq!(status, 200, "{body}");
    assert_answers(&flat(&body["probabilities"]), &proba, "V1 nulls");

    // The same rows as V2 columns.
    let n = nulls.len();
    // A feature a row leaves out is 0 as a number (DictVectorizer's value for it), null as a
    // string ("city" alone is not in the vocabulary: None there is left out).
    let of = |feature: &str, absent: Value| -> Vec<Value> {
        nulls
            .iter()
            .map(|r| r.get(feature).cloned().unwrap_or(absent.clone()))
            .collect()
    };
    let mut request = json!({
        "inputs": [
            {"name": "age", "datatype": "FP64", "shape": [n], "data": of("age", json!(0.0))},
            {"name": "income", "datatype": "FP64", "shape": [n], "data": of("income", json!(0.0))},
        ],
        "outputs": [{"name": "predict_proba"}],
    });
    let (status, body) = json(app.infer(name, &request).await).await;
    assert_eq!(status, 200, "{body}");
    // Rows 0 and 3 have their city; without it only rows 1 and 2 are these answers.
    let got = flat(&body["outputs"][0]["data"]);
    assert_answers(&got[2..6], &proba[2..6], "V2 nulls");
    request["inputs"].as_array_mut().unwrap().push(
        json!({"name": "city", "datatype": "BYTES", "shape": [n], "data": of("city", Value::Null)}),
    );
    let (status, body) = json(app.infer(name, &request).await).await;
    assert_eq!(status, 200, "{body}");
    assert_answers(&flat(&body["outputs"][0]["data"]), &proba, "V2 nulls");
}

#[tokio::test]
async fn a_feature_hasher_of_strings_takes_each_rows_strings_on_every_entry() {
    let name = "hasher_string_nb";
    let (app, expected) = serve(name).await;
    let model = &expected["models"][name];
    let answers = &model["answers"];

    // V1: an object per row (its keys are not hashed), or a bare list of strings.
    let tokens = string_rows(&expected, "tokens");
    let instances: Vec<Value> = tokens.iter().map(|t| json!({ "tokens": t })).collect();
    let (status, body) = v1_proba(&app, name, &instances).await;
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
    let lists = string_rows(&expected, "token_lists");
    let (status, body) = v1_proba(&app, name, &lists).await;
    assert_eq!(status, 200, "{body}");
    let what = "V1 lists";
    let want = flat(&model["list_answers"]["predict_proba"]);
    assert_answers(&flat(&body["probabilities"]), &want, what);

    // V2 metadata: one BYTES input of any name, k strings to a row.
    let (status, body) = json(app.model_metadata(name).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["inputs"],
        json!([{"name": "features", "datatype": "BYTES", "shape": [-1, -1]}]),
        "{body}"
    );

    // V2 JSON, V2 binary and gRPC: one BYTES input of [N, 2].
    let pairs = string_rows(&expected, "token_pairs");
    let n = pairs.len();
    let want = flat(&model["pair_answers"]["predict_proba"]);
    let labels = flat(&model["pair_answers"]["predict"]);
    let strings: Vec<&str> = pairs.iter().flatten().map(String::as_str).collect();
    let request = json!({
        "inputs": [{"name": "words", "datatype": "BYTES", "shape": [n, 2], "data": strings}],
        "outputs": [{"name": "predict_proba"}],
    });
    let (status, body) = json(app.infer(name, &request).await).await;
    assert_eq!(status, 200, "{body}");
    assert_answers(&flat(&body["outputs"][0]["data"]), &want, "V2 [N, 2]");
    let body = binary_inputs(
        &[(
            "words",
            "BYTES",
            vec![n, 2],
            length_prefixed(strings.iter().copied()),
        )],
        &["predict_proba"],
    );
    let (status, body) = binary_json(&app, name, body).await;
    assert_eq!(status, 200, "{body}");
    assert_answers(&flat(&body["outputs"][0]["data"]), &want, "V2 binary");
    let call = ModelInferRequest {
        model_name: name.into(),
        inputs: vec![InferInputTensor {
            name: "words".into(),
            datatype: "BYTES".into(),
            shape: vec![n as i64, 2],
            contents: Some(InferTensorContents {
                bytes_contents: strings.iter().map(|s| Bytes::from(s.to_string())).collect(),
                ..Default::default()
            }),
            ..Default::default()
        }],
        outputs: requested_outputs(&["predict_proba"]),
        ..Default::default()
    };
    let mut client = grpc_client(&app).await;
    let reply = client.model_infer(call).await.unwrap().into_inner();
    assert_answers(&fp64_output(&reply, 0), &want, "gRPC");

    // `skserve predict`: each row's strings, under any header.
    let mut csv = String::from("first,second\n");
    for pair in &pairs {
        csv.push_str(&format!("{},{}\n", pair[0], pair[1]));
    }
    assert_answers(&cli_labels(name, &csv), &labels, "CLI");

    // Mistakes, each a 4xx naming what is wrong.
    for (instances, named) in [
        (json!([{"city": "Rome", "size": 3}]), "\"size\""),
        (json!(["Rome"]), "a string"),
        (json!([{"city": null}]), "\"city\""),
        (json!([["Rome", 3]]), "instance 0"),
    ] {
        let (status, body) = json(
            app.v1_predict(name, "", &json!({ "instances": instances }))
                .await,
        )
        .await;
        assert!((400..500).contains(&status), "{instances}: {status} {body}");
        let error = body["error"].as_str().unwrap();
        assert!(error.contains(named), "{instances}: {body}");
    }
    let request = json!({
        "inputs": [{"name": "words", "datatype": "BYTES", "shape": [1, 2], "data": ["Rome", null]}],
    });
    let (status, body) = json(app.infer(name, &request).await).await;
    assert!((400..500).contains(&status), "{status} {body}");
    assert!(body["error"].as_str().unwrap().contains("words"), "{body}");
    let body = binary_inputs(
        &[("words", "BYTES", vec![1], vec![2, 0, 0, 0, 0xff, 0xfe])],
        &["predict"],
    );
    let (status, body) = binary_json(&app, name, body).await;
    assert!((400..500).contains(&status), "{status} {body}");
    assert!(body["error"].as_str().unwrap().contains("UTF-8"), "{body}");
}
