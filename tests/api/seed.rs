//! The seed's form API: the exact bytes the original answered.

use crate::helpers::{
    README_X, expected_test, fixture_model, spawn_app, spawn_app_with_model, x_test,
};

#[tokio::test]
async fn the_readme_request_gets_the_seeds_exact_answer() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.post_seed_form(&format!("x={README_X}")).await;

    // Assert
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(response.headers().contains_key("x-model-version"));
    let body = response.bytes().await.unwrap();
    assert_eq!(
        &body[..],
        format!("{{\"model_prediction\":\"[1]\",\"received_data\":{{\"x\":\"{README_X}\"}}}}\n")
            .as_bytes()
    );
}

#[tokio::test]
async fn every_form_field_is_echoed_sorted_with_ascii_escapes_like_flask() {
    let app = spawn_app().await;

    let response = app
        .post_seed_form(&format!("x={README_X}&b=%C3%A9%7F%22&a=1&x=2"))
        .await;

    assert_eq!(response.status(), 200);
    // The answer of the seed's function (Flask) to the same body.
    assert_eq!(
        response.text().await.unwrap(),
        format!(
            "{{\"model_prediction\":\"[1]\",\"received_data\":{{\"a\":\"1\",\
             \"b\":\"\\u00e9\\u007f\\\"\",\"x\":\"{README_X}\"}}}}\n"
        )
    );
}

#[tokio::test]
async fn python_list_syntax_is_accepted() {
    let app = spawn_app().await;
    let spaced = README_X
        .replace(',', ", ")
        .replacen('1', "1.0", 1)
        .replacen('0', "False", 1);
    let tuple = README_X.replace('[', "(").replace(']', ",)");

    for x in [spaced, tuple] {
        let response = app.post_seed_form(&format!("x={x}")).await;
        assert_eq!(response.status(), 200, "{x}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["model_prediction"], "[1]", "{x}");
        assert_eq!(body["received_data"]["x"], x.as_str());
    }
}

#[tokio::test]
async fn predictions_match_scikit_learn_row_by_row() {
    let app = spawn_app().await;
    let rows = x_test(40);
    let expected = expected_test(40);

    for (row, (label, _)) in rows.iter().zip(expected) {
        let x: Vec<String> = row.iter().map(|v| format!("{v}")).collect();
        let response = app.post_seed_form(&format!("x=[{}]", x.join(","))).await;
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["model_prediction"], format!("[{label}]"));
    }
}

#[tokio::test]
async fn string_labels_print_as_numpy_prints_them() {
    let app = spawn_app_with_model(&fixture_model(
        "challenge-str-LogisticRegression__pickle-p4.pkl",
    ))
    .await;

    let response = app.post_seed_form(&format!("x={README_X}")).await;

    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let prediction = body["model_prediction"].as_str().unwrap();
    assert!(
        prediction == "['on_time']" || prediction == "['delayed']",
        "{prediction}"
    );
}

#[tokio::test]
async fn bool_labels_are_padded_like_numpy() {
    let app = spawn_app_with_model(&fixture_model(
        "challenge-bool-LogisticRegression__pickle-p4.pkl",
    ))
    .await;

    let response = app.post_seed_form(&format!("x={README_X}")).await;

    let body: serde_json::Value = response.json().await.unwrap();
    let prediction = body["model_prediction"].as_str().unwrap();
    assert!(
        prediction == "[ True]" || prediction == "[False]",
        "{prediction}"
    );
}
