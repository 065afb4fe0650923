//! Fuzzing the request parsers through a live server: the seed's form, V2 and V1 JSON, V2's
//! binary extension, gRPC messages and tokens, as random bytes and as structured near-misses.
//! Whatever arrives, the answer is never a 5xx (over gRPC, never a server fault's status)
//! and every refusal is a JSON `{"error": …}`. `SKSERVE_HTTP_FUZZ_CASES` sets how many inputs
//! each parser gets (default 1,500).
//!
//! The built binary, in a 1 GiB address space, is also fed mutated model files through its
//! refresher (size fields set to hurt among the other mutations of `tests/common/mutate.rs`)
//! while fuzzed requests arrive: an allocation without bound would end it there.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, challenge_model, challenge_pipeline, metric, other_challenge_model, repo, spawn_app,
    spawn_app_with_model, spawn_binary_within, wait_for_version,
};

#[path = "../common/mutate.rs"]
mod mutate;
use mutate::{Rng, mutate, mutate_size};

fn cases() -> usize {
    std::env::var("SKSERVE_HTTP_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_500)
}

/// Draws `n` inputs from a strategy (no shrinking: a failure prints its input whole).
fn draw<T: std::fmt::Debug>(strategy: impl Strategy<Value = T>, n: usize) -> Vec<T> {
    let mut runner = TestRunner::deterministic();
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

/// JSON values of any shape, numbers of every kind included.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
            prop::collection::hash_map("[a-z_]{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// V2 requests close to valid: right keys, wrong shapes, types and counts.
fn near_v2() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just(json!("x")), any_json()],
        prop::collection::vec(-3i64..50, 0..3),
        prop_oneof![
            Just(json!("FP64")),
            Just(json!("INT64")),
            Just(json!("BYTES")),
            Just(json!("BOOL")),
            any_json()
        ],
        prop_oneof![
            prop::collection::vec(0.0f64..2.0, 0..80).prop_map(Value::from),
            any_json()
        ],
        prop_oneof![Just(Value::Null), any_json()],
    )
        .prop_map(|(name, shape, datatype, data, parameters)| {
            json!({"inputs": [{"name": name, "shape": shape, "datatype": datatype, "data": data}],
                   "parameters": parameters, "outputs": [{"name": "predict_proba"}]})
        })
}

async fn assert_never_5xx(app: &TestApp, path: &str, content_type: &str, body: Vec<u8>) {
    let response = app
        .send("POST", path, Some(content_type), body.clone())
        .await;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert!(
        status < 500,
        "{status} for {path} with {:?}: {text}",
        String::from_utf8_lossy(&body)
    );
    if status >= 400 {
        let parsed: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON {status}: {text}"));
        assert!(
            parsed["error"].is_string(),
            "{status} without an error message: {text}"
        );
    }
}

#[tokio::test]
async fn the_seed_form_parser_never_fails_the_server() {
    let app = spawn_app().await;
    let raw = draw(prop::collection::vec(any::<u8>(), 0..200), cases());
    let near = draw("x=[\\[\\]()0-9eE.,+ \\-naifTrueFals_%&=]{0,120}", cases());
    for body in raw
        .into_iter()
        .chain(near.into_iter().map(String::into_bytes))
    {
        assert_never_5xx(&app, "/", "application/x-www-form-urlencoded", body).await;
    }
}

#[tokio::test]
async fn the_v2_parser_never_fails_the_server() {
    let app = spawn_app().await;
    let bodies = draw(prop_oneof![near_v2(), any_json()], cases());
    for body in bodies {
        let bytes = serde_json::to_vec(&body).unwrap();
        assert_never_5xx(
            &app,
            "/v2/models/pickle_model/infer",
            "application/json",
            bytes,
        )
        .await;
    }
    for body in draw(prop::collection::vec(any::<u8>(), 0..200), cases() / 3) {
        assert_never_5xx(
            &app,
            "/v2/models/pickle_model/infer",
            "application/json",
            body,
        )
        .await;
    }
}

