//! Authentication and authorization against a real JWKS served on loopback: every way a token
//! can be wrong, allow-lists, the key store's behaviour (unknown `kid`, rotation, issuer
//! down), client address ranges, and secure defaults of the binary.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use skserve::auth::{AuthSettings, Cidr};

use crate::helpers::{README_X, TestApp, TestIssuer, TestKey, claims, now, spawn_app_with_auth};

/// `POST /` with the README's row and, when given, `Authorization: Bearer <token>`.
async fn predict(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    predict_with(app, token, &[]).await
}

async fn predict_with(
    app: &TestApp,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("x={README_X}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// Asserts the status and the `reason` of a refusal; returns `WWW-Authenticate` and the body.
async fn assert_refused(
    response: reqwest::Response,
    status: u16,
    reason: &str,
) -> (Option<String>, Value) {
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let actual = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(actual, status, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["reason"], reason, "{body}");
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
    (challenge, body)
}

/// Asserts a 401 `invalid_token` with this reason, and that the token is not echoed.
async fn assert_invalid(app: &TestApp, token: &str, reason: &str) {
    let (challenge, body) = assert_refused(predict(app, Some(token)).await, 401, reason).await;
    let challenge = challenge.expect("401 carries WWW-Authenticate");
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    assert!(challenge.contains("error_description="), "{challenge}");
    assert!(
        !body.to_string().contains(token),
        "the body echoes the token"
    );
}

async fn app_and_issuer(allow: &[&str]) -> (TestApp, TestIssuer, TestKey) {
    let key = TestKey::load("a");
    let issuer = TestIssuer::start(&[&key]).await;
    let app = spawn_app_with_auth(issuer.settings(allow)).await;
    (app, issuer, key)
}

#[tokio::test]
async fn a_valid_token_is_accepted() {
    let (app, _issuer, key) = app_and_issuer(&[]).await;
    let token = key.mint(&claims("ana@example.com"));
    for _ in 0..2 {
        let response = predict(&app, Some(&token)).await;
        assert_eq!(response.status(), 200);
    }
}

#[tokio::test]
async fn a_missing_token_is_a_401_challenge_without_error_code() {
    let (app, _issuer, _key) = app_and_issuer(&[]).await;
    let (challenge, _) = assert_refused(predict(&app, None).await, 401, "missing").await;
    assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="skserve""#));
    let basic = predict_with(&app, None, &[("authorization", "Basic YTpi")]).await;
    assert_refused(basic, 401, "missing").await;
}

#[tokio::test]
async fn health_checks_stay_open_and_metrics_need_a_token() {
    let (app, _issuer, key) = app_and_issuer(&[]).await;
    assert_eq!(app.live().await.status(), 200);
    assert_eq!(app.ready().await.status(), 200);
    assert_refused(app.get("/metrics").await, 401, "missing").await;
    assert_refused(app.get("/v2").await, 401, "missing").await;
    // Unknown routes too: nothing is revealed before authentication.
    assert_refused(app.get("/nowhere").await, 401, "missing").await;
    let token = key.mint(&claims("ana@example.com"));
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains(r#"skserve_auth_failures_total{reason="missing"} 3"#),
        "{text}"
    );
}

#[tokio::test]
async fn expired_and_not_yet_valid_tokens_are_refused() {
    let (app, _issuer, key) = app_and_issuer(&[]).await;
    let mut expired = claims("ana@example.com");
    expired["iat"] = json!(now() - 7200);
    expired["exp"] = json!(now() - 3600);
    assert_invalid(&app, &key.mint(&expired), "expired").await;

    let mut not_before = claims("ana@example.com");
    not_before["nbf"] = json!(now() + 3600);
    assert_invalid(&app, &key.mint(&not_before), "not_yet_valid").await;

    let mut issued_later = claims("ana@example.com");
    issued_later["iat"] = json!(now() + 3600);
    issued_later["exp"] = json!(now() + 7200);
    assert_invalid(&app, &key.mint(&issued_later), "not_yet_valid").await;

    // Within the leeway (60 s) both ways: accepted.
    let mut skewed = claims("ana@example.com");
    skewed["iat"] = json!(now() + 20);
    skewed["nbf"] = json!(now() + 20);
    assert_eq!(predict(&app, Some(&key.mint(&skewed))).await.status(), 200);
}

#[tokio::test]
async fn tokens_living_longer_than_a_day_are_refused() {
    let (app, _issuer, key) = app_and_issuer(&[]).await;
    let mut long = claims("ana@example.com");
    long["exp"] = json!(now() + 3 * 24 * 3600);
    assert_invalid(&app, &key.mint(&long), "lifetime").await;
}

#[tokio::test]
async fn wrong_audience_and_issuer_are_refused() {
    let (app, _issuer, key) = app_and_issuer(&[]).await;
    let mut audience = claims("ana@example.com");
    audience["aud"] = json!("https://another-service.test");
    assert_invalid(&app, &key.mint(&audience), "audience").await;
    let mut issuer = claims("ana@example.com");
    issuer["iss"] = json!("https://accounts.example.org");
    assert_invalid(&app, &key.mint(&issuer), "issuer").await;
    let mut no_audience = claims("ana@example.com");
    no_audience.as_object_mut().unwrap().remove("aud");
    assert_invalid(&app, &key.mint(&no_audience), "malformed").await;
}

#[tokio::test]
async fn alg_none_and_hmac_with_the_public_key_are_refused() {
    let (app, _issuer, key) = app_and_issuer(&[]).await;
    let payload = URL_SAFE_NO_PAD.encode(claims("ana@example.com").to_string());
    let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","kid":"{}"}}"#, key.kid));
    assert_invalid(&app, &format!("{header}.{payload}."), "algorithm").await;

    let mut hs256 = Header::new(Algorithm::HS256);
    hs256.kid = Some(key.kid.clone());
    let forged = jsonwebtoken::encode(
        &hs256,
        &claims("ana@example.com"),
        &EncodingKey::from_secret(&key.public_pem),
    )
    .unwrap();
    assert_invalid(&app, &forged, "algorithm").await;
}

#[tokio::test]
async fn tampered_payloads_and_signatures_are_refused() {
    let (app, _issuer, key) = app_and_issuer(&["ana@example.com"]).await;
    let token = key.mint(&claims("eve@example.com"));
    let parts: Vec<&str> = token.split('.').collect();
    let payload = URL_SAFE_NO_PAD.encode(claims("ana@example.com").to_string());
    let tampered = format!("{}.{payload}.{}", parts[0], parts[2]);
    assert_invalid(&app, &tampered, "signature").await;

    let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    signature[10] ^= 1;
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        URL_SAFE_NO_PAD.encode(signature)
    );
    assert_invalid(&app, &tampered, "signature").await;
    assert_invalid(&app, "not-a-jwt", "malformed").await;
}

#[tokio::test]
async fn an_unknown_kid_is_accepted_once_the_jwks_has_it() {
    let (app, issuer, key_a) = app_and_issuer(&[]).await;
    let key_b = TestKey::load("b");
    assert_eq!(
        predict(&app, Some(&key_a.mint(&claims("a@example.com"))))
            .await
            .status(),
        200
    );
    let token_b = key_b.mint(&claims("b@example.com"));
    assert_invalid(&app, &token_b, "unknown_key").await;
    issuer.publish(&[&key_a, &key_b]);
    assert_eq!(predict(&app, Some(&token_b)).await.status(), 200);
}

#[tokio::test]
async fn keys_rotate() {
    let (app, issuer, key_a) = app_and_issuer(&[]).await;
    let key_b = TestKey::load("b");
    assert_eq!(
        predict(&app, Some(&key_a.mint(&claims("a@example.com"))))
            .await
            .status(),
        200
    );
    issuer.publish(&[&key_b]);
    let token_b = key_b.mint(&claims("b@example.com"));
    assert_eq!(predict(&app, Some(&token_b)).await.status(), 200);
    // The retired key signs nothing new.
    let mut fresh = claims("a@example.com");
    fresh["sub"] = json!("another");
    assert_invalid(&app, &key_a.mint(&fresh), "unknown_key").await;
}

#[tokio::test]
async fn the_last_good_keys_serve_while_the_jwks_is_down() {
    let key = TestKey::load("a");
    let issuer = TestIssuer::start(&[&key]).await;
    issuer.set_max_age(0);
    let app = spawn_app_with_auth(issuer.settings(&[])).await;
    assert_eq!(
        predict(&app, Some(&key.mint(&claims("a@example.com"))))
            .await
            .status(),
        200
    );
    let fetches = issuer.fetches();
    issuer.set_up(false);
    // A token not seen before: the stale key set is refreshed, fails, and is kept.
    let token = key.mint(&claims("b@example.com"));
    assert_eq!(predict(&app, Some(&token)).await.status(), 200);
    assert!(
        issuer.fetches() > fetches,
        "the stale key set was not refreshed"
    );
}

#[tokio::test]
async fn the_allow_list_decides_who_may_call() {
    let (app, _issuer, key) = app_and_issuer(&[
        "ana@example.com",
        "*@my-project.iam.gserviceaccount.com",
        "hd=corp.example",
    ])
    .await;
    for email in ["ana@example.com", "ci@my-project.iam.gserviceaccount.com"] {
        let response = predict(&app, Some(&key.mint(&claims(email)))).await;
        assert_eq!(response.status(), 200, "{email}");
    }
    let mut workspace = claims("bo@corp.example");
    workspace["hd"] = json!("corp.example");
    assert_eq!(
        predict(&app, Some(&key.mint(&workspace))).await.status(),
        200
    );

    let eve = key.mint(&claims("eve@example.com"));
    // The second time from the cache of verified tokens: still refused.
    for _ in 0..2 {
        let response = predict(&app, Some(&eve)).await;
        let (challenge, _) = assert_refused(response, 403, "not_allowed").await;
        assert_eq!(challenge, None);
    }

    let mut unverified = claims("ana@example.com");
    unverified["email_verified"] = json!(false);
    let response = predict(&app, Some(&key.mint(&unverified))).await;
    assert_refused(response, 403, "email_unverified").await;
}

async fn app_with_cidr(ranges: &[&str], trust_proxy_hops: usize) -> TestApp {
    spawn_app_with_auth(AuthSettings {
        allow_cidr: ranges.iter().map(|r| r.parse::<Cidr>().unwrap()).collect(),
        trust_proxy_hops,
        ..AuthSettings::default()
    })
    .await
}

#[tokio::test]
async fn client_addresses_outside_the_ranges_are_refused() {
    let app = app_with_cidr(&["127.0.0.0/8", "2001:db8::/32"], 0).await;
    assert_eq!(predict(&app, None).await.status(), 200);
    let app = app_with_cidr(&["10.0.0.0/8"], 0).await;
    assert_refused(predict(&app, None).await, 403, "client_address").await;
    // Health checks are open whatever the address.
    assert_eq!(app.live().await.status(), 200);
}

#[tokio::test]
async fn x_forwarded_for_counts_only_behind_trusted_proxies() {
    let spoofed = [("x-forwarded-for", "10.1.2.3")];
    let untrusting = app_with_cidr(&["10.0.0.0/8"], 0).await;
    let response = predict_with(&untrusting, None, &spoofed).await;
    assert_refused(response, 403, "client_address").await;

    let behind_one_proxy = app_with_cidr(&["10.0.0.0/8", "2001:db8::/32"], 1).await;
    let response = predict_with(&behind_one_proxy, None, &spoofed).await;
    assert_eq!(response.status(), 200);
    let v6 = [("x-forwarded-for", "2001:db8::5")];
    assert_eq!(
        predict_with(&behind_one_proxy, None, &v6).await.status(),
        200
    );
    // The client prepended an allowed address; the proxy appended the real one.
    let prepended = [("x-forwarded-for", "10.1.2.3, 192.0.2.1")];
    let response = predict_with(&behind_one_proxy, None, &prepended).await;
    assert_refused(response, 403, "client_address").await;
    // No header although a proxy is trusted: the address is unknown, so refused.
    assert_refused(
        predict(&behind_one_proxy, None).await,
        403,
        "client_address",
    )
    .await;
}

#[test]
fn serve_refuses_a_public_address_without_auth_and_says_why() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_skserve"))
        .args(["serve", "--listen", "0.0.0.0:0", "--auth", "none"])
        .env_remove("SKSERVE_INSECURE_NO_AUTH")
        .env_remove("SKSERVE_AUTH")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--insecure-no-auth"), "{stderr}");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_skserve"))
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env_remove("SKSERVE_INSECURE_NO_AUTH")
        .env_remove("SKSERVE_AUTH")
        .env_remove("SKSERVE_AUTH_AUDIENCE")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--auth-audience"), "{stderr}");
}
