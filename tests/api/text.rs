//! Text from every entry: a TfidfVectorizer → LogisticRegression and a CountVectorizer →
//! MultinomialNB Pipeline take documents over V1 (`instances` of strings), V2 JSON and binary
//! (a BYTES input), gRPC (`bytes_contents` and raw BYTES) and `skserve predict` (a CSV column
//! of quoted text, header optional); a ColumnTransformer routing a text column takes named
//! fields. Every answer is scikit-learn 1.9's (`tests/fixtures/protocols/text.json`) on
//! sentences with accents, mixed case, emoji, an empty string, a very long word and non-Latin
//! scripts. Text that is not UTF-8 is a 4xx naming the input.

use hyper::body::Bytes;
use serde_json::{Value, json};
use skserve::config::ServeSettings;
use skserve::grpc::generated::inference::model_infer_request::InferInputTensor;
use skserve::grpc::generated::inference::{InferTensorContents, ModelInferRequest};
use skserve::store::ModelSource;
use tonic::Code;

use crate::helpers::{
    BinaryAnswer, TestApp, answered_methods, assert_answers, binary_body, cli_predict, decoded,
    flat, grpc_client, json, protocol_expected, protocol_fixture, requested_outputs,
    spawn_app_with_grpc,
};

/// The model `name` served alone with gRPC, the documents, and scikit-learn's answers.
async fn serve(name: &str) -> (TestApp, Vec<String>, Value) {
    let expected = protocol_expected("text.json");
    let documents: Vec<String> = serde_json::from_value(expected["documents"].clone()).unwrap();
    let app = spawn_app_with_grpc(ServeSettings {
        model: ModelSource::File(protocol_fixture(&format!("{name}.pkl"))),
        model_name: name.into(),
        ..ServeSettings::default()
    })
    .await;
    (app, documents, expected["models"][name]["answers"].clone())
}

/// The name of the model's one input, as V2 metadata gives it.
async fn input_name(app: &TestApp, name: &str) -> String {
    let (status, meta) = json(app.model_metadata(name).await).await;
    assert_eq!(status, 200, "{meta}");
    assert_eq!(meta["inputs"][0]["datatype"], "BYTES", "{meta}");
    meta["inputs"][0]["name"].as_str().unwrap().to_owned()
}

/// BYTES elements as the binary extension and raw gRPC contents carry them: each a 4-byte
/// little-endian length, then its bytes.
fn length_prefixed(elements: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for element in elements {
        out.extend((element.len() as u32).to_le_bytes());
        out.extend_from_slice(element);
    }
    out
}

/// A gRPC call of one BYTES input, in `bytes_contents` or as raw contents.
fn grpc_text(model: &str, input: &str, documents: &[&[u8]], raw: bool) -> ModelInferRequest {
    let tensor = InferInputTensor {
        name: input.into(),
        datatype: "BYTES".into(),
        shape: vec![documents.len() as i64],
        contents: (!raw).then(|| InferTensorContents {
            bytes_contents: documents
                .iter()
                .map(|d| Bytes::copy_from_slice(d))
                .collect(),
            ..Default::default()
        }),
        ..Default::default()
    };
    ModelInferRequest {
        model_name: model.into(),
        inputs: vec![tensor],
        outputs: requested_outputs(&["predict", "predict_proba"]),
        raw_input_contents: if raw {
            vec![length_prefixed(documents).into()]
        } else {
            Vec::new()
        },
        ..Default::default()
    }
}

