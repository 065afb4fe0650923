//! The families served beyond linear models and trees, over every entry: an SVC with
//! probabilities, KNeighborsClassifier, GaussianNB, MLPClassifier, IsolationForest, KMeans, a
//! StackingClassifier and a Pipeline ending in an SVC (`tests/fixtures/protocols`, fitted by
//! scikit-learn 1.9 on iris, checked in with its answers). Each answers as scikit-learn does
//! over V1, V2 JSON, V2 binary, gRPC, the seed form and `skserve predict`; its outputs are
//! named in V2 metadata over REST and gRPC, and each is selectable as a V2 output.

use serde_json::{Value, json};
use skserve::config::ServeSettings;
use skserve::grpc::generated::inference::ModelMetadataRequest;
use skserve::store::ModelSource;

use crate::helpers::{
    BinaryAnswer, TestApp, answered_methods, assert_answers, binary_request, cli_predict, decoded,
    flat, grpc_client, json, protocol_expected, protocol_fixture, raw_infer, spawn_app_with_grpc,
    v2_request,
};

/// The model `name` served alone, with gRPC, and what scikit-learn answered for it.
async fn serve(name: &str) -> (TestApp, Vec<Vec<f64>>, Value) {
    let expected = protocol_expected("numeric.json");
    let rows: Vec<Vec<f64>> = serde_json::from_value(expected["rows"].clone()).unwrap();
    let app = spawn_app_with_grpc(ServeSettings {
        model: ModelSource::File(protocol_fixture(&format!("{name}.pkl"))),
        model_name: name.into(),
        ..ServeSettings::default()
    })
    .await;
    (app, rows, expected["models"][name].clone())
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

async fn every_entry_answers_as_scikit_learn(name: &str) {
    let (app, rows, case) = serve(name).await;
    let methods: Vec<String> = answered_methods(&case["answers"])
        .into_iter()
        .map(String::from)
        .collect();
    let answers = &case["answers"];
    let asked: Vec<Value> = methods.iter().map(|m| json!({ "name": m })).collect();

    // V2 metadata names every output scikit-learn gives, predict first, over REST and gRPC.
    let (status, meta) = json(app.model_metadata(name).await).await;
    assert_eq!(status, 200, "{meta}");
    let listed: Vec<String> = meta["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed[0], "predict", "{name}: {meta}");
    assert_eq!(sorted(listed.clone()), sorted(methods.clone()), "{name}");
    let mut client = grpc_client(&app).await;
    let grpc_meta = client
        .model_metadata(ModelMetadataRequest {
            name: name.into(),
            version: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let grpc_listed: Vec<String> = grpc_meta.outputs.iter().map(|o| o.name.clone()).collect();
    assert_eq!(grpc_listed, listed, "{name}: gRPC metadata");

    // V2 JSON: every output at once, and each alone.
    let mut request = v2_request(&rows);
    request["outputs"] = Value::from(asked.clone());
    let (status, body) = json(app.infer(name, &request).await).await;
    assert_eq!(status, 200, "{name}: {body}");
    for (at, method) in methods.iter().enumerate() {
        let output = &body["outputs"][at];
        assert_eq!(output["name"], method.as_str(), "{name}: {body}");
        let what = format!("{name} V2 JSON {method}");
        assert_answers(&flat(&output["data"]), &flat(&answers[method]), &what);
    }
    for method in &methods {
        request["outputs"] = json!([{ "name": method }]);
        let (status, body) = json(app.infer(name, &request).await).await;
        assert_eq!(status, 200, "{name} {method}: {body}");
        let outputs = body["outputs"].as_array().unwrap();
        assert_eq!(outputs.len(), 1, "{name} {method} alone: {body}");
        let what = format!("{name} V2 JSON {method} alone");
        assert_answers(&flat(&outputs[0]["data"]), &flat(&answers[method]), &what);
    }

    // V2 binary: every output as binary data.
    let (body, header_length) = binary_request(&rows, "FP64", Value::from(asked));
    let answer = BinaryAnswer::of(app.infer_binary(name, body, Some(header_length)).await).await;
    assert_eq!(answer.status, 200, "{name}: {:?}", answer.json);
    for (at, method) in methods.iter().enumerate() {
        let datatype = answer.json["outputs"][at]["datatype"].as_str().unwrap();
        let values = decoded(datatype, answer.section(method));
        let what = format!("{name} V2 binary {method}");
        assert_answers(&values, &flat(&answers[method]), &what);
    }

    // gRPC, raw contents in and out.
    let names: Vec<&str> = methods.iter().map(String::as_str).collect();
    let reply = client
        .model_infer(raw_infer(name, &rows, "FP64", &names))
        .await
        .unwrap()
        .into_inner();
    for (at, method) in methods.iter().enumerate() {
        assert_eq!(&reply.outputs[at].name, method);
        let values = decoded(&reply.outputs[at].datatype, &reply.raw_output_contents[at]);
        assert_answers(
            &values,
            &flat(&answers[method]),
            &format!("{name} gRPC {method}"),
        );
    }

    // V1: predictions, and probabilities where the model has them.
    let proba = answers.get("predict_proba").is_some();
    let query = if proba { "?proba=true" } else { "" };
    let (status, body) = json(
        app.v1_predict(name, query, &json!({ "instances": rows }))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{name}: {body}");
    let what = format!("{name} V1 predictions");
    assert_answers(
        &flat(&body["predictions"]),
        &flat(&answers["predict"]),
        &what,
    );
    if proba {
        let what = format!("{name} V1 probabilities");
        assert_answers(
            &flat(&body["probabilities"]),
            &flat(&answers["predict_proba"]),
            &what,
        );
    }

    // The seed form: one row, its label as numpy prints a one-element array.
    for (i, row) in rows.iter().enumerate() {
        let x: Vec<String> = row.iter().map(f64::to_string).collect();
        let response = app.post_seed_form(&format!("x=[{}]", x.join(","))).await;
        let (status, body) = json(response).await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(
            body["model_prediction"],
            format!("[{}]", answers["predict"][i]),
            "{name} seed form, row {i}"
        );
    }

    // `skserve predict`: a CSV of rows, one line per row, the label first.
    let lines: Vec<String> = rows
        .iter()
        .map(|r| r.iter().map(f64::to_string).collect::<Vec<_>>().join(","))
        .collect();
    let printed = cli_predict(name, &lines.join("\n"));
    let labels: Vec<Value> = printed
        .lines()
        .map(|l| Value::from(l.split(',').next().unwrap().parse::<f64>().unwrap()))
        .collect();
    assert_answers(&labels, &flat(&answers["predict"]), &format!("{name} CLI"));
    if proba {
        // A classifier's second field is the probability of the label it printed.
        for (i, line) in printed.lines().enumerate() {
            let score: f64 = line.split(',').nth(1).unwrap().parse().unwrap();
            let best = flat(&answers["predict_proba"][i])
                .iter()
                .map(|p| p.as_f64().unwrap())
                .fold(f64::MIN, f64::max);
            assert_answers(
                &[score.into()],
                &[best.into()],
                &format!("{name} CLI row {i}"),
            );
        }
    }
}

#[tokio::test]
async fn an_svc_with_probabilities_answers_as_scikit_learn_on_every_entry() {
    every_entry_answers_as_scikit_learn("svc_probability").await;
}

#[tokio::test]
async fn k_neighbors_answers_as_scikit_learn_on_every_entry() {
    every_entry_answers_as_scikit_learn("kneighbors").await;
}

#[tokio::test]
async fn gaussian_naive_bayes_answers_as_scikit_learn_on_every_entry() {
    every_entry_answers_as_scikit_learn("gaussian_nb").await;
}

#[tokio::test]
async fn an_mlp_answers_as_scikit_learn_on_every_entry() {
    every_entry_answers_as_scikit_learn("mlp").await;
}

#[tokio::test]
async fn an_isolation_forest_answers_as_scikit_learn_on_every_entry() {
    every_entry_answers_as_scikit_learn("isolation_forest").await;
}

#[tokio::test]
async fn k_means_answers_as_scikit_learn_on_every_entry() {
    every_entry_answers_as_scikit_learn("kmeans").await;
}

#[tokio::test]
async fn a_stacking_classifier_answers_as_scikit_learn_on_every_entry() {
    every_entry_answers_as_scikit_learn("stacking").await;
}

#[tokio::test]
async fn a_pipeline_ending_in_an_svc_answers_as_scikit_learn_on_every_entry() {
    every_entry_answers_as_scikit_learn("pipeline_svc").await;
}
