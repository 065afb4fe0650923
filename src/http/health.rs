//! Liveness and readiness (V2 protocol paths), and the Prometheus scrape endpoint.
//! Ready means a model is loaded, the token issuer's keys are in hand (or were waited for long
//! enough), `/metrics` was scraped once when readiness waits for it, and the server is not
//! draining for shutdown.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::service::AppState;

/// `GET /v2/health/live`: the process answers.
pub async fn live() -> Json<serde_json::Value> {
    Json(json!({ "live": true }))
}

/// `GET /v2/health/ready`: 200 while serving, 503 before the token issuer's keys are fetched
/// (bounded) and once shutdown has begun.
pub async fn ready(State(state): State<AppState>) -> Response {
    match state.not_ready() {
        None => Json(json!({ "ready": true })).into_response(),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "ready": false, "error": reason })),
        )
            .into_response(),
    }
}

/// `GET /metrics`: every metric in Prometheus' text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    // Model health's counts first (they feed the engine's model-health SLOs), then the SLO
    // gauges, as fresh as the scrape; the first scrape fixes the count before it.
    if let Some(health) = &state.health {
        health.refresh();
    }
    state.metrics.slo.set(&state.slo.report());
    let before = state.first_scrape.note_scrape();
    state
        .metrics
        .requests_before_first_scrape
        .set(before as i64);
    let mut response = state.metrics.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}