#[tokio::test]
async fn the_v1_parser_never_fails_the_server() {
    let app = spawn_app().await;
    let instance = prop_oneof![
        prop::collection::hash_map(
            prop_oneof![
                Just("OPERA".to_owned()),
                Just("TIPOVUELO".to_owned()),
                Just("MES".to_owned()),
                "[A-Za-z_]{0,8}"
            ],
            prop_oneof![
                Just(json!("Grupo LATAM")),
                Just(json!("I")),
                (0i64..14).prop_map(Value::from),
                any_json()
            ],
            0..5
        )
        .prop_map(|m| Value::Object(m.into_iter().collect())),
        any_json(),
    ];
    let bodies = draw(
        prop::collection::vec(instance, 0..4).prop_map(|i| json!({"instances": i})),
        cases(),
    );
    for body in bodies {
        let bytes = serde_json::to_vec(&body).unwrap();
        for path in [
            "/v1/models/pickle_model:predict",
            "/v1/models/pickle_model:predict?explain=true",
        ] {
            assert_never_5xx(&app, path, "application/json", bytes.clone()).await;
        }
    }
}

/// Bearer tokens near a valid one: characters changed, cut short, segments added or swapped
/// for encoded JSON of any shape (headers naming other algorithms and keys, odd claims).
fn near_tokens(valid: String) -> impl Strategy<Value = String> {
    use base64::Engine;
    let encode = |value: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
    };
    let segments: Vec<String> = valid.split('.').map(str::to_owned).collect();
    let header = prop_oneof![
        (
            prop_oneof![
                Just(json!("RS256")),
                Just(json!("none")),
                Just(json!("HS256")),
                any_json()
            ],
            prop_oneof![
                Just(json!("k")),
                "[ -~]{0,40}".prop_map(Value::from),
                any_json()
            ],
        )
            .prop_map(|(alg, kid)| json!({"alg": alg, "kid": kid, "typ": "JWT"})),
        any_json(),
    ];
    let (length, valid_for_change, valid_for_cut) = (valid.len(), valid.clone(), valid.clone());
    prop_oneof![
        (0..length, "[A-Za-z0-9_.=+/-]").prop_map(move |(at, c)| {
            let mut changed = valid_for_change.clone().into_bytes();
            changed[at] = c.as_bytes()[0];
            String::from_utf8(changed).unwrap()
        }),
        (0..length).prop_map(move |at| valid_for_cut[..at].to_owned()),
        (header, any_json(), 0usize..3).prop_map(move |(header, claims, extra)| {
            let mut token = vec![encode(&header), encode(&claims), segments[2].clone()];
            token.extend(std::iter::repeat_n(segments[1].clone(), extra));
            token.join(".")
        }),
    ]
}

