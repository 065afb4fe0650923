//! The V2 (Open Inference) protocol against scikit-learn's answers.

use serde_json::{Value, json};

use crate::helpers::{
    README_X, assert_close, expected_test, fixture_model, json, spawn_app, spawn_app_with_model,
    v2_request, x_test,
};

#[tokio::test]
async fn health_and_server_metadata() {
    let app = spawn_app().await;

    let (status, live) = json(app.live().await).await;
    assert_eq!((status, live), (200, json!({"live": true})));
    let (status, ready) = json(app.ready().await).await;
    assert_eq!((status, ready), (200, json!({"ready": true})));
    let (status, server) = json(app.server_metadata().await).await;
    assert_eq!(status, 200);
    assert_eq!(server["name"], "skserve");
}

#[tokio::test]
async fn model_metadata_describes_inputs_and_outputs() {
    let app = spawn_app().await;

    let response = app.model_metadata("pickle_model").await;
    let version = response.headers()["x-model-version"]
        .to_str()
        .unwrap()
        .to_owned();
    let (status, meta) = json(response).await;

    assert_eq!(status, 200);
    assert_eq!(meta["name"], "pickle_model");
    assert_eq!(meta["platform"], "sklearn");
    assert_eq!(meta["versions"], json!([version]));
    assert_eq!(meta["inputs"][0]["datatype"], "FP64");
    assert_eq!(meta["inputs"][0]["shape"], json!([-1, 37]));
    assert_eq!(meta["outputs"][0]["name"], "predict");
    assert_eq!(meta["outputs"][1]["name"], "predict_proba");
    assert_eq!(meta["outputs"][1]["shape"], json!([-1, 2]));
    assert_eq!(meta["outputs"][2]["name"], "decision_function");
    assert_eq!(meta["outputs"][2]["shape"], json!([-1, 1]));
    assert_eq!(meta["outputs"].as_array().unwrap().len(), 3);
    assert_eq!(meta["parameters"]["feature_names"][12], "OPERA_Grupo LATAM");

    let (status, ready) = json(app.model_ready("pickle_model").await).await;
    assert_eq!(status, 200);
    assert_eq!(ready["ready"], true);
    let versioned = app
        .get(&format!("/v2/models/pickle_model/versions/{version}"))
        .await;
    assert_eq!(versioned.status(), 200);
}

#[tokio::test]
async fn a_single_row_predicts_like_scikit_learn() {
    let app = spawn_app().await;
    let rows = x_test(1);
    let (label, _) = expected_test(1)[0];

    let (status, body) = json(app.infer("pickle_model", &v2_request(&rows)).await).await;

    assert_eq!(status, 200);
    assert_eq!(body["model_name"], "pickle_model");
    assert!(body["model_version"].is_string());
    assert!(body["id"].is_string());
    let output = &body["outputs"][0];
    assert_eq!(output["name"], "predict");
    assert_eq!(output["datatype"], "INT64");
    assert_eq!(output["shape"], json!([1, 1]));
    assert_eq!(output["data"], json!([label]));
    assert_eq!(
        body["outputs"].as_array().unwrap().len(),
        1,
        "predict only by default"
    );
}

#[tokio::test]
async fn a_batch_predicts_labels_and_probabilities_like_scikit_learn() {
    let app = spawn_app().await;
    let rows = x_test(500);
    let expected = expected_test(500);
    let mut request = v2_request(&rows);
    request["id"] = json!("batch-1");
    request["outputs"] = json!([{"name": "predict"}, {"name": "predict_proba"}]);

    let (status, body) = json(app.infer("pickle_model", &request).await).await;

    assert_eq!(status, 200);
    assert_eq!(body["id"], "batch-1");
    let predict = &body["outputs"][0];
    let proba = &body["outputs"][1];
    assert_eq!(predict["shape"], json!([500, 1]));
    assert_eq!(proba["name"], "predict_proba");
    assert_eq!(proba["datatype"], "FP64");
    assert_eq!(proba["shape"], json!([500, 2]));
    let labels = predict["data"].as_array().unwrap();
    let probabilities = proba["data"].as_array().unwrap();
    for (i, (label, p1)) in expected.into_iter().enumerate() {
        assert_eq!(labels[i], json!(label), "row {i}");
        let got = probabilities[2 * i + 1].as_f64().unwrap();
        assert_close(got, p1, &format!("row {i} predict_proba[:, 1]"));
        let p0 = probabilities[2 * i].as_f64().unwrap();
        assert_close(p0 + got, 1.0, &format!("row {i} sums to 1"));
    }
}

