//! Pipelines over named, typed input through every protocol: V1 objects of raw values, V2 with
//! one input per column (BYTES for strings) or one 2-D tensor for an all-numeric Pipeline, the
//! seed's form; regressors' values; explanations grouped back to the client's columns; and
//! every mistake answered with a 4xx naming the column and what it takes.

use serde_json::{Value, json};

use crate::helpers::{
    assert_error_contains, challenge_pipeline, json, matrix_pipeline, named_rows,
    pipeline_expected, ridge_pipeline, spawn_app_with_model,
};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-12)
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn v1_named_instances_predict_like_scikit_learn() {
    let app = spawn_app_with_model(&challenge_pipeline()).await;
    let rows = named_rows("challenge_rows.csv", 300);
    let expected = pipeline_expected("challenge_expected.csv", 300);

    let (status, body) = json(
        app.v1_predict(
            "challenge_pipeline",
            "?proba=true",
            &json!({ "instances": rows }),
        )
        .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["classes"], json!([0, 1]));
    for (i, want) in expected.iter().enumerate() {
        assert_eq!(body["predictions"][i], json!(want[0] as i64), "row {i}");
        let p = &body["probabilities"][i];
        let best = p[0].as_f64().unwrap().max(p[1].as_f64().unwrap());
        assert!(close(best, want[1]), "row {i}: {best} vs {}", want[1]);
    }
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn the_issue_example_is_encoded_by_the_model() {
    let app = spawn_app_with_model(&challenge_pipeline()).await;
    let instance = json!({"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 7});

    let (status, body) = json(
        app.v1_predict(
            "challenge_pipeline",
            "?explain=true",
            &json!({ "instances": [instance] }),
        )
        .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    let explanation = &body["explanations"][0];
    // In the space the model sees: the one-hot columns after the ColumnTransformer.
    let features: Vec<&str> = explanation["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["value"] != 0.0)
        .map(|c| c["feature"].as_str().unwrap())
        .collect();
    let mut sorted = features.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "onehot__MES_7",
            "onehot__OPERA_Grupo LATAM",
            "onehot__TIPOVUELO_I"
        ]
    );
    // Grouped back to the client's columns: each group the sum of its one-hot terms.
    let columns = explanation["columns"].as_array().unwrap();
    assert_eq!(columns.len(), 3);
    let opera = columns.iter().find(|c| c["column"] == "OPERA").unwrap();
    let opera_terms: f64 = explanation["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["feature"].as_str().unwrap().starts_with("onehot__OPERA_"))
        .map(|c| c["contribution"].as_f64().unwrap())
        .sum();
    assert!(close(opera["contribution"].as_f64().unwrap(), opera_terms));
    assert_eq!(opera["value"], "Grupo LATAM");
    let summary = opera["summary"].as_str().unwrap();
    assert!(summary.starts_with("OPERA=Grupo LATAM: "), "{summary}");
    assert_eq!(summary, format!("OPERA=Grupo LATAM: {opera_terms:+.2}"));
    let total: f64 = columns
        .iter()
        .map(|c| c["contribution"].as_f64().unwrap())
        .sum::<f64>()
        + explanation["intercept"].as_f64().unwrap();
    assert!(close(total, explanation["decision"].as_f64().unwrap()));
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn v1_a_missing_key_or_null_is_a_missing_value() {
    let app = spawn_app_with_model(&ridge_pipeline()).await;
    let rows = named_rows("ridge_rows.csv", 400);
    let expected = pipeline_expected("ridge_expected.csv", 400);
    // Rows with a missing value: once as null, once with the key left out.
    let (i, row) = rows
        .iter()
        .enumerate()
        .find(|(_, r)| r.values().any(Value::is_null))
        .expect("a row with a missing value");
    let mut without_key = row.clone();
    without_key.retain(|_, v| !v.is_null());

    let (status, body) = json(
        app.v1_predict(
            "ridge_pipeline",
            "",
            &json!({ "instances": [row, without_key] }),
        )
        .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    for k in 0..2 {
        let got = body["predictions"][k].as_f64().unwrap();
        assert!(close(got, expected[i][0]), "{got} vs {}", expected[i][0]);
    }
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn v1_mistakes_name_the_column_and_what_it_takes() {
    let app = spawn_app_with_model(&challenge_pipeline()).await;
    let cases = [
        (
            json!({"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 7, "DIA": 3}),
            "unknown column \"DIA\"; the model's columns are OPERA, TIPOVUELO, MES",
        ),
        (
            json!({"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": "July"}),
            "column \"MES\": \"July\" is not a number; MES takes numbers",
        ),
        (
            json!({"OPERA": 5, "TIPOVUELO": "I", "MES": 7}),
            "column \"OPERA\": 5 is not a string; OPERA takes strings: one of \"Aerolineas Argentinas\"",
        ),
        (
            json!({"OPERA": ["a"], "TIPOVUELO": "I", "MES": 7}),
            "column \"OPERA\": a list is not a value",
        ),
    ];
    for (instance, message) in cases {
        let (status, body) = json(
            app.v1_predict(
                "challenge_pipeline",
                "",
                &json!({ "instances": [instance] }),
            )
            .await,
        )
        .await;
        assert_eq!(status, 422, "{body}");
        let error = body["error"].as_str().unwrap();
        assert!(error.contains(message), "'{error}' lacks '{message}'");
    }
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn an_unknown_category_under_handle_unknown_error_is_a_422_listing_the_categories() {
    let path = matrix_pipeline("ct_ohe_error_perceptron");
    let app = spawn_app_with_model(&path).await;
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    let instance = json!({"city": "Atlantis", "temp": 20.0, "kind": "I", "delay": 3.0, "month": 4, "empty": null});

    let (status, body) = json(
        app.v1_predict(&name, "", &json!({ "instances": [instance] }))
            .await,
    )
    .await;

    assert_eq!(status, 422, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("column \"city\": \"Atlantis\" is not a category the model knows; allowed:"),
        "{error}"
    );
    assert!(error.contains("\"Santiago\""), "{error}");
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn a_missing_value_reaching_a_step_that_refuses_one_is_a_422() {
    let path = matrix_pipeline("ct_missing_reaches_linear");
    let app = spawn_app_with_model(&path).await;
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    let instance = json!({"city": "Lima", "temp": null, "kind": "I", "delay": 3.0, "month": 4});

    let (status, body) = json(
        app.v1_predict(&name, "", &json!({ "instances": [instance] }))
            .await,
    )
    .await;

    assert_eq!(status, 422, "{body}");
    let error = body["error"].as_str().unwrap();
    assert_eq!(
        error,
        "row 1, column \"temp\": a missing value, which LinearRegression does not accept; temp needs a value"
    );
}

fn column_inputs(rows: &[serde_json::Map<String, Value>], text: &[&str]) -> Value {
    let names: Vec<&String> = rows[0].keys().collect();
    let inputs: Vec<Value> = names
        .iter()
        .map(|name| {
            let data: Vec<&Value> = rows.iter().map(|r| &r[name.as_str()]).collect();
            let datatype = if text.contains(&name.as_str()) {
                "BYTES"
            } else {
                "FP64"
            };
            json!({"name": name, "shape": [rows.len(), 1], "datatype": datatype, "data": data})
        })
        .collect();
    json!({ "inputs": inputs, "outputs": [{"name": "predict"}, {"name": "predict_proba"}] })
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn v2_one_input_per_column_with_bytes_for_strings() {
    let app = spawn_app_with_model(&challenge_pipeline()).await;
    let rows = named_rows("challenge_rows.csv", 100);
    let expected = pipeline_expected("challenge_expected.csv", 100);

    let (status, body) = json(
        app.infer(
            "challenge_pipeline",
            &column_inputs(&rows, &["OPERA", "TIPOVUELO"]),
        )
        .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    let outputs = body["outputs"].as_array().unwrap();
    assert_eq!(outputs[0]["datatype"], "INT64");
    assert_eq!(outputs[1]["shape"], json!([100, 2]));
    for (i, want) in expected.iter().enumerate() {
        assert_eq!(outputs[0]["data"][i], json!(want[0] as i64));
        let p = (outputs[1]["data"][2 * i].as_f64().unwrap())
            .max(outputs[1]["data"][2 * i + 1].as_f64().unwrap());
        assert!(close(p, want[1]), "row {i}");
    }

    let (status, metadata) = json(app.model_metadata("challenge_pipeline").await).await;
    assert_eq!(status, 200);
    assert_eq!(
        metadata["inputs"],
        json!([
            {"name": "OPERA", "datatype": "BYTES", "shape": [-1, 1]},
            {"name": "TIPOVUELO", "datatype": "BYTES", "shape": [-1, 1]},
            {"name": "MES", "datatype": "FP64", "shape": [-1, 1]},
        ])
    );
    assert_eq!(
        metadata["parameters"]["chain"],
        "ColumnTransformer>LogisticRegression"
    );
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn v2_mistakes_name_the_input() {
    let app = spawn_app_with_model(&challenge_pipeline()).await;
    let input = |name: &str, datatype: &str, data: Value| json!({"name": name, "shape": [1], "datatype": datatype, "data": data});
    let opera = input("OPERA", "BYTES", json!(["Grupo LATAM"]));
    let tipo = input("TIPOVUELO", "BYTES", json!(["I"]));
    let mes = input("MES", "INT64", json!([7]));
    let cases = [
        (json!([opera, tipo]), 422, "missing column \"MES\""),
        (
            json!([opera, tipo, mes, input("DIA", "INT64", json!([3]))]),
            422,
            "unknown column \"DIA\"",
        ),
        (
            json!([input("OPERA", "BYTES", json!([5])), tipo, mes]),
            422,
            "column \"OPERA\": 5 is not a string",
        ),
        (
            json!([opera, tipo, input("MES", "FP64", json!(["July"]))]),
            400,
            "input 'MES' is FP64 but holds the string \"July\"",
        ),
        (
            json!([opera, tipo, input("MES", "BYTES", json!(["July"]))]),
            422,
            "column \"MES\": \"July\" is not a number",
        ),
        (
            json!([opera, opera, tipo, mes]),
            422,
            "column \"OPERA\" is given twice",
        ),
        (
            json!([opera, tipo, {"name": "MES", "shape": [2], "datatype": "INT64", "data": [7, 8]}]),
            422,
            "column \"MES\" has 2 values but the other columns have 1",
        ),
        (
            json!([{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]),
            422,
            "this model takes named columns (OPERA (strings), TIPOVUELO (strings), MES (numbers))",
        ),
    ];
    for (inputs, status, message) in cases {
        let (got, body) = json(
            app.infer("challenge_pipeline", &json!({ "inputs": inputs }))
                .await,
        )
        .await;
        let error = body["error"].as_str().unwrap_or_default();
        assert_eq!(got, status, "{inputs}: {body}");
        assert!(error.contains(message), "'{error}' lacks '{message}'");
    }
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn regressors_answer_values_in_v1_v2_and_the_seed_form() {
    let app = spawn_app_with_model(&ridge_pipeline()).await;
    let rows = named_rows("ridge_rows.csv", 50);
    let expected = pipeline_expected("ridge_expected.csv", 50);
    let (i, complete) = rows
        .iter()
        .enumerate()
        .find(|(_, r)| r.values().all(|v| !v.is_null()))
        .unwrap();
    let numbers: Vec<f64> = complete.values().map(|v| v.as_f64().unwrap()).collect();

    // V2: one 2-D tensor of numbers stays valid for an all-numeric Pipeline; FP64 values out.
    let (status, body) = json(
        app.infer(
            "ridge_pipeline",
            &json!({"inputs": [{"name": "x", "shape": [1, 8], "datatype": "FP64", "data": numbers}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outputs"][0]["datatype"], "FP64");
    assert_eq!(body["outputs"][0]["shape"], json!([1, 1]));
    assert!(close(
        body["outputs"][0]["data"][0].as_f64().unwrap(),
        expected[i][0]
    ));

    // V1: values.
    let (status, body) = json(
        app.v1_predict("ridge_pipeline", "", &json!({"instances": [complete]}))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(close(
        body["predictions"][0].as_f64().unwrap(),
        expected[i][0]
    ));

    // The seed's form: x in column order, the value as numpy prints it.
    let x = format!(
        "[{}]",
        numbers
            .iter()
            .map(|v| format!("{v:?}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let response = app.post_seed_form(&format!("x={x}")).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let printed = body["model_prediction"].as_str().unwrap();
    let value: f64 = printed
        .trim_matches(|c| c == '[' || c == ']')
        .parse()
        .unwrap();
    assert!(
        (value - expected[i][0]).abs() < 1e-7 * expected[i][0].abs().max(1.0),
        "{printed}"
    );

    // predict_proba is not a regressor's.
    let (status, body) = json(
        app.v1_predict(
            "ridge_pipeline",
            "?proba=true",
            &json!({"instances": [complete]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_error_contains(&body, "has no predict_proba");
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn the_seed_form_refuses_a_pipeline_of_strings() {
    let app = spawn_app_with_model(&challenge_pipeline()).await;

    let response = app.post_seed_form("x=[1,2,3]").await;

    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("this model takes named columns"),
        "{body}"
    );
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn model_info_carries_the_estimator_chain() {
    let app = spawn_app_with_model(&challenge_pipeline()).await;

    let text = app.metrics().await;

    assert!(
        text.contains(r#"skserve_model_info{chain="ColumnTransformer>LogisticRegression",estimator="LogisticRegression",model="challenge_pipeline",sklearn_version="1.9."#),
        "{text}"
    );
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn v2_explanations_group_by_column_and_reach_scikit_learns_probability() {
    let app = spawn_app_with_model(&challenge_pipeline()).await;
    let rows = named_rows("challenge_rows.csv", 3);
    let expected = pipeline_expected("challenge_expected.csv", 3);
    let mut request = column_inputs(&rows, &["OPERA", "TIPOVUELO"]);
    request["parameters"] = json!({"explain": true});

    let (status, body) = json(app.infer("challenge_pipeline", &request).await).await;

    assert_eq!(status, 200, "{body}");
    let explanations = body["parameters"]["explanations"].as_array().unwrap();
    assert_eq!(explanations.len(), 3);
    for (i, explanation) in explanations.iter().enumerate() {
        let columns = explanation["columns"].as_array().unwrap();
        let names: Vec<&str> = columns
            .iter()
            .map(|c| c["column"].as_str().unwrap())
            .collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, ["MES", "OPERA", "TIPOVUELO"], "row {i}");
        for column in columns {
            let name = column["column"].as_str().unwrap();
            match rows[i][name].as_f64() {
                Some(sent) => assert_eq!(column["value"].as_f64(), Some(sent), "row {i}"),
                None => assert_eq!(column["value"], rows[i][name], "row {i}"),
            }
        }
        let decision: f64 = columns
            .iter()
            .map(|c| c["contribution"].as_f64().unwrap())
            .sum::<f64>()
            + explanation["intercept"].as_f64().unwrap();
        assert!(close(decision, explanation["decision"].as_f64().unwrap()));
        // The binary decision is the second class's log-odds: scikit-learn's probability of
        // the predicted class follows from it.
        let p = 1.0 / (1.0 + (-decision).exp());
        assert!(close(p.max(1.0 - p), expected[i][1]), "row {i}: {p}");
    }
}

/// The same instance written every way JSON allows: escapes in keys and strings, a boolean,
/// keys in any order or given twice (the last counts, as `serde_json` reads an object), other
/// top-level keys, `inputs` for `instances` (and `instances` when both are there). Each is
/// answered as the plain request is.
#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn v1_named_input_is_read_the_same_however_the_json_is_written() {
    let app = spawn_app_with_model(&challenge_pipeline()).await;
    let plain = r#"{"instances":[{"OPERA":"Grupo LATAM","TIPOVUELO":"I","MES":7}]}"#;
    let bodies = [
        r#"{"instances":[{"OPERA":"Grupo \u004cATAM","TIPO\u0056UELO":"I","MES":7.0}]}"#,
        r#"{"parameters":{"a":[1,{"b":null}]},"instances":[{"MES":7,"TIPOVUELO":"N","OPERA":"Grupo LATAM","TIPOVUELO":"I"}]}"#,
        r#" {"inputs":[{"OPERA":"Grupo LATAM","TIPOVUELO":"I","MES":7}]} "#,
        r#"{"inputs":[{"OPERA":"Aerolineas Argentinas","TIPOVUELO":"N","MES":1}],"instances":[{"OPERA":"Grupo LATAM","TIPOVUELO":"I","MES":7}]}"#,
    ];
    let post = |body: &'static str| {
        app.client
            .post(app.url("/v1/models/challenge_pipeline:predict?proba=true"))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let (status, want) = json(post(plain).await.unwrap()).await;
    assert_eq!(status, 200, "{want}");
    for body in bodies {
        let (status, got) = json(post(body).await.unwrap()).await;
        assert_eq!(status, 200, "{body}: {got}");
        assert_eq!(got, want, "{body}");
    }
    // A boolean is 1 or 0 where a number is taken, as it always was.
    let (status, a) = json(
        app.client
            .post(app.url("/v1/models/challenge_pipeline:predict"))
            .body(r#"{"instances":[{"OPERA":"Grupo LATAM","TIPOVUELO":"I","MES":true}]}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let (_, b) = json(
        app.v1_predict(
            "challenge_pipeline",
            "",
            &json!({"instances": [{"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 1}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a, b);
}
