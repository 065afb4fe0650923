//! The token issuer's keys are fetched at start, not by the first caller: readiness (REST and
//! gRPC's health check) waits for them, for a bounded time, and the first request with a token
//! finds them in hand.

use std::time::Duration;

use skserve::config::ServeSettings;
use skserve::grpc::generated::health::HealthCheckRequest;
use skserve::grpc::generated::health::health_check_response::ServingStatus;

use crate::helpers::{
    README_X, TestIssuer, TestKey, claims, eventually, health_client, json, spawn_app_with_grpc,
};

async fn app(issuer: &TestIssuer, keys_wait_at_start: Duration) -> crate::helpers::TestApp {
    let mut auth = issuer.settings(&[]);
    auth.tokens.as_mut().unwrap().keys_wait_at_start = keys_wait_at_start;
    spawn_app_with_grpc(ServeSettings {
        auth,
        ..ServeSettings::default()
    })
    .await
}

async fn predict(app: &crate::helpers::TestApp, token: &str) -> u16 {
    app.client
        .post(app.url("/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .bearer_auth(token)
        .body(format!("x={README_X}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_keys_are_in_hand_before_the_first_caller() {
    let key = TestKey::load("a");
    let issuer = TestIssuer::start(&[&key]).await;
    let app = app(&issuer, Duration::from_secs(3600)).await;

    eventually("ready", || async { app.ready().await.status() == 200 }).await;
    let fetched_at_start = issuer.fetches();
    let status = predict(&app, &key.mint(&claims("ana@example.com"))).await;

    assert!(fetched_at_start >= 1, "ready before the keys were fetched");
    assert_eq!(status, 200);
    assert_eq!(
        issuer.fetches(),
        fetched_at_start,
        "the first caller fetched again"
    );
}

#[tokio::test]
async fn readiness_waits_for_the_keys_while_the_issuer_is_down() {
    let key = TestKey::load("a");
    let issuer = TestIssuer::start(&[&key]).await;
    issuer.set_up(false);
    let app = app(&issuer, Duration::from_secs(3600)).await;
    let mut health = health_client(&app).await;
    let check = || HealthCheckRequest {
        service: String::new(),
    };

    let (status, body) = json(app.ready().await).await;
    let waiting = health.check(check()).await.unwrap().into_inner().status;
    assert_eq!(status, 503);
    assert_eq!(
        body["error"],
        "the server is fetching the token issuer's signing keys"
    );
    assert_eq!(waiting, ServingStatus::NotServing as i32);
    assert_eq!(app.live().await.status(), 200, "alive all the same");

    // The fetch at start retries on its own (every 5 s, stretched) until the issuer is back.
    issuer.set_up(true);
    eventually("ready once the issuer is back", || async {
        app.ready().await.status() == 200
    })
    .await;
    let serving = health.check(check()).await.unwrap().into_inner().status;
    assert_eq!(serving, ServingStatus::Serving as i32);
}

#[tokio::test]
async fn readiness_waits_only_so_long_then_requests_say_why_they_cannot_be_checked() {
    let key = TestKey::load("a");
    let issuer = TestIssuer::start(&[&key]).await;
    issuer.set_up(false);
    let app = app(&issuer, Duration::ZERO).await;

    assert_eq!(app.ready().await.status(), 200);
    let response = app
        .client
        .post(app.url("/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .bearer_auth(key.mint(&claims("ana@example.com")))
        .body(format!("x={README_X}"))
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 503);
    assert_eq!(body["reason"], "keys_unavailable");
}
