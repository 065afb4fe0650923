//! Waiting on what a running server shows (the version that answers, `/metrics`) instead of on
//! time: every wait polls against a generous deadline and fails the test when it passes.

use std::future::Future;
use std::time::{Duration, Instant};

use super::{TestApp, sample, v2_request, x_test};

/// Polls `check` until it holds, failing after a generous deadline.
pub async fn eventually<F: Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The version that answers a prediction of model `m` (and that it answered 200).
pub async fn served_version(app: &TestApp) -> String {
    let response = app.infer("m", &v2_request(&x_test(1))).await;
    assert_eq!(response.status(), 200);
    response.headers()["x-model-version"]
        .to_str()
        .unwrap()
        .to_owned()
}

pub async fn wait_for_version(app: &TestApp, version: &str) {
    eventually(&format!("version {version} served"), || async {
        served_version(app).await == version
    })
    .await;
}

/// The value of one sample in `/metrics` (0 when absent).
pub async fn metric(app: &TestApp, name: &str) -> f64 {
    sample(&app.metrics().await, name)
}

/// Failed refreshes of model `m` for `reason` (`download`, `malformed`, …).
pub async fn refresh_failures(app: &TestApp, reason: &str) -> f64 {
    let name = format!(r#"skserve_model_refresh_failures_total{{model="m",reason="{reason}"}}"#);
    metric(app, &name).await
}

pub async fn wait_for_refresh_failures(app: &TestApp, reason: &str, count: f64) {
    eventually(&format!("{count} '{reason}' refresh failures"), || async {
        refresh_failures(app, reason).await >= count
    })
    .await;
}