#[tokio::test]
async fn the_token_parser_never_fails_the_server() {
    use crate::helpers::{TestIssuer, TestKey, claims, spawn_app_with_auth};

    let key = TestKey::load("a");
    let issuer = TestIssuer::start(&[&key]).await;
    let mut auth = issuer.settings(&[]);
    // As in production: unknown keys refetch the JWKS at most once a minute.
    auth.tokens.as_mut().unwrap().refetch_interval = std::time::Duration::from_secs(60);
    let app = spawn_app_with_auth(auth).await;
    let valid = key.mint(&claims("ana@example.com"));
    let headers = draw("[ -~]{0,300}", cases()).into_iter().chain(
        draw(near_tokens(valid.clone()), cases())
            .into_iter()
            .map(|token| format!("Bearer {token}")),
    );
    for authorization in headers {
        let response = app
            .client
            .post(app.url("/"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", &authorization)
            .body(format!("x={}", crate::helpers::README_X))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        if authorization == format!("Bearer {valid}") {
            assert_eq!(status, 200);
            continue;
        }
        let challenge = response.headers().get("www-authenticate").cloned();
        let text = response.text().await.unwrap();
        assert_eq!(status, 401, "{authorization:?} got {status}: {text}");
        assert!(
            challenge.is_some(),
            "401 without a challenge for {authorization:?}: {text}"
        );
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert!(parsed["error"].is_string(), "{text}");
    }
}

/// Binary V2 bodies near valid ones: a valid request of one row or a few, changed in one
/// place or none: its `binary_data_size` off by a little, huge, negative or not a number; its
/// datatype or shape; its bytes; another input; its outputs' parameters; or its
/// `Inference-Header-Content-Length`, off, past the body, or not a number at all.
fn near_binary() -> impl Strategy<Value = (Vec<u8>, Option<String>)> {
    #[derive(Clone, Debug)]
    enum Change {
        None,
        Size(Value),
        Datatype(String),
        Shape(Vec<i64>),
        Bytes(Vec<u8>),
        AnotherInput(Value, Vec<u8>),
        Outputs(Value),
        HeaderOffset(i64),
        Header(String),
    }
    let datatype = prop_oneof![
        Just("FP32".to_owned()),
        Just("FP16".to_owned()),
        Just("INT64".to_owned()),
        Just("INT8".to_owned()),
        Just("UINT16".to_owned()),
        Just("BOOL".to_owned()),
        Just("BYTES".to_owned()),
        "[A-Z0-9]{0,6}",
    ];
    let change = prop_oneof![
        2 => Just(Change::None),
        1 => prop_oneof![(-16i64..16).prop_map(Value::from), any::<i64>().prop_map(Value::from), any_json()]
            .prop_map(Change::Size),
        1 => datatype.prop_map(Change::Datatype),
        1 => prop::collection::vec(prop_oneof![Just(37i64), -2i64..40, any::<i64>()], 0..3)
            .prop_map(Change::Shape),
        1 => prop::collection::vec(any::<u8>(), 0..700).prop_map(Change::Bytes),
        1 => (any_json(), prop::collection::vec(any::<u8>(), 0..50))
            .prop_map(|(input, bytes)| Change::AnotherInput(input, bytes)),
        1 => any_json().prop_map(Change::Outputs),
        1 => prop_oneof![-8i64..8, any::<u32>().prop_map(i64::from)].prop_map(Change::HeaderOffset),
        1 => "[ -~]{0,8}".prop_map(Change::Header),
    ];
    (1usize..4, prop::bool::ANY, change).prop_map(|(rows, proba, change)| {
        let values: Vec<f64> = (0..rows * 37)
            .map(|i| f64::from(u8::from(i % 3 == 0)))
            .collect();
        let mut data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut input = json!({
            "name": "x", "shape": [rows, 37], "datatype": "FP64",
            "parameters": {"binary_data_size": data.len()},
        });
        let mut request = json!({"inputs": [], "parameters": {"binary_data_output": true}});
        if proba {
            request["outputs"] =
                json!([{"name": "predict_proba", "parameters": {"binary_data": true}}]);
        }
        let mut extra = Vec::new();
        let mut header_offset = 0;
        let mut header_text = None;
        match change {
            Change::None => {}
            Change::Size(size) => {
                input["parameters"]["binary_data_size"] = match size.as_i64() {
                    Some(offset) if offset.abs() < 16 => json!(data.len() as i64 + offset),
                    _ => size,
                }
            }
            Change::Datatype(datatype) => input["datatype"] = json!(datatype),
            Change::Shape(shape) => input["shape"] = json!(shape),
            Change::Bytes(bytes) => data = bytes,
            Change::AnotherInput(other, bytes) => {
                request["inputs"] = json!([other]);
                extra = bytes;
            }
            Change::Outputs(outputs) => request["outputs"] = outputs,
            Change::HeaderOffset(offset) => header_offset = offset,
            Change::Header(text) => header_text = Some(text),
        }
        request["inputs"].as_array_mut().unwrap().push(input);
        let mut body = serde_json::to_vec(&request).unwrap();
        let json_length = body.len() as i64;
        body.extend(extra);
        body.extend(data);
        let header = header_text.unwrap_or_else(|| (json_length + header_offset).to_string());
        (body, Some(header))
    })
}

#[tokio::test]
async fn the_binary_extension_never_fails_the_server() {
    let app = spawn_app().await;
    let answered = post_binary(&app, "pickle_model", draw(near_binary(), cases())).await;
    assert!(answered > 0, "no near-valid body was ever answered");
}

/// Binary V2 bodies for a Pipeline that names its columns, near valid ones: OPERA and
/// TIPOVUELO as BYTES (each element after its 4-byte length), MES as INT64, changed in one
/// place or none: a column's bytes (random, or a length prefix replaced), its datatype, shape
/// or `binary_data_size`, or a column left out or given twice.
fn near_named_binary() -> impl Strategy<Value = (Vec<u8>, Option<String>)> {
    #[derive(Clone, Debug)]
    enum Change {
        None,
        Bytes(Vec<u8>),
        Prefix(u32),
        Datatype(String),
        Shape(Vec<i64>),
        Size(i64),
        Drop,
        Twice,
    }
    let datatype = prop_oneof![
        Just("BYTES".to_owned()),
        Just("INT64".to_owned()),
        Just("FP32".to_owned()),
        Just("BOOL".to_owned()),
        "[A-Z0-9]{0,6}",
    ];
    let change = prop_oneof![
        2 => Just(Change::None),
        1 => prop::collection::vec(any::<u8>(), 0..40).prop_map(Change::Bytes),
        1 => prop_oneof![0u32..16, any::<u32>()].prop_map(Change::Prefix),
        1 => datatype.prop_map(Change::Datatype),
        1 => prop::collection::vec(prop_oneof![-2i64..4, any::<i64>()], 0..3)
            .prop_map(Change::Shape),
        1 => (-6i64..6).prop_map(Change::Size),
        1 => Just(Change::Drop),
        1 => Just(Change::Twice),
    ];
    let opera = prop_oneof![
        Just("Grupo LATAM".to_owned()),
        Just("Sky Airline".to_owned()),
        "[ -~]{0,12}",
        "\\PC{0,6}",
    ];
    (
        prop::collection::vec((opera, prop::bool::ANY, 1i64..13), 1..4),
        0usize..3,
        change,
    )
        .prop_map(|(rows, target, change)| {
            let prefixed = |strings: Vec<&str>| -> Vec<u8> {
                strings
                    .iter()
                    .flat_map(|s| (s.len() as u32).to_le_bytes().into_iter().chain(s.bytes()))
                    .collect()
            };
            let n = rows.len();
            let mut columns: Vec<(&str, String, Vec<i64>, Vec<u8>)> = vec![
                (
                    "OPERA",
                    "BYTES".into(),
                    vec![n as i64, 1],
                    prefixed(rows.iter().map(|r| r.0.as_str()).collect()),
                ),
                (
                    "TIPOVUELO",
                    "BYTES".into(),
                    vec![n as i64],
                    prefixed(rows.iter().map(|r| if r.1 { "I" } else { "N" }).collect()),
                ),
                (
                    "MES",
                    "INT64".into(),
                    vec![n as i64, 1],
                    rows.iter().flat_map(|r| r.2.to_le_bytes()).collect(),
                ),
            ];
            let mut size_offset = 0;
            let column = &mut columns[target];
            match change {
                Change::None => {}
                Change::Bytes(bytes) => column.3 = bytes,
                Change::Prefix(length) if column.3.len() >= 4 => {
                    column.3[..4].copy_from_slice(&length.to_le_bytes());
                }
                Change::Prefix(_) => {}
                Change::Datatype(datatype) => column.1 = datatype,
                Change::Shape(shape) => column.2 = shape,
                Change::Size(offset) => size_offset = offset,
                Change::Drop => {
                    columns.remove(target);
                }
                Change::Twice => columns.push(columns[target].clone()),
            }
            let inputs: Vec<Value> = columns
                .iter()
                .enumerate()
                .map(|(i, (name, datatype, shape, bytes))| {
                    let offset = if i == target { size_offset } else { 0 };
                    json!({
                        "name": name, "datatype": datatype, "shape": shape,
                        "parameters": {"binary_data_size": bytes.len() as i64 + offset},
                    })
                })
                .collect();
            let request = json!({
                "inputs": inputs,
                "outputs": [{"name": "predict"}, {"name": "predict_proba"}],
                "parameters": {"binary_data_output": true},
            });
            let mut body = serde_json::to_vec(&request).unwrap();
            let json_length = body.len();
            for (_, _, _, bytes) in &columns {
                body.extend(bytes);
            }
            (body, Some(json_length.to_string()))
        })
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn binary_bytes_columns_never_fail_the_server() {
    let app = spawn_app_with_model(&challenge_pipeline()).await;
    let cases = draw(near_named_binary(), cases());
    let answered = post_binary(&app, "challenge_pipeline", cases).await;
    assert!(answered > 0, "no near-valid body was ever answered");
}

/// POSTs each binary body (with its `Inference-Header-Content-Length`, when it is a header
/// value at all); every answer must be a JSON refusal with a reason or an answer whose JSON
/// part parses. Returns how many were answered 2xx.
async fn post_binary(app: &TestApp, model: &str, cases: Vec<(Vec<u8>, Option<String>)>) -> usize {
    let mut answered = 0;
    for (body, header) in cases {
        let mut request = app
            .client
            .post(app.url(&format!("/v2/models/{model}/infer")))
            .body(body.clone());
        if let Some(header) = &header
            && let Ok(value) = reqwest::header::HeaderValue::from_str(header)
        {
            request = request.header("inference-header-content-length", value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let declared = response
            .headers()
            .get("inference-header-content-length")
            .map(|v| v.to_str().unwrap().parse::<usize>().unwrap());
        let bytes = response.bytes().await.unwrap();
        let what = format!("{header:?} {:?}", String::from_utf8_lossy(&body));
        assert!(status < 500, "{status} for {what}");
        let json_part = &bytes[..declared.unwrap_or(bytes.len())];
        let parsed: Value = serde_json::from_slice(json_part)
            .unwrap_or_else(|_| panic!("{status} with a body that is not JSON for {what}"));
        if status >= 400 {
            assert!(
                parsed["error"].is_string(),
                "{status} without a reason: {parsed}"
            );
        } else {
            answered += 1;
        }
    }
    answered
}

#[tokio::test]
async fn grpc_calls_never_fail_the_server() {
    use prost::Message;
    use skserve::config::ServeSettings;

    use crate::helpers::{RawGrpc, frame, spawn_app_with_grpc};

    let app = spawn_app_with_grpc(ServeSettings::default()).await;
    let mut grpc = RawGrpc::connect(app.grpc_port.unwrap()).await;
    let infer = "/inference.GRPCInferenceService/ModelInfer";
    // Messages near valid ones: the fields of a request with JSON-fuzzed values.
    let near = draw(
        (
            near_v2(),
            prop::collection::vec(any::<u8>(), 0..300),
            prop_oneof![Just(true), Just(false)],
        ),
        cases() / 3,
    );
    let mut failures = Vec::new();
    for (request, raw, use_raw) in near {
        let input = &request["inputs"][0];
        let shape: Vec<i64> = input["shape"]
            .as_array()
            .map(|s| s.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        let fp64: Vec<f64> = input["data"]
            .as_array()
            .map(|d| d.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        let message = skserve::grpc::generated::inference::ModelInferRequest {
            model_name: "pickle_model".into(),
            inputs: vec![
                skserve::grpc::generated::inference::model_infer_request::InferInputTensor {
                    name: input["name"].as_str().unwrap_or("x").into(),
                    datatype: input["datatype"].as_str().unwrap_or("FP64").into(),
                    shape,
                    contents: (!use_raw).then(|| {
                        skserve::grpc::generated::inference::InferTensorContents {
                            fp64_contents: fp64,
                            ..Default::default()
                        }
                    }),
                    ..Default::default()
                },
            ],
            raw_input_contents: if use_raw {
                vec![raw.into()]
            } else {
                Vec::new()
            },
            ..Default::default()
        };
        failures.push((
            grpc.call(infer, frame(&message.encode_to_vec())).await,
            format!("{message:?}"),
        ));
    }
    // Any bytes as the message, and as the whole body (a frame of any length, compressed or not).
    for bytes in draw(prop::collection::vec(any::<u8>(), 0..200), cases() / 3) {
        failures.push((
            grpc.call(infer, frame(&bytes)).await,
            format!("message {bytes:?}"),
        ));
        failures.push((
            grpc.call(infer, bytes.clone()).await,
            format!("body {bytes:?}"),
        ));
    }
    // Server faults in gRPC's codes: UNKNOWN 2, INTERNAL 13, DATA_LOSS 15, and no status at all.
    for (status, what) in failures {
        assert!(
            !matches!(status.as_str(), "2" | "13" | "15" | ""),
            "grpc-status {status:?} for {what}"
        );
    }
}

/// How many refreshes of model `m` have ended, whatever their outcome.
async fn refreshes(app: &TestApp) -> f64 {
    let mut total = 0.0;
    for outcome in ["updated", "unchanged", "failed"] {
        let name = format!(r#"skserve_model_refresh_total{{model="m",outcome="{outcome}"}}"#);
        total += metric(app, &name).await;
    }
    total
}

#[tokio::test]
async fn a_server_in_a_limited_address_space_survives_mutated_models_and_requests() {
    let dir = std::env::temp_dir().join(format!("skserve-fuzz-models-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.pkl");
    std::fs::write(&path, challenge_model()).unwrap();
    let model = path.to_string_lossy().into_owned();
    let args = [
        "--model",
        &model,
        "--model-name",
        "m",
        "--refresh-interval",
        "20ms",
    ];
    let mut server = spawn_binary_within(1 << 30, &args, &[]).await;
    let mut seeds = vec![challenge_model(), other_challenge_model()];
    for dir in [
        "tests/fixtures/tree_seeds",
        "tests/fixtures/legacy/sk1.3.2-np1.26/models",
    ] {
        let mut files: Vec<_> = std::fs::read_dir(repo().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        seeds.extend(files.iter().take(24).map(|p| std::fs::read(p).unwrap()));
    }
    let files: Vec<&[u8]> = seeds.iter().map(Vec::as_slice).collect();
    let mut rng = Rng(0x5eed_f00d);
    let bodies = draw(prop::collection::vec(any::<u8>(), 0..120), 3 * cases() / 10);
    let mut bodies = bodies.into_iter().cycle();
    let (mut good, mut input) = (0usize, Vec::new());
    for case in 0..cases() / 10 {
        input.clear();
        input.extend_from_slice(files[rng.below(files.len())]);
        mutate_size(&mut rng, &mut input);
        mutate(&mut rng, &files, &mut input);
        let before = refreshes(&server).await;
        let next = path.with_extension("next");
        std::fs::write(&next, &input).unwrap();
        std::fs::rename(&next, &path).unwrap();
        crate::helpers::eventually("a refresh of the mutated model", || async {
            refreshes(&server).await > before
        })
        .await;
        for path in ["/", "/v2/models/m/infer"] {
            let body = bodies.next().unwrap();
            assert_never_5xx(&server, path, "application/octet-stream", body).await;
        }
        assert!(server.is_running(), "skserve ended on mutated model {case}");
        // A good model again, so that the refresher's backoff starts over.
        let bytes = [challenge_model(), other_challenge_model()][good % 2].clone();
        good += 1;
        std::fs::write(&next, &bytes).unwrap();
        std::fs::rename(&next, &path).unwrap();
        wait_for_version(&server, &skserve::store::content_version(&bytes)).await;
    }
    server.sigterm();
    let (status, log) = server.exit().await;
    assert!(status.success(), "{status:?}: {log}");
    assert!(!log.contains("panicked"), "{log}");
    std::fs::remove_dir_all(&dir).unwrap();
}
