//! V2's binary tensor data extension over REST, against scikit-learn's answers: inputs as raw
//! little-endian bytes after the JSON in every numeric datatype, outputs back as bytes when
//! asked, and every length checked before it is used.

use serde_json::{Value, json};
use skserve::config::ServeSettings;

use crate::helpers::{
    BinaryAnswer, NUMERIC_DATATYPES, assert_close, binary_body, binary_request, expected_test,
    f64s, fixture_model, i64s, json, spawn_app, spawn_app_with, spawn_app_with_model, strings,
    x_test,
};

const MODEL: &str = "pickle_model";

#[tokio::test]
async fn the_server_lists_the_extension() {
    let app = spawn_app().await;
    let (status, server) = json(app.server_metadata().await).await;
    assert_eq!(status, 200);
    assert_eq!(server["extensions"], json!(["binary_tensor_data"]));
}

#[tokio::test]
async fn binary_inputs_of_every_numeric_datatype_predict_like_scikit_learn() {
    let app = spawn_app().await;
    let rows = x_test(5);
    let expected: Vec<i64> = expected_test(5).into_iter().map(|(l, _)| l).collect();

    for (datatype, size) in NUMERIC_DATATYPES {
        let (body, length) = binary_request(&rows, datatype, json!([{"name": "predict"}]));
        assert_eq!(body.len() - length, 5 * 37 * size, "{datatype}");
        let mut request: Value = serde_json::from_slice(&body[..length]).unwrap();
        // JSON outputs this time: the binary data is only the request's.
        request["parameters"] = json!({});
        let (body, length) = binary_body(&request, &body[length..]);

        let answer = BinaryAnswer::of(app.infer_binary(MODEL, body, Some(length)).await).await;

        assert_eq!(answer.status, 200, "{datatype}: {}", answer.json);
        assert_eq!(answer.header_length, None, "{datatype}: no binary output");
        assert_eq!(answer.content_type.as_deref(), Some("application/json"));
        assert_eq!(
            answer.json["outputs"][0]["data"],
            json!(expected),
            "{datatype}"
        );
    }
}

#[tokio::test]
async fn outputs_come_back_binary_when_asked_and_decode_to_scikit_learns_answers() {
    let app = spawn_app().await;
    let rows = x_test(1000);
    let expected = expected_test(1000);
    let (body, length) = binary_request(
        &rows,
        "FP64",
        json!([{"name": "predict"}, {"name": "predict_proba"}]),
    );

    let answer = BinaryAnswer::of(app.infer_binary(MODEL, body, Some(length)).await).await;

    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(
        answer.content_type.as_deref(),
        Some("application/octet-stream")
    );
    let outputs = &answer.json["outputs"];
    assert_eq!(outputs[0]["parameters"]["binary_data_size"], 8000);
    assert_eq!(outputs[1]["parameters"]["binary_data_size"], 16000);
    assert!(
        outputs[0].get("data").is_none(),
        "binary outputs carry no JSON data"
    );
    assert_eq!(answer.binary.len(), 24000);
    let labels = i64s(answer.section("predict"));
    let proba = f64s(answer.section("predict_proba"));
    for (i, (label, p1)) in expected.into_iter().enumerate() {
        assert_eq!(labels[i], label, "row {i}");
        assert_close(
            proba[2 * i + 1],
            p1,
            &format!("row {i} predict_proba[:, 1]"),
        );
    }
}

#[tokio::test]
async fn an_output_may_say_otherwise_than_the_request() {
    let app = spawn_app().await;
    let rows = x_test(3);
    let (body, length) = binary_request(
        &rows,
        "FP32",
        json!([
            {"name": "predict", "parameters": {"binary_data": false}},
            {"name": "predict_proba"}
        ]),
    );

    let answer = BinaryAnswer::of(app.infer_binary(MODEL, body, Some(length)).await).await;

    assert_eq!(answer.status, 200, "{}", answer.json);
    let expected: Vec<i64> = expected_test(3).into_iter().map(|(l, _)| l).collect();
    assert_eq!(answer.json["outputs"][0]["data"], json!(expected));
    assert_eq!(f64s(answer.section("predict_proba")).len(), 6);
}

#[tokio::test]
async fn string_labels_come_back_as_length_prefixed_bytes() {
    let app = spawn_app_with_model(&fixture_model(
        "challenge-str-LogisticRegression__pickle-p4.pkl",
    ))
    .await;
    let rows = x_test(4);
    let (body, length) = binary_request(&rows, "FP64", Value::Null);

    let answer = BinaryAnswer::of(
        app.infer_binary(
            "challenge-str-LogisticRegression__pickle-p4",
            body,
            Some(length),
        )
        .await,
    )
    .await;

    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["outputs"][0]["datatype"], "BYTES");
    let labels = strings(answer.section("predict"));
    assert_eq!(labels.len(), 4);
    assert!(labels.iter().all(|l| !l.is_empty()), "{labels:?}");
}

/// A body and the `Inference-Header-Content-Length` sent with it.
type Sent = (Vec<u8>, Option<usize>);

