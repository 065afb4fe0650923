//! V2 over gRPC (`--grpc-listen`) with tonic's client: the calls against scikit-learn's
//! answers, raw and typed contents, and everything HTTP requests are held to holding for calls
//! too: refusals with reasons, the access checks, one concurrency limit for both protocols,
//! the connection limit, the request timeout, metrics by method, the SLOs and a graceful stop.

use skserve::auth::{AuthSettings, Cidr};
use skserve::config::ServeSettings;
use skserve::grpc::generated::health::HealthCheckRequest;
use skserve::grpc::generated::health::health_check_response::ServingStatus;
use skserve::grpc::generated::inference::model_infer_request::InferInputTensor;
use skserve::grpc::generated::inference::{
    InferTensorContents, ModelInferRequest, ModelMetadataRequest, ModelReadyRequest,
    ServerLiveRequest, ServerMetadataRequest, ServerReadyRequest,
};
use tonic::Code;

use crate::helpers::{
    README_X, TestIssuer, TestKey, assert_close, claims, expected_test, f64s, grpc_client,
    health_client, hold_call, hold_the_only_place, i64s, json, raw_infer, sample, spawn_app_with,
    spawn_app_with_grpc, spawn_binary, start_request, typed_infer, with_token, x_test,
};

const MODEL: &str = "pickle_model";

