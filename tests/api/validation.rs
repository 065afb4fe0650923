//! Bad requests: each answered with the right 4xx and a JSON error saying what is wrong, never
//! a 5xx, never a crash.

use std::time::Duration;

use serde_json::json;
use skserve::config::ServeSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{
    README_X, fixture_model, json, spawn_app, spawn_app_with, spawn_app_with_model, x_test,
};

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");
const JSON: Option<&str> = Some("application/json");
const INFER: &str = "/v2/models/pickle_model/infer";
const V1: &str = "/v1/models/pickle_model:predict";

/// Method, path, Content-Type, body; then the expected status and a part of the error.
type Case<'a> = (&'a str, &'a str, Option<&'a str>, String, u16, &'a str);

fn row(n: usize) -> String {
    serde_json::to_string(&vec![0; n]).unwrap()
}

fn infer_body(shape: &str, datatype: &str, data: &str) -> String {
    format!(
        r#"{{"inputs":[{{"name":"x","shape":{shape},"datatype":"{datatype}","data":{data}}}]}}"#
    )
}

#[tokio::test]
async fn bad_requests_get_a_clear_4xx() {
    let app = spawn_app().await;
    let with_inf = README_X.replacen('0', "1e400", 1);
    let r37 = row(37);
    #[rustfmt::skip]
    let cases: Vec<Case<'_>> = vec![
        // The seed's form.
        ("POST", "/", FORM, String::new(), 400, "the form has no field 'x'"),
        ("POST", "/", FORM, "y=[1]".into(), 400, "the form has no field 'x'"),
        ("POST", "/", FORM, "x=[0,1]".into(), 422, "x has 2 values, but the model expects 37 features"),
        ("POST", "/", FORM, "x=[0,a]".into(), 400, "x is not a list of numbers: expected a number at position 3, found 'a'"),
        ("POST", "/", FORM, "x=[nan]".into(), 400, "x is not a list of numbers"),
        ("POST", "/", FORM, "x=[0,1".into(), 400, "missing ']' at the end"),
        ("POST", "/", FORM, format!("x={with_inf}"), 422, "is not a finite number"),
        ("POST", "/", FORM, "x=".into(), 400, "x is not a list of numbers: it is empty"),
        ("POST", "/", None, format!("x={README_X}"), 415, "the request has no Content-Type"),
        ("POST", "/", JSON, format!("x={README_X}"), 415, "got Content-Type: application/json"),
        // V2.
        ("POST", INFER, JSON, "{".into(), 400, "the body is not valid JSON"),
        ("POST", INFER, JSON, String::new(), 400, "the body is empty"),
        ("POST", INFER, JSON, "{}".into(), 400, "missing field `inputs`"),
        ("POST", INFER, JSON, infer_body("[1,36]", "FP64", &row(36)), 422, "the model expects [N, 37]"),
        ("POST", INFER, JSON, infer_body("[2,37]", "FP64", &r37), 400, "holds 74 values but data has 37"),
        ("POST", INFER, JSON, infer_body("[1,2]", "FP64", r#"["a",1]"#), 400, "data holds the string \"a\""),
        ("POST", INFER, JSON, infer_body("[1,2]", "FP64", "[NaN,1]"), 400, "the body is not valid JSON"),
        ("POST", INFER, JSON, infer_body("[1,2]", "FP64", "[1e400,1]"), 400, "number out of range"),
        ("POST", INFER, JSON, infer_body("[1,2]", "FP64", "[null,1]"), 400, "data holds null"),
        ("POST", INFER, JSON, infer_body("[1,37]", "BYTES", &r37), 422, "is BYTES"),
        ("POST", INFER, JSON, infer_body("[1,37]", "FP128", &r37), 400, "unknown datatype 'FP128'"),
        ("POST", INFER, JSON, infer_body("[1,37]", "INT64", &r37.replacen('0', "0.5", 1)), 422, "holds 0.5, which is not an integer"),
        ("POST", INFER, JSON, infer_body("[0,37]", "FP64", "[]"), 422, "has no rows"),
        ("POST", INFER, JSON, r#"{"inputs":[]}"#.into(), 400, "expected exactly one input tensor, got 0"),
        (
            "POST", INFER, JSON,
            format!(r#"{{"inputs":[{{"name":"x","shape":[1,37],"datatype":"FP64","data":{r37}}}],"outputs":[{{"name":"transform"}}]}}"#),
            400, "'transform' was asked for",
        ),
        (
            "POST", INFER, JSON,
            format!(r#"{{"inputs":[{{"name":"x","shape":[1,37],"datatype":"FP64","data":{r37}}}],"parameters":{{"explain":"perhaps"}}}}"#),
            400, "expected true or false",
        ),
        ("POST", "/v2/models/nope/infer", JSON, infer_body("[1,37]", "FP64", &r37), 404, "no model named 'nope' is served"),
        ("GET", "/v2/models/nope", None, String::new(), 404, "no model named 'nope' is served"),
        // V1.
        ("POST", V1, JSON, "[1]".into(), 400, "expected a JSON object"),
        ("POST", V1, JSON, "{}".into(), 400, "no \"instances\""),
        ("POST", V1, JSON, r#"{"instances":[]}"#.into(), 422, "\"instances\" is empty"),
        ("POST", V1, JSON, r#"{"instances":[[0,1]]}"#.into(), 422, "instance 0 has 2 values, but the model expects 37"),
        ("POST", V1, JSON, r#"{"instances":["a"]}"#.into(), 422, "instance 0 is a string"),
        ("POST", V1, JSON, r#"{"instances":[{"OPERA":7}]}"#.into(), 422, "OPERA=7 is not a value the model knows"),
        ("POST", "/v1/models/pickle_model:train", JSON, "{}".into(), 404, "the verbs are :predict and :explain"),
        ("POST", "/v1/models/pickle_model:predict?proba=maybe", JSON, "{}".into(), 400, "proba=maybe"),
        // Routing.
        ("GET", "/nope", None, String::new(), 404, "no route for GET /nope"),
        ("GET", "/", None, String::new(), 405, "method GET is not allowed on /"),
        ("DELETE", INFER, None, String::new(), 405, "method DELETE is not allowed"),
    ];
    assert!(cases.len() >= 15);

    for (method, path, content_type, body, status, message) in cases {
        let response = app.send(method, path, content_type, body.clone()).await;
        let got_status = response.status().as_u16();
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{method} {path} {body}"
        );
        let (_, answer) = json(response).await;
        let error = answer["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {answer}"));
        assert_eq!(got_status, status, "{method} {path} {body:?}: {error}");
        assert!(
            error.contains(message),
            "{method} {path} {body:?}: '{error}' lacks '{message}'"
        );
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = spawn_app_with(ServeSettings {
        max_body_bytes: 1000,
        ..ServeSettings::default()
    })
    .await;
    let big = format!("x={}", "0,".repeat(1000));

    let (status, body) = json(app.post_seed_form(&big).await).await;

    assert_eq!(status, 413);
    assert_eq!(
        body["error"],
        "the request body is larger than the limit of 1000 bytes"
    );
}

#[tokio::test]
async fn batches_over_the_limit_are_413() {
    let app = spawn_app_with(ServeSettings {
        max_batch_rows: 10,
        ..ServeSettings::default()
    })
    .await;
    let rows = x_test(11);

    let (status, body) = json(
        app.infer("pickle_model", &crate::helpers::v2_request(&rows))
            .await,
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(
        body["error"],
        "the request has 11 rows, more than the limit of 10 rows per request"
    );

    let (status, _) = json(
        app.v1_predict("pickle_model", "", &json!({"instances": rows}))
            .await,
    )
    .await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn predict_proba_of_a_model_without_it_is_422() {
    let app = spawn_app_with_model(&fixture_model("challenge-int-LinearSVC__pickle-p4.pkl")).await;
    let mut request = crate::helpers::v2_request(&x_test(1));
    request["outputs"] = json!([{"name": "predict_proba"}]);

    let (status, body) = json(
        app.infer("challenge-int-LinearSVC__pickle-p4", &request)
            .await,
    )
    .await;

    assert_eq!(status, 422);
    assert_eq!(
        body["error"],
        "this model (LinearSVC) has no 'predict_proba'"
    );
}

#[tokio::test]
async fn a_request_that_outlives_the_timeout_is_503() {
    let app = spawn_app_with(ServeSettings {
        request_timeout: Duration::from_millis(200),
        ..ServeSettings::default()
    })
    .await;
    // Headers promise a body that never comes: the handler waits until the timeout answers.
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    stream
        .write_all(
            b"POST / HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n\
              Content-Length: 100\r\n\r\nx=[0",
        )
        .await
        .unwrap();

    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("}") {
        let n = stream.read(&mut buffer).await.unwrap();
        assert!(n > 0, "connection closed without an answer");
        answer.extend_from_slice(&buffer[..n]);
    }

    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains("{\"error\":\"the request took longer than 200ms"),
        "{answer}"
    );
}
