//! `/metrics`: every metric exported, labelled by route template.

use crate::helpers::{README_X, spawn_app, v2_request, x_test};

#[tokio::test]
async fn metrics_are_exported_by_route_template() {
    let app = spawn_app().await;
    app.post_seed_form(&format!("x={README_X}")).await;
    app.infer("pickle_model", &v2_request(&x_test(3))).await;
    app.get("/not-a-route-1234").await;

    let text = app.metrics().await;

    for needle in [
        "# HELP skserve_http_requests_total ",
        r#"skserve_http_requests_total{code="200",method="POST",route="/"} 1"#,
        r#"skserve_http_requests_total{code="200",method="POST",route="/v2/models/{name}/infer"} 1"#,
        r#"skserve_http_requests_total{code="404",method="GET",route="unmatched"} 1"#,
        "# HELP skserve_http_request_duration_seconds ",
        r#"skserve_http_request_duration_seconds_bucket{code_class="2xx",method="POST",route="/",le="0.05"} 1"#,
        r#"skserve_http_request_duration_seconds_bucket{code_class="2xx",method="POST",route="/",le="0.4"} 1"#,
        r#"skserve_prediction_rows_total{model="pickle_model"} 4"#,
        "skserve_build_info{git_sha=",
        "skserve_model_info{chain=\"LogisticRegression\",estimator=\"LogisticRegression\",model=\"pickle_model\",sklearn_version=\"1.1.2\",version=",
        "process_resident_memory_bytes ",
        "process_cpu_seconds_total ",
    ] {
        assert!(text.contains(needle), "/metrics lacks {needle}:\n{text}");
    }
    assert!(
        !text.contains("not-a-route-1234"),
        "raw paths must not become labels"
    );
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let app = spawn_app().await;

    let response = app.get("/metrics").await;

    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
}
