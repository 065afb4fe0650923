//! A token issuer for the auth tests: RSA test keys (`tests/fixtures/auth/`, generated once with
//! `openssl genrsa 2048`; they protect nothing), a JWKS served on 127.0.0.1 by a tiny axum
//! server the test controls (which keys it publishes, whether it is up), and ID tokens minted
//! with any claims. [`spawn_app_with_issuer`] starts skserve trusting it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use skserve::auth::{AllowList, AuthSettings, TokenRules, TokenSettings};
use skserve::config::ServeSettings;

use super::{TestApp, repo, spawn_app_with};

/// The audience skserve is configured with in these tests.
pub const AUDIENCE: &str = "https://skserve.test";
/// The issuer skserve is configured with in these tests.
pub const ISSUER: &str = "https://issuer.test";

/// A signing key of the test issuer.
pub struct TestKey {
    pub kid: String,
    encoding: EncodingKey,
    pub jwk: Value,
    /// The public key in PEM, as an attacker would find it.
    pub public_pem: Vec<u8>,
}

impl TestKey {
    /// `a` or `b`: the checked-in keys.
    pub fn load(name: &str) -> Self {
        let dir = repo().join("tests/fixtures/auth");
        let read = |file: String| std::fs::read(dir.join(file)).unwrap();
        let jwk: Value = serde_json::from_slice(&read(format!("key-{name}.jwk.json"))).unwrap();
        Self {
            kid: jwk["kid"].as_str().unwrap().to_owned(),
            encoding: EncodingKey::from_rsa_pem(&read(format!("key-{name}.pem"))).unwrap(),
            jwk,
            public_pem: read(format!("key-{name}.pub.pem")),
        }
    }

    /// An RS256 token of `claims`, with this key's `kid`.
    pub fn mint(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Valid claims: issued now, expiring in an hour, for [`AUDIENCE`] by [`ISSUER`], a verified
/// email. Tests change what they test.
pub fn claims(email: &str) -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "1234567890",
        "email": email,
        "email_verified": true,
        "iat": now(),
        "exp": now() + 3600,
    })
}

struct Published {
    keys: Mutex<Vec<Value>>,
    up: AtomicBool,
    max_age: AtomicUsize,
    fetches: AtomicUsize,
}

/// The JWKS endpoint on 127.0.0.1, serving whatever keys the test publishes.
pub struct TestIssuer {
    pub jwks_url: String,
    pub port: u16,
    published: Arc<Published>,
}

impl TestIssuer {
    /// Serves `keys` with `Cache-Control: max-age=3600`.
    pub async fn start(keys: &[&TestKey]) -> Self {
        let published = Arc::new(Published {
            keys: Mutex::new(Vec::new()),
            up: AtomicBool::new(true),
            max_age: AtomicUsize::new(3600),
            fetches: AtomicUsize::new(0),
        });
        let state = published.clone();
        let app = axum::Router::new().route(
            "/certs",
            get(move || {
                let state = state.clone();
                async move {
                    state.fetches.fetch_add(1, Ordering::SeqCst);
                    if !state.up.load(Ordering::SeqCst) {
                        return StatusCode::SERVICE_UNAVAILABLE.into_response();
                    }
                    let body = json!({ "keys": *state.keys.lock().unwrap() });
                    let cache = format!("public, max-age={}", state.max_age.load(Ordering::SeqCst));
                    ([(header::CACHE_CONTROL, cache)], axum::Json(body)).into_response()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let issuer = Self {
            jwks_url: format!("http://127.0.0.1:{port}/certs"),
            port,
            published,
        };
        issuer.publish(keys);
        issuer
    }

    /// Replaces the published keys.
    pub fn publish(&self, keys: &[&TestKey]) {
        *self.published.keys.lock().unwrap() = keys.iter().map(|k| k.jwk.clone()).collect();
    }

    /// The `max-age` of the next answers.
    pub fn set_max_age(&self, seconds: usize) {
        self.published.max_age.store(seconds, Ordering::SeqCst);
    }

    /// Answers 503 from now on (or serves again).
    pub fn set_up(&self, up: bool) {
        self.published.up.store(up, Ordering::SeqCst);
    }

    pub fn fetches(&self) -> usize {
        self.published.fetches.load(Ordering::SeqCst)
    }

    /// Settings trusting this issuer for [`AUDIENCE`], with an allow-list. The JWKS refetch
    /// interval is zero so that a test can change the keys and see them used at once.
    pub fn settings(&self, allow: &[&str]) -> AuthSettings {
        AuthSettings {
            tokens: Some(TokenSettings {
                rules: TokenRules {
                    audiences: vec![AUDIENCE.into()],
                    issuers: vec![ISSUER.into()],
                    leeway: Duration::from_secs(60),
                },
                jwks_url: self.jwks_url.clone(),
                allow: AllowList::parse(allow).unwrap(),
                refetch_interval: Duration::ZERO,
                keys_wait_at_start: skserve::auth::KEYS_WAIT_AT_START,
            }),
            ..AuthSettings::default()
        }
    }
}

/// skserve with the built-in model and these auth settings.
pub async fn spawn_app_with_auth(auth: AuthSettings) -> TestApp {
    spawn_app_with(ServeSettings {
        auth,
        ..ServeSettings::default()
    })
    .await
}