#[tokio::test]
async fn probes_and_metadata_answer_as_over_rest() {
    let app = spawn_app_with_grpc(ServeSettings::default()).await;
    let mut client = grpc_client(&app).await;

    let live = client.server_live(ServerLiveRequest {}).await.unwrap();
    let ready = client.server_ready(ServerReadyRequest {}).await.unwrap();
    let model_ready = client
        .model_ready(ModelReadyRequest {
            name: MODEL.into(),
            version: String::new(),
        })
        .await
        .unwrap();
    let server = client
        .server_metadata(ServerMetadataRequest {})
        .await
        .unwrap()
        .into_inner();
    let model = client
        .model_metadata(ModelMetadataRequest {
            name: MODEL.into(),
            version: String::new(),
        })
        .await
        .unwrap()
        .into_inner();

    assert!(live.into_inner().live);
    assert!(ready.into_inner().ready);
    assert!(model_ready.into_inner().ready);
    assert_eq!(server.name, "skserve");
    assert_eq!(server.extensions, ["binary_tensor_data"]);
    let (_, rest) = json(app.model_metadata(MODEL).await).await;
    assert_eq!(model.versions, [rest["versions"][0].as_str().unwrap()]);
    assert_eq!(model.platform, "sklearn");
    assert_eq!(model.inputs[0].name, "x");
    assert_eq!(model.inputs[0].datatype, "FP64");
    assert_eq!(model.inputs[0].shape, [-1, 37]);
    let outputs: Vec<(&str, &str, &[i64])> = model
        .outputs
        .iter()
        .map(|o| (o.name.as_str(), o.datatype.as_str(), o.shape.as_slice()))
        .collect();
    assert_eq!(
        outputs,
        [
            ("predict", "INT64", &[-1, 1][..]),
            ("predict_proba", "FP64", &[-1, 2][..]),
            ("decision_function", "FP64", &[-1, 1][..])
        ]
    );

    let unknown = client
        .model_ready(ModelReadyRequest {
            name: "nope".into(),
            version: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(unknown.message(), "no model named 'nope' is served");
    let wrong_version = client
        .model_metadata(ModelMetadataRequest {
            name: MODEL.into(),
            version: "v0".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(wrong_version.code(), Code::NotFound);

    let mut health = health_client(&app).await;
    let check = |service: &str| HealthCheckRequest {
        service: service.into(),
    };
    let serving = health.check(check("")).await.unwrap().into_inner();
    assert_eq!(serving.status, ServingStatus::Serving as i32);
    let named = health
        .check(check("inference.GRPCInferenceService"))
        .await
        .unwrap();
    assert_eq!(named.into_inner().status, ServingStatus::Serving as i32);
    let other = health.check(check("other.Service")).await.unwrap_err();
    assert_eq!(other.code(), Code::NotFound);
}

#[tokio::test]
async fn raw_contents_predict_like_scikit_learn_and_come_back_raw() {
    let app = spawn_app_with_grpc(ServeSettings::default()).await;
    let mut client = grpc_client(&app).await;

    for n in [1, 5, 1000] {
        let rows = x_test(n);
        for datatype in ["FP64", "FP32"] {
            let request = raw_infer(MODEL, &rows, datatype, &["predict", "predict_proba"]);
            let answer = client.model_infer(request).await.unwrap().into_inner();

            assert_eq!(answer.model_name, MODEL);
            assert_eq!(answer.outputs.len(), 2);
            assert_eq!(answer.outputs[0].shape, [n as i64, 1]);
            assert_eq!(answer.outputs[1].shape, [n as i64, 2]);
            assert!(answer.outputs.iter().all(|o| o.contents.is_none()));
            let labels = i64s(&answer.raw_output_contents[0]);
            let proba = f64s(&answer.raw_output_contents[1]);
            for (i, (label, p1)) in expected_test(n).into_iter().enumerate() {
                assert_eq!(labels[i], label, "{datatype}, row {i}");
                assert_close(proba[2 * i + 1], p1, &format!("{datatype}, row {i}"));
            }
        }
    }
}

#[tokio::test]
async fn typed_contents_come_back_typed() {
    let app = spawn_app_with_grpc(ServeSettings::default()).await;
    let mut client = grpc_client(&app).await;
    let rows = x_test(5);
    let mut request = typed_infer(MODEL, &rows, &[]);
    request.id = "call-7".into();

    let answer = client.model_infer(request).await.unwrap().into_inner();

    assert_eq!(answer.id, "call-7");
    assert!(answer.raw_output_contents.is_empty());
    assert_eq!(answer.outputs.len(), 1, "predict only by default");
    let expected: Vec<i64> = expected_test(5).into_iter().map(|(l, _)| l).collect();
    let contents = answer.outputs[0].contents.as_ref().unwrap();
    assert_eq!(contents.int64_contents, expected);

    // Integers in their own field, and the predict_proba parameter as MLServer takes it.
    let ints: Vec<i64> = rows.iter().flatten().map(|&v| v as i64).collect();
    let mut request = ModelInferRequest {
        model_name: MODEL.into(),
        inputs: vec![InferInputTensor {
            name: "x".into(),
            datatype: "INT64".into(),
            shape: vec![5, 37],
            contents: Some(InferTensorContents {
                int64_contents: ints,
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    };
    request.parameters.insert(
        "predict_proba".into(),
        skserve::grpc::generated::inference::InferParameter {
            parameter_choice: Some(
                skserve::grpc::generated::inference::infer_parameter::ParameterChoice::BoolParam(
                    true,
                ),
            ),
        },
    );
    let answer = client.model_infer(request).await.unwrap().into_inner();
    let names: Vec<&str> = answer.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["predict", "predict_proba"]);
    let proba = &answer.outputs[1].contents.as_ref().unwrap().fp64_contents;
    for (i, (_, p1)) in expected_test(5).into_iter().enumerate() {
        assert_close(proba[2 * i + 1], p1, &format!("row {i}"));
    }
}

#[tokio::test]
async fn mistakes_are_refused_with_a_reason() {
    let app = spawn_app_with_grpc(ServeSettings {
        max_batch_rows: 100,
        max_body_bytes: 64 * 1024,
        ..ServeSettings::default()
    })
    .await;
    let mut client = grpc_client(&app).await;
    let rows = x_test(2);
    let short_rows: Vec<Vec<f64>> = rows.iter().map(|r| r[..36].to_vec()).collect();
    let mut unknown_datatype = raw_infer(MODEL, &rows, "FP64", &[]);
    unknown_datatype.inputs[0].datatype = "FP128".into();
    let mut cut_short = raw_infer(MODEL, &rows, "FP64", &[]);
    cut_short.raw_input_contents[0].truncate(100);
    let cases = [
        (
            raw_infer(MODEL, &short_rows, "FP64", &[]),
            Code::InvalidArgument,
            "the model expects [N, 37] (37 features per row)",
        ),
        (
            unknown_datatype,
            Code::InvalidArgument,
            "unknown datatype 'FP128'",
        ),
        (
            cut_short,
            Code::InvalidArgument,
            "is 592 bytes (8 per element) but 100 bytes were sent",
        ),
        (
            raw_infer(MODEL, &rows, "FP64", &["score_samples"]),
            Code::InvalidArgument,
            "only 'predict', 'predict_proba' and 'decision_function' are outputs",
        ),
        (
            raw_infer("nope", &rows, "FP64", &[]),
            Code::NotFound,
            "no model named 'nope'",
        ),
        (
            raw_infer(MODEL, &x_test(101), "UINT8", &[]),
            Code::ResourceExhausted,
            "101 rows, more than the limit of 100",
        ),
        (
            raw_infer(MODEL, &x_test(300), "FP64", &[]),
            Code::ResourceExhausted,
            "larger than the limit (--max-body-bytes)",
        ),
    ];
    for (request, code, reason) in cases {
        let refused = client.model_infer(request).await.unwrap_err();
        assert_eq!(refused.code(), code, "{}", refused.message());
        assert!(
            refused.message().contains(reason),
            "{reason:?} not in {:?}",
            refused.message()
        );
    }
    // Refused calls are the caller's mistakes: counted as 4xx, never as server errors.
    let metrics = app.metrics().await;
    let route = "/inference.GRPCInferenceService/ModelInfer";
    let count = |code: &str| {
        sample(
            &metrics,
            &format!(
                r#"skserve_http_requests_total{{code="{code}",method="POST",route="{route}"}}"#
            ),
        )
    };
    assert_eq!(count("400"), 4.0);
    assert_eq!(count("404"), 1.0);
    assert_eq!(count("413"), 2.0);
}

#[tokio::test]
async fn calls_are_counted_by_method_in_the_metrics_and_the_slos() {
    let app = spawn_app_with_grpc(ServeSettings::default()).await;
    let mut client = grpc_client(&app).await;
    for _ in 0..3 {
        client
            .model_infer(raw_infer(MODEL, &x_test(4), "FP64", &[]))
            .await
            .unwrap();
    }
    client.server_live(ServerLiveRequest {}).await.unwrap();

    let metrics = app.metrics().await;
    let infer = r#"route="/inference.GRPCInferenceService/ModelInfer""#;
    assert_eq!(
        sample(
            &metrics,
            &format!(r#"skserve_http_requests_total{{code="200",method="POST",{infer}}}"#)
        ),
        3.0
    );
    assert_eq!(
        sample(
            &metrics,
            r#"skserve_prediction_rows_total{model="pickle_model"}"#
        ),
        12.0
    );
    assert!(metrics.contains(r#"route="/inference.GRPCInferenceService/ServerLive""#));
    // The SLOs count the three calls, not the probe (nor the scrape).
    let slo = app.slo_json().await;
    let availability = slo["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "availability")
        .unwrap();
    assert_eq!(availability["total"], 3, "{availability}");
    assert_eq!(availability["good"], 3);
}

#[tokio::test]
async fn calls_need_a_token_and_probes_do_not() {
    let key = TestKey::load("a");
    let issuer = TestIssuer::start(&[&key]).await;
    let app = spawn_app_with_grpc(ServeSettings {
        auth: issuer.settings(&["*@example.com"]),
        ..ServeSettings::default()
    })
    .await;
    let mut client = grpc_client(&app).await;
    let request = || raw_infer(MODEL, &x_test(1), "FP64", &[]);

    let missing = client.model_infer(request()).await.unwrap_err();
    let allowed = client
        .model_infer(with_token(request(), &key.mint(&claims("ana@example.com"))))
        .await;
    let refused = client
        .model_infer(with_token(
            request(),
            &key.mint(&claims("eve@elsewhere.org")),
        ))
        .await
        .unwrap_err();
    let forged = client
        .model_infer(with_token(request(), "not.a.token"))
        .await
        .unwrap_err();
    let metadata = client
        .server_metadata(ServerMetadataRequest {})
        .await
        .unwrap_err();
    let live = client.server_live(ServerLiveRequest {}).await;

    assert_eq!(missing.code(), Code::Unauthenticated);
    assert!(
        missing
            .message()
            .contains("Authorization: Bearer <ID token>"),
        "{}",
        missing.message()
    );
    assert!(allowed.is_ok(), "{allowed:?}");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(
        refused.message().contains("not_allowed"),
        "{}",
        refused.message()
    );
    assert_eq!(forged.code(), Code::Unauthenticated);
    assert_eq!(metadata.code(), Code::Unauthenticated);
    assert!(live.is_ok(), "probes need no token: {live:?}");
    let metrics = app
        .metrics_with_token(&key.mint(&claims("ana@example.com")))
        .await;
    assert_eq!(
        sample(&metrics, r#"skserve_auth_failures_total{reason="missing"}"#),
        2.0
    );
    assert_eq!(
        sample(
            &metrics,
            r#"skserve_auth_failures_total{reason="not_allowed"}"#
        ),
        1.0
    );
}

#[tokio::test]
async fn address_ranges_hold_for_calls() {
    let app = spawn_app_with_grpc(ServeSettings {
        auth: AuthSettings {
            allow_cidr: vec!["10.0.0.0/8".parse::<Cidr>().unwrap()],
            ..AuthSettings::default()
        },
        ..ServeSettings::default()
    })
    .await;
    let mut client = grpc_client(&app).await;

    let refused = client
        .model_infer(raw_infer(MODEL, &x_test(1), "FP64", &[]))
        .await
        .unwrap_err();

    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(
        refused
            .message()
            .contains("the client address 127.0.0.1 is not in an allowed range"),
        "{}",
        refused.message()
    );
    assert!(client.server_ready(ServerReadyRequest {}).await.is_ok());
}

#[tokio::test]
async fn one_concurrency_limit_holds_for_both_protocols() {
    // Arrange: a limit of 2, both taken by REST requests whose handlers wait for their bodies.
    let app = spawn_app_with_grpc(ServeSettings {
        max_concurrency: 2,
        ..ServeSettings::default()
    })
    .await;
    let mut client = grpc_client(&app).await;
    let body = format!("x={README_X}");
    let held = [
        start_request(app.port, body.len()).await,
        start_request(app.port, body.len()).await,
    ];

    // Act: a call.
    let shed = client
        .model_infer(raw_infer(MODEL, &x_test(1), "FP64", &[]))
        .await
        .unwrap_err();

    // Assert: shed with the REST reason; probes still answered; the shed counted.
    assert_eq!(shed.code(), Code::Unavailable);
    assert_eq!(
        shed.message(),
        "the server is at its limit of 2 requests in flight; retry shortly"
    );
    assert!(client.server_ready(ServerReadyRequest {}).await.is_ok());
    drop(held);
    let metrics = app.metrics().await;
    assert_eq!(
        sample(&metrics, r#"skserve_http_shed_total{reason="concurrency"}"#),
        1.0
    );
    assert_eq!(
        sample(
            &metrics,
            r#"skserve_http_requests_total{code="503",method="POST",route="/inference.GRPCInferenceService/ModelInfer"}"#
        ),
        1.0
    );
}

#[tokio::test]
async fn a_call_in_flight_holds_its_place_under_the_limit_for_rest_requests() {
    let app = spawn_app_with_grpc(ServeSettings {
        max_concurrency: 1,
        ..ServeSettings::default()
    })
    .await;
    let rows = x_test(3);
    // Until the call is admitted a REST request may still get through; once it is, it sheds.
    let held = hold_the_only_place(
        app.grpc_port.unwrap(),
        &raw_infer(MODEL, &rows, "FP64", &[]),
        || async { app.post_seed_form(&format!("x={README_X}")).await.status() == 503 },
    )
    .await;
    let (status, _) = held.finish().await;

    assert_eq!(status, "0", "the held call completes");
    assert_eq!(
        app.post_seed_form(&format!("x={README_X}")).await.status(),
        200
    );
}

#[tokio::test]
async fn connections_past_the_limit_are_refused_but_probes_answered() {
    let app = spawn_app_with_grpc(ServeSettings {
        max_connections: 1,
        ..ServeSettings::default()
    })
    .await;
    let mut first = grpc_client(&app).await;
    first.server_live(ServerLiveRequest {}).await.unwrap();

    let refused = grpc_client(&app)
        .await
        .model_infer(raw_infer(MODEL, &x_test(1), "FP64", &[]))
        .await
        .unwrap_err();
    let probe = grpc_client(&app)
        .await
        .server_live(ServerLiveRequest {})
        .await;

    assert_eq!(refused.code(), Code::Unavailable);
    assert!(
        refused
            .message()
            .contains("at its limit of 1 open connections"),
        "{}",
        refused.message()
    );
    assert!(probe.is_ok(), "{probe:?}");
    assert!(
        first
            .model_infer(raw_infer(MODEL, &x_test(1), "FP64", &[]))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_call_past_the_request_timeout_is_abandoned() {
    let app = spawn_app_with_grpc(ServeSettings {
        request_timeout: std::time::Duration::from_millis(300),
        ..ServeSettings::default()
    })
    .await;
    let held = hold_call(
        app.grpc_port.unwrap(),
        &raw_infer(MODEL, &x_test(1), "FP64", &[]),
    )
    .await;

    let (status, _) = held.answer().await;

    assert_eq!(status, (Code::DeadlineExceeded as i32).to_string());
    let metrics = app.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"skserve_http_requests_total{code="504",method="POST",route="/inference.GRPCInferenceService/ModelInfer"}"#
        ),
        1.0
    );
}

#[tokio::test]
async fn sigterm_lets_a_call_in_flight_finish() {
    // Arrange: the binary, and a call it is reading (known once a REST request is shed for it).
    let server = spawn_binary(
        &[
            "--grpc-listen",
            "127.0.0.1:0",
            "--max-concurrency",
            "1",
            "--shutdown-grace",
            "60s",
        ],
        &[],
    )
    .await;
    let grpc_port = server.grpc_port.expect("the log names the gRPC port");
    let rows = x_test(5);
    let held = hold_the_only_place(grpc_port, &raw_infer(MODEL, &rows, "FP64", &[]), || async {
        server.get("/v2/models/pickle_model").await.status() == 503
    })
    .await;

    // Act: SIGTERM, then the rest of the call.
    server.sigterm();
    let (status, body) = held.finish().await;

    // Assert: answered in full, then a clean exit, and no more connections.
    assert_eq!(status, "0");
    assert!(
        body.len() > 5 + 40,
        "a whole response message: {} bytes",
        body.len()
    );
    let (exit, log) = server.exit().await;
    assert!(exit.success(), "exit status {exit}");
    assert!(log.contains("all requests finished"), "{log}");
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", grpc_port))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn grpc_is_off_unless_asked_for() {
    let app = spawn_app_with(ServeSettings::default()).await;
    assert_eq!(app.grpc_port, None);
}