#[tokio::test]
async fn a_classifier_gives_its_decision_values() {
    let app = spawn_app().await;
    let rows = x_test(20);
    let mut request = v2_request(&rows);
    request["outputs"] = json!([{"name": "decision_function"}]);

    let (status, body) = json(app.infer("pickle_model", &request).await).await;

    assert_eq!(status, 200, "{body}");
    let decision = &body["outputs"][0];
    assert_eq!(decision["name"], "decision_function");
    assert_eq!(decision["shape"], json!([20, 1]));
    for (i, (_, p1)) in expected_test(20).into_iter().enumerate() {
        let d = decision["data"][i].as_f64().unwrap();
        // A logistic regression's probability is the sigmoid of its decision.
        assert_close(1.0 / (1.0 + (-d).exp()), p1, &format!("row {i}"));
    }
}

#[tokio::test]
async fn predict_proba_alone_or_by_parameter() {
    let app = spawn_app().await;
    let rows = x_test(3);
    let mut only_proba = v2_request(&rows);
    only_proba["outputs"] = json!([{"name": "predict_proba"}]);
    let mut by_parameter = v2_request(&rows);
    by_parameter["parameters"] = json!({"predict_proba": true});

    let (_, alone) = json(app.infer("pickle_model", &only_proba).await).await;
    let (_, both) = json(app.infer("pickle_model", &by_parameter).await).await;

    let names = |body: &Value| -> Vec<String> {
        body["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&alone), ["predict_proba"]);
    assert_eq!(names(&both), ["predict", "predict_proba"]);
}

#[tokio::test]
async fn flat_nested_and_typed_data_give_the_same_answer() {
    let app = spawn_app().await;
    let rows = x_test(4);
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    let ints: Vec<i64> = flat.iter().map(|&v| v as i64).collect();
    let bools: Vec<bool> = flat.iter().map(|&v| v != 0.0).collect();
    let requests = [
        v2_request(&rows),
        json!({"inputs": [{"name": "x", "shape": [4, 37], "datatype": "FP64", "data": flat}]}),
        json!({"inputs": [{"name": "x", "shape": [4, 37], "datatype": "FP32", "data": flat}]}),
        json!({"inputs": [{"name": "x", "shape": [4, 37], "datatype": "INT64", "data": ints}]}),
        json!({"inputs": [{"name": "x", "shape": [4, 37], "datatype": "INT32", "data": ints}]}),
        json!({"inputs": [{"name": "x", "shape": [4, 37], "datatype": "BOOL", "data": bools}]}),
    ];
    let expected: Vec<i64> = expected_test(4).into_iter().map(|(l, _)| l).collect();

    for request in &requests {
        let (status, body) = json(app.infer("pickle_model", request).await).await;
        assert_eq!(status, 200, "{request}: {body}");
        assert_eq!(body["outputs"][0]["data"], json!(expected), "{request}");
    }
}

#[tokio::test]
async fn one_row_may_have_shape_n_features() {
    let app = spawn_app().await;
    let x: Value = serde_json::from_str(README_X).unwrap();
    let request = json!({"inputs": [{"name": "x", "shape": [37], "datatype": "FP64", "data": x}]});

    let (status, body) = json(app.infer("pickle_model", &request).await).await;

    assert_eq!(status, 200);
    assert_eq!(body["outputs"][0]["data"], json!([1]));
}

#[tokio::test]
async fn versioned_infer_checks_the_version() {
    let app = spawn_app().await;
    let rows = x_test(1);
    let (_, meta) = json(app.model_metadata("pickle_model").await).await;
    let version = meta["versions"][0].as_str().unwrap().to_owned();

    let (status, body) = json(
        app.infer_version("pickle_model", &version, &v2_request(&rows))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["model_version"], version.as_str());

    let (status, body) = json(
        app.infer_version("pickle_model", "nope", &v2_request(&rows))
            .await,
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("no version 'nope'"),
        "{body}"
    );
}

#[tokio::test]
async fn string_labels_come_back_as_bytes() {
    let app = spawn_app_with_model(&fixture_model(
        "challenge-str-LogisticRegression__pickle-p4.pkl",
    ))
    .await;
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::helpers::repo().join(
            "tests/fixtures/legacy/sk1.3.2-np1.26/expected/challenge-str-LogisticRegression.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let inputs = std::fs::read_to_string(
        crate::helpers::repo().join("tests/fixtures/legacy/sk1.3.2-np1.26/inputs/challenge.csv"),
    )
    .unwrap();
    let rows: Vec<Vec<f64>> = inputs
        .lines()
        .take(20)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();

    let (status, body) = json(
        app.infer(
            "challenge-str-LogisticRegression__pickle-p4",
            &v2_request(&rows),
        )
        .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outputs"][0]["datatype"], "BYTES");
    assert_eq!(
        body["outputs"][0]["data"],
        Value::from(expected["predict"].as_array().unwrap()[..20].to_vec())
    );
}

#[tokio::test]
async fn explain_parameter_returns_contributions_that_add_up() {
    let app = spawn_app().await;
    let rows = x_test(2);
    let mut request = v2_request(&rows);
    request["parameters"] = json!({"explain": true});

    let (status, body) = json(app.infer("pickle_model", &request).await).await;

    assert_eq!(status, 200);
    let explanations = body["parameters"]["explanations"].as_array().unwrap();
    assert_eq!(explanations.len(), 2);
    for explanation in explanations {
        let contributions = explanation["contributions"].as_array().unwrap();
        assert_eq!(contributions.len(), 37);
        let magnitudes: Vec<f64> = contributions
            .iter()
            .map(|c| c["contribution"].as_f64().unwrap().abs())
            .collect();
        assert!(
            magnitudes.windows(2).all(|w| w[0] >= w[1]),
            "sorted by magnitude"
        );
        let sum: f64 = contributions
            .iter()
            .map(|c| c["contribution"].as_f64().unwrap())
            .sum::<f64>()
            + explanation["intercept"].as_f64().unwrap();
        let decision = explanation["decision"].as_f64().unwrap();
        assert!((sum - decision).abs() < 1e-9, "{sum} vs {decision}");
        assert!(contributions[0]["feature"].as_str().unwrap().contains('_'));
    }
}

/// `POST /v2/models/{name}/infer` is answered without the router when the name needs no
/// decoding (`http::Routes`), and by the router when it holds a percent-escape: the same
/// bodies, good and bad, get the same answers both ways.
#[tokio::test]
async fn inference_answers_the_same_with_or_without_the_router() {
    let app = spawn_app().await;
    // With an id: an answer to a request without one gets a random one.
    let mut good = v2_request(&x_test(3));
    good["id"] = json!("the same request");
    let good = serde_json::to_string(&good).unwrap();
    let bodies: Vec<(Option<&str>, String)> = vec![
        (Some("application/json"), good.clone()),
        (None, good.clone()),
        (Some("application/json"), String::new()),
        (Some("application/json"), "{\"inputs\": [".to_owned()),
        (Some("application/json"), "{\"inputs\": []}".to_owned()),
        (
            Some("application/json"),
            json!({"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]})
                .to_string(),
        ),
        (
            Some("application/json"),
            json!({"inputs": [{"name": "x", "shape": [1, 37], "datatype": "BYTES", "data": ["a"]}]})
                .to_string(),
        ),
        (Some("text/plain"), "x=[0,1]".to_owned()),
    ];
    for (direct, routed) in [
        (
            "/v2/models/pickle_model/infer",
            "/v2/models/pickle%5Fmodel/infer",
        ),
        ("/v2/models/nope/infer", "/v2/models/n%6Fpe/infer"),
    ] {
        for (content_type, body) in &bodies {
            let answer = |path: &'static str| {
                let app = &app;
                let body = body.clone();
                async move {
                    let response = app.send("POST", path, *content_type, body).await;
                    let status = response.status().as_u16();
                    (status, response.text().await.unwrap())
                }
            };
            let (direct_answer, routed_answer) = (answer(direct).await, answer(routed).await);
            if *body == good {
                let found = direct.contains("pickle_model");
                assert_eq!(
                    direct_answer.0,
                    if found { 200 } else { 404 },
                    "{direct_answer:?}"
                );
            }
            assert_eq!(
                direct_answer, routed_answer,
                "{direct} and {routed} with {content_type:?} {body:?}"
            );
        }
    }
}