async fn documents_answer_as_scikit_learn_on_every_entry(name: &str) {
    let (app, documents, answers) = serve(name).await;
    let input = input_name(&app, name).await;
    let labels = flat(&answers["predict"]);
    let proba = flat(&answers["predict_proba"]);
    let n = documents.len();

    // V1: instances of strings.
    let (status, body) = json(
        app.v1_predict(name, "?proba=true", &json!({ "instances": documents }))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{name}: {body}");
    assert_answers(&flat(&body["predictions"]), &labels, &format!("{name} V1"));
    let what = format!("{name} V1 probabilities");
    assert_answers(&flat(&body["probabilities"]), &proba, &what);

    // V2 JSON: a BYTES input, every output scikit-learn gives.
    let methods = answered_methods(&answers);
    let outputs: Vec<Value> = methods.iter().map(|m| json!({ "name": m })).collect();
    let request = json!({
        "inputs": [{"name": input, "datatype": "BYTES", "shape": [n], "data": documents}],
        "outputs": outputs,
    });
    let (status, body) = json(app.infer(name, &request).await).await;
    assert_eq!(status, 200, "{name}: {body}");
    for (at, method) in methods.iter().enumerate() {
        let data = flat(&body["outputs"][at]["data"]);
        assert_answers(
            &data,
            &flat(&answers[method]),
            &format!("{name} V2 {method}"),
        );
    }

    // V2 binary: the documents as binary BYTES, the answers as binary outputs.
    let elements: Vec<&[u8]> = documents.iter().map(|d| d.as_bytes()).collect();
    let data = length_prefixed(&elements);
    let request = json!({
        "inputs": [{"name": input, "datatype": "BYTES", "shape": [n],
                    "parameters": {"binary_data_size": data.len()}}],
        "outputs": [{"name": "predict"}, {"name": "predict_proba"}],
        "parameters": {"binary_data_output": true},
    });
    let (body, header_length) = binary_body(&request, &data);
    let answer = BinaryAnswer::of(app.infer_binary(name, body, Some(header_length)).await).await;
    assert_eq!(answer.status, 200, "{name}: {:?}", answer.json);
    let what = format!("{name} V2 binary");
    assert_answers(&decoded("BYTES", answer.section("predict")), &labels, &what);
    let values = decoded("FP64", answer.section("predict_proba"));
    assert_answers(&values, &proba, &format!("{what} predict_proba"));

    // gRPC: bytes_contents, then raw BYTES.
    let mut client = grpc_client(&app).await;
    for raw in [false, true] {
        let reply = client
            .model_infer(grpc_text(name, &input, &elements, raw))
            .await
            .unwrap()
            .into_inner();
        let what = format!("{name} gRPC (raw: {raw})");
        let (predicted, probabilities) = if reply.raw_output_contents.is_empty() {
            let contents = |at: usize| reply.outputs[at].contents.clone().unwrap();
            let predicted = contents(0)
                .bytes_contents
                .iter()
                .map(|b| Value::from(String::from_utf8(b.to_vec()).unwrap()))
                .collect();
            let probabilities = contents(1).fp64_contents.into_iter().map(Value::from);
            (predicted, probabilities.collect())
        } else {
            (
                decoded("BYTES", &reply.raw_output_contents[0]),
                decoded("FP64", &reply.raw_output_contents[1]),
            )
        };
        assert_answers(&predicted, &labels, &what);
        assert_answers(&probabilities, &proba, &format!("{what} predict_proba"));
    }

    // `skserve predict`: one quoted document per line, without a header and under the
    // column's name as `skserve inspect` gives it.
    let quoted: Vec<String> = documents
        .iter()
        .map(|d| format!("\"{}\"", d.replace('"', "\"\"")))
        .collect();
    for header in [None, Some("x0")] {
        let lines: Vec<String> = header
            .map(str::to_owned)
            .into_iter()
            .chain(quoted.clone())
            .collect();
        let printed = cli_predict(name, &lines.join("\n"));
        let predicted: Vec<Value> = printed
            .lines()
            .map(|l| Value::from(l.split_once(',').unwrap().0))
            .collect();
        assert_answers(
            &predicted,
            &labels,
            &format!("{name} CLI, header {header:?}"),
        );
    }

    // Text that is not UTF-8 is refused, naming the input: V2 binary and gRPC.
    let broken: [&[u8]; 2] = [b"fine", b"caf\xe9 cr\xe8me"];
    let data = length_prefixed(&broken);
    let request = json!({
        "inputs": [{"name": input, "datatype": "BYTES", "shape": [2],
                    "parameters": {"binary_data_size": data.len()}}],
    });
    let (body, header_length) = binary_body(&request, &data);
    let (status, body) = json(app.infer_binary(name, body, Some(header_length)).await).await;
    assert!((400..500).contains(&status), "{name}: {status} {body}");
    assert!(body["error"].as_str().unwrap().contains(&input), "{body}");
    for raw in [false, true] {
        let refused = client
            .model_infer(grpc_text(name, &input, &broken, raw))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        assert!(refused.message().contains(&input), "{refused:?}");
    }
}

#[tokio::test]
async fn a_tfidf_logistic_regression_takes_text_on_every_entry() {
    documents_answer_as_scikit_learn_on_every_entry("tfidf_logistic").await;
}

#[tokio::test]
async fn a_count_multinomial_naive_bayes_takes_text_on_every_entry() {
    documents_answer_as_scikit_learn_on_every_entry("count_multinomial_nb").await;
}

/// A ColumnTransformer routing a text column: named fields over V1, named inputs over V2 and
/// gRPC, a CSV with a header on the command line.
#[tokio::test]
async fn a_column_transformer_routes_a_text_column_from_named_fields() {
    let name = "column_routed_text";
    let (app, documents, answers) = serve(name).await;
    let stars: Vec<f64> =
        serde_json::from_value(protocol_expected("text.json")["stars"].clone()).unwrap();
    let labels = flat(&answers["predict"]);
    let proba = flat(&answers["predict_proba"]);
    let n = documents.len();

    let instances: Vec<Value> = documents
        .iter()
        .zip(&stars)
        .map(|(d, s)| json!({"review": d, "stars": s}))
        .collect();
    let (status, body) = json(
        app.v1_predict(name, "?proba=true", &json!({ "instances": instances }))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_answers(&flat(&body["predictions"]), &labels, "V1");
    assert_answers(&flat(&body["probabilities"]), &proba, "V1 probabilities");

    let request = json!({
        "inputs": [
            {"name": "review", "datatype": "BYTES", "shape": [n], "data": documents},
            {"name": "stars", "datatype": "FP64", "shape": [n], "data": stars},
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

    let mut client = grpc_client(&app).await;
    let elements: Vec<&[u8]> = documents.iter().map(|d| d.as_bytes()).collect();
    let mut call = grpc_text(name, "review", &elements, false);
    call.inputs.push(InferInputTensor {
        name: "stars".into(),
        datatype: "FP64".into(),
        shape: vec![n as i64],
        contents: Some(InferTensorContents {
            fp64_contents: stars.clone(),
            ..Default::default()
        }),
        ..Default::default()
    });
    let reply = client.model_infer(call).await.unwrap().into_inner();
    let contents = reply.outputs[1].contents.clone().unwrap();
    let probabilities: Vec<Value> = contents
        .fp64_contents
        .into_iter()
        .map(Value::from)
        .collect();
    assert_answers(&probabilities, &proba, "gRPC predict_proba");

    let mut csv = String::from("review,stars\n");
    for (d, s) in documents.iter().zip(&stars) {
        csv.push_str(&format!("\"{}\",{s}\n", d.replace('"', "\"\"")));
    }
    let predicted: Vec<Value> = cli_predict(name, &csv)
        .lines()
        .map(|l| Value::from(l.split_once(',').unwrap().0))
        .collect();
    assert_answers(&predicted, &labels, "CLI");
}