/// The status and error of a binary request.
async fn refusal(
    app: &crate::helpers::TestApp,
    body: Vec<u8>,
    length: Option<usize>,
) -> (u16, String) {
    let (status, body) = json(app.infer_binary(MODEL, body, length).await).await;
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn lengths_and_sizes_are_checked_before_anything_is_used() {
    let app = spawn_app().await;
    let rows = x_test(2);
    let (body, length) = binary_request(&rows, "FP64", Value::Null);
    let request: Value = serde_json::from_slice(&body[..length]).unwrap();
    let data = body[length..].to_vec();
    let with_shape = |shape: Value, size: usize| {
        let mut request = request.clone();
        request["inputs"][0]["shape"] = shape;
        request["inputs"][0]["parameters"]["binary_data_size"] = json!(size);
        request
    };
    let with_header = |(body, length): (Vec<u8>, usize)| (body, Some(length));
    let cases: Vec<(Sent, u16, &str)> = vec![
        // No header: the body is all JSON, and the binary part makes it invalid.
        ((body.clone(), None), 400, "not valid JSON"),
        (
            (serde_json::to_vec(&request).unwrap(), None),
            400,
            "no Inference-Header-Content-Length",
        ),
        (
            (body.clone(), Some(body.len() + 1)),
            400,
            "the body has only",
        ),
        ((body.clone(), Some(length - 1)), 400, "not valid JSON"),
        // A shape of a billion rows declared over 592 bytes: refused, nothing reserved.
        (
            with_header(binary_body(
                &with_shape(json!([1_000_000_000, 37]), data.len()),
                &data,
            )),
            400,
            "bytes (8 per element) but 592 bytes were sent",
        ),
        (
            with_header(binary_body(
                &with_shape(json!([2, 37]), data.len() + 8),
                &data,
            )),
            400,
            "only 592 bytes of binary data are left",
        ),
        (
            with_header(binary_body(
                &with_shape(json!([2, 37]), data.len() - 8),
                &data,
            )),
            400,
            "8 bytes follow the JSON",
        ),
        (
            with_header(binary_body(&with_shape(json!([2, 36]), data.len()), &data)),
            400,
            "shape [2, 36] of FP64 is 576 bytes",
        ),
        (
            with_header(binary_body(&with_shape(json!([74]), data.len()), &data)),
            422,
            "the model expects [N, 37]",
        ),
    ];
    for ((body, header), expected_status, expected_error) in cases {
        let (status, error) = refusal(&app, body, header).await;
        assert_eq!(status, expected_status, "{error}");
        assert!(
            error.contains(expected_error),
            "{expected_error:?} not in {error:?}"
        );
    }

    // A declared length that is not a number.
    let response = app
        .client
        .post(app.url("/v2/models/pickle_model/infer"))
        .header("inference-header-content-length", "12a")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    let (status, error) = json(response).await;
    assert_eq!(status, 400);
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("not a length in bytes")
    );
}

#[tokio::test]
async fn values_a_datatype_cannot_hold_are_refused_with_what_is_allowed() {
    let app = spawn_app().await;
    let rows = x_test(1);
    let (mut body, length) = binary_request(&rows, "BOOL", Value::Null);
    *body.last_mut().unwrap() = 2;
    let (status, error) = refusal(&app, body, Some(length)).await;
    assert_eq!(status, 422);
    assert!(
        error.contains("element 36 is the byte 2 (BOOL elements are one byte, 0 or 1)"),
        "{error}"
    );

    let (mut body, length) = binary_request(&rows, "FP64", Value::Null);
    let at = length + 8;
    body[at..at + 8].copy_from_slice(&f64::NAN.to_le_bytes());
    let (status, error) = refusal(&app, body, Some(length)).await;
    assert_eq!(status, 422);
    assert!(
        error.contains(
            "row 1, column \"x1\": a missing value, which LogisticRegression does not accept"
        ),
        "{error}"
    );
}

#[tokio::test]
async fn the_body_limit_and_the_row_limit_hold_for_binary_bodies() {
    let app = spawn_app_with(ServeSettings {
        max_body_bytes: 64 * 1024,
        max_batch_rows: 100,
        ..ServeSettings::default()
    })
    .await;
    let (body, length) = binary_request(&x_test(300), "FP64", Value::Null);
    let (status, error) = refusal(&app, body, Some(length)).await;
    assert_eq!(status, 413, "{error}");
    assert!(
        error.contains("larger than the limit of 65536 bytes"),
        "{error}"
    );

    // Within the body limit in UINT8, but over the row limit.
    let (body, length) = binary_request(&x_test(101), "UINT8", Value::Null);
    let (status, error) = refusal(&app, body, Some(length)).await;
    assert_eq!(status, 413);
    assert!(
        error.contains("101 rows, more than the limit of 100"),
        "{error}"
    );
}

#[tokio::test]
async fn json_and_binary_inputs_answer_alike() {
    let app = spawn_app().await;
    let rows = x_test(20);
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    let asked = json!([{"name": "predict_proba", "parameters": {"binary_data": false}}]);
    let (body, length) = binary_request(&rows, "FP64", asked.clone());
    let binary = BinaryAnswer::of(app.infer_binary(MODEL, body, Some(length)).await).await;
    let json_request = json!({
        "inputs": [{"name": "x", "shape": [20, 37], "datatype": "FP64", "data": flat}],
        "outputs": asked,
    });
    let (status, from_json) = json(app.infer(MODEL, &json_request).await).await;

    assert_eq!((binary.status, status), (200, 200));
    assert_eq!(binary.json["outputs"], from_json["outputs"]);
}
