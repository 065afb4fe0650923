//! KServe V1 with named features, probabilities and explanations.

use serde_json::{Value, json};

use crate::helpers::{README_X, assert_close, expected_test, json, spawn_app, x_test};

/// The row of x_test.csv for Grupo LATAM, international, July, by column name.
fn latam_july_row() -> Vec<f64> {
    let names: Vec<String> = serde_json::from_str(
        &std::fs::read_to_string(crate::helpers::repo().join("model-files/features.json")).unwrap(),
    )
    .unwrap();
    names
        .iter()
        .map(|n| {
            f64::from(u8::from(matches!(
                n.as_str(),
                "OPERA_Grupo LATAM" | "TIPOVUELO_I" | "MES_7"
            )))
        })
        .collect()
}

#[tokio::test]
async fn named_instances_are_one_hot_encoded() {
    let app = spawn_app().await;
    let named = json!({"instances": [{"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 7}]});
    let numeric = json!({"instances": [latam_july_row()]});

    let (status, by_name) = json(app.v1_predict("pickle_model", "?proba=true", &named).await).await;
    let (_, by_row) = json(
        app.v1_predict("pickle_model", "?proba=true", &numeric)
            .await,
    )
    .await;

    assert_eq!(status, 200, "{by_name}");
    assert_eq!(by_name, by_row);
    assert_eq!(by_name["classes"], json!([0, 1]));
    let p = by_name["probabilities"][0].as_array().unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(by_name["predictions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn numeric_instances_predict_like_scikit_learn() {
    let app = spawn_app().await;
    let rows = x_test(50);
    let expected = expected_test(50);

    let (status, body) = json(
        app.v1_predict("pickle_model", "?proba=true", &json!({"instances": rows}))
            .await,
    )
    .await;

    assert_eq!(status, 200);
    for (i, (label, p1)) in expected.into_iter().enumerate() {
        assert_eq!(body["predictions"][i], json!(label));
        assert_close(
            body["probabilities"][i][1].as_f64().unwrap(),
            p1,
            &format!("row {i}"),
        );
    }
}

#[tokio::test]
async fn explain_names_the_features_and_adds_up() {
    let app = spawn_app().await;
    let named = json!({"instances": [{"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 7}]});

    let (status, body) = json(
        app.v1_predict("pickle_model", "?explain=true", &named)
            .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    let explanation = &body["explanations"][0];
    assert_eq!(explanation["predicted"], body["predictions"][0]);
    assert_eq!(explanation["decision_class"], 1);
    let contributions = explanation["contributions"].as_array().unwrap();
    let nonzero: Vec<&str> = contributions
        .iter()
        .filter(|c| c["contribution"].as_f64().unwrap() != 0.0)
        .map(|c| c["feature"].as_str().unwrap())
        .collect();
    let mut sorted = nonzero.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["MES_7", "OPERA_Grupo LATAM", "TIPOVUELO_I"]);
    let sum: f64 = contributions
        .iter()
        .map(|c| c["contribution"].as_f64().unwrap())
        .sum::<f64>()
        + explanation["intercept"].as_f64().unwrap();
    assert!((sum - explanation["decision"].as_f64().unwrap()).abs() < 1e-9);
    let positive = explanation["decision"].as_f64().unwrap() > 0.0;
    assert_eq!(body["predictions"][0], json!(i64::from(positive)));
}

#[tokio::test]
async fn the_explain_verb_explains() {
    let app = spawn_app().await;
    let x: Value = serde_json::from_str(README_X).unwrap();

    let (status, body) = json(
        app.post_json(
            "/v1/models/pickle_model:explain",
            &json!({"instances": [x]}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 200);
    assert_eq!(body["predictions"], json!([1]));
    assert_eq!(
        body["explanations"][0]["contributions"]
            .as_array()
            .unwrap()
            .len(),
        37
    );
}

#[tokio::test]
async fn unknown_values_and_fields_name_what_is_allowed() {
    let app = spawn_app().await;

    let (status, body) = json(
        app.v1_predict(
            "pickle_model",
            "",
            &json!({"instances": [{"OPERA": "Pan Am", "TIPOVUELO": "I", "MES": 7}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("OPERA=\"Pan Am\""), "{error}");
    assert!(error.contains("\"Grupo LATAM\""), "{error}");

    let (status, body) = json(
        app.v1_predict(
            "pickle_model",
            "",
            &json!({"instances": [{"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 7, "DIA": 3}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("unknown field \"DIA\""),
        "{body}"
    );

    let (status, body) = json(
        app.v1_predict(
            "pickle_model",
            "",
            &json!({"instances": [{"OPERA": "Grupo LATAM"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body["error"].as_str().unwrap().contains("MES, TIPOVUELO"),
        "{body}"
    );
}

#[tokio::test]
async fn model_status_and_list() {
    let app = spawn_app().await;

    let (status, list) = json(app.get("/v1/models").await).await;
    assert_eq!((status, list), (200, json!({"models": ["pickle_model"]})));
    let (status, model) = json(app.get("/v1/models/pickle_model").await).await;
    assert_eq!(
        (status, model),
        (200, json!({"name": "pickle_model", "ready": true}))
    );
}
