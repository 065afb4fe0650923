//! Who may call the service: Google-signed ID tokens verified in-process, allow-lists of
//! accounts, and client address ranges. [`AuthSettings`] is the validated configuration (built
//! from the flags by `crate::config`);
//! [`AccessControl`] the runtime check shared by every request; [`AuthLayer`] applies it to
//! the routes it wraps; [`AuthError`] is the RFC 6750 answer (401 with
//! `WWW-Authenticate: Bearer …` for a missing or invalid token, 403 for a valid one not
//! allowed or a client address outside `--allow-cidr`). Keys and caches live in the state,
//! never in globals. Which routes are protected is the router's to say (`crate::http`).
//!
//! # Layout
//! - `keys`: the issuer's JWKS, cached by `kid`, refetched within a rate limit.
//! - `token`: RS256 verification of ID tokens and the cache of verified ones.
//! - `allow`: the `--auth-allow` rules (emails, `*@domain`, `hd=`).
//! - `cidr`: `--allow-cidr` ranges and finding the client address (`--trust-proxy-hops`).
//! - `layer`: the tower layer that runs the checks before a handler.

pub mod allow;
pub mod cidr;
pub mod keys;
mod layer;
pub mod token;

use std::cell::RefCell;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus::IntCounterVec;

pub use allow::{AllowList, Refusal};
pub use cidr::Cidr;
pub use keys::{GOOGLE_JWKS_URL, HttpJwks, JwksSource, KeyStore};
pub use layer::{AuthLayer, Checked, RequireAuth};
pub use token::{Caller, GOOGLE_ISSUERS, TokenError, TokenRules, Verifier};

/// Validated authentication and authorization settings.
#[derive(Clone, Debug, Default)]
pub struct AuthSettings {
    /// `--auth google`: how tokens are checked; `None` for `--auth none`.
    pub tokens: Option<TokenSettings>,
    /// `--allow-cidr`: client address ranges let in; empty lets any address in.
    pub allow_cidr: Vec<Cidr>,
    /// `--trust-proxy-hops`: proxies that append the client address to `X-Forwarded-For`.
    pub trust_proxy_hops: usize,
}

/// How ID tokens are checked.
#[derive(Clone, Debug)]
pub struct TokenSettings {
    pub rules: TokenRules,
    /// `--auth-jwks-url`.
    pub jwks_url: String,
    /// `--auth-allow`.
    pub allow: AllowList,
    /// Fetches of the JWKS happen at most this often (60 s; tests shorten it).
    pub refetch_interval: Duration,
    /// How long readiness waits at start for the first key set ([`KEYS_WAIT_AT_START`]).
    pub keys_wait_at_start: Duration,
}

impl TokenSettings {
    /// Google ID tokens for these audiences, with the default leeway.
    pub fn google(audiences: &[&str]) -> Self {
        Self {
            rules: TokenRules {
                audiences: audiences.iter().map(|a| (*a).to_owned()).collect(),
                issuers: GOOGLE_ISSUERS.iter().map(|i| (*i).to_owned()).collect(),
                leeway: Duration::from_secs(60),
            },
            jwks_url: GOOGLE_JWKS_URL.to_owned(),
            allow: AllowList::default(),
            refetch_interval: Duration::from_secs(60),
            keys_wait_at_start: KEYS_WAIT_AT_START,
        }
    }
}

/// The checks every request to a protected route passes, and their failure counter.
#[derive(Debug)]
pub struct AccessControl {
    /// Unique in the process: keys the per-thread [`Recent`] decision.
    id: u64,
    /// Until when readiness waits for the issuer's keys (from when the checks were built).
    keys_awaited_until: tokio::time::Instant,
    tokens: Option<(Verifier, AllowList)>,
    allow_cidr: Vec<Cidr>,
    trust_proxy_hops: usize,
    /// `skserve_auth_failures_total{reason}`.
    failures: IntCounterVec,
}

/// How long readiness waits at start for the token issuer's keys: within Cloud Run's startup
/// probe (the Terraform allows it 30 s), long enough for a slow first fetch and a retry.
pub const KEYS_WAIT_AT_START: Duration = Duration::from_secs(10);

/// What can be decided about a request without waiting.
enum Decision {
    Allow,
    Deny(AuthError),
    /// A token not seen recently: verify it (may fetch keys).
    Verify(String, token::TokenDigest),
}

impl AccessControl {
    /// The checks of `settings`, fetching keys over HTTP(S).
    pub fn new(settings: &AuthSettings, failures: IntCounterVec) -> Self {
        let source = settings.tokens.as_ref().map(|t| HttpJwks::new(&t.jwks_url));
        Self::with_source(settings, source, failures)
    }

    /// The checks of `settings` with keys from `source`.
    pub fn with_source(
        settings: &AuthSettings,
        source: Option<impl JwksSource>,
        failures: IntCounterVec,
    ) -> Self {
        let tokens = settings.tokens.as_ref().zip(source).map(|(t, source)| {
            let keys = KeyStore::new(source, t.refetch_interval);
            (Verifier::new(keys, &t.rules), t.allow.clone())
        });
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            keys_awaited_until: tokio::time::Instant::now()
                + settings
                    .tokens
                    .as_ref()
                    .map_or(Duration::ZERO, |t| t.keys_wait_at_start),
            tokens,
            allow_cidr: settings.allow_cidr.clone(),
            trust_proxy_hops: settings.trust_proxy_hops,
            failures,
        }
    }

    /// Fetches the token issuer's keys until a fetch succeeds (at once without tokens), so
    /// that the first caller after a start does not wait for them.
    pub async fn fetch_keys_at_start(&self) {
        if let Some((verifier, _)) = &self.tokens {
            verifier.keys().fetch_at_start().await;
        }
    }

    /// Ready to let requests in: no tokens are checked, or the issuer's keys are in hand, or
    /// they have been waited for long enough ([`KEYS_WAIT_AT_START`]): an issuer that stays
    /// down then gets requests answered 503, rather than an instance that never becomes ready.
    pub fn is_ready(&self) -> bool {
        self.tokens
            .as_ref()
            .is_none_or(|(verifier, _)| verifier.keys().has_keys())
            || tokio::time::Instant::now() >= self.keys_awaited_until
    }

    /// The synchronous part: client address, and the cache of verified tokens.
    fn decide(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Decision {
        if let Err(e) = self.check_address(peer, headers) {
            return Decision::Deny(e);
        }
        let Some((verifier, allow)) = &self.tokens else {
            return Decision::Allow;
        };
        let token = match bearer_token(headers) {
            Ok(token) => token,
            Err(e) => return Decision::Deny(e),
        };
        let decision = match self.recent(token) {
            Some(decision) => decision,
            None => {
                let digest = token::digest(token);
                let Some((caller, valid_until)) = verifier.cached(&digest) else {
                    return Decision::Verify(token.to_owned(), digest);
                };
                let decision = allow.check(&caller);
                self.remember(token, decision, valid_until);
                decision
            }
        };
        match decision {
            Ok(()) => Decision::Allow,
            Err(refusal) => Decision::Deny(AuthError::Refused(refusal)),
        }
    }

    /// This thread's decision on the last token it saw, while the token's cache entry lasts:
    /// a client reusing its token costs a comparison, not a hash and a shared cache read.
    fn recent(&self, token: &str) -> Option<Result<(), Refusal>> {
        RECENT.with_borrow(|recent| {
            recent
                .as_ref()
                .filter(|r| r.owner == self.id && *r.token == *token)
                .filter(|r| r.valid_until > token::unix_now())
                .map(|r| r.decision)
        })
    }

    fn remember(&self, token: &str, decision: Result<(), Refusal>, valid_until: u64) {
        RECENT.set(Some(Recent {
            owner: self.id,
            token: token.into(),
            decision,
            valid_until,
        }));
    }

    /// The asynchronous part: verifying a token not in the cache, then the allow-list.
    async fn verify(&self, token: &str, digest: token::TokenDigest) -> Result<(), AuthError> {
        let (verifier, allow) = self
            .tokens
            .as_ref()
            .expect("only asked to verify when tokens are checked");
        let caller = verifier
            .verify(token, digest)
            .await
            .map_err(AuthError::Invalid)?;
        allow.check(&caller).map_err(AuthError::Refused)
    }

    fn check_address(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Result<(), AuthError> {
        if self.allow_cidr.is_empty() {
            return Ok(());
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        let client = cidr::client_address(peer, forwarded, self.trust_proxy_hops)
            .map_err(AuthError::Address)?;
        if self.allow_cidr.iter().any(|c| c.contains(client)) {
            Ok(())
        } else {
            Err(AuthError::Address(format!(
                "the client address {client} is not in an allowed range"
            )))
        }
    }

    /// Every check of a request from `peer` with `headers`, for a transport that is not the
    /// REST router's (gRPC: the token is in the `authorization` metadata). Refusals are
    /// counted in `skserve_auth_failures_total` as the router's are.
    pub async fn authorize(
        &self,
        peer: Option<IpAddr>,
        headers: &HeaderMap,
    ) -> Result<(), AuthError> {
        let checked = match self.decide(peer, headers) {
            Decision::Allow => Ok(()),
            Decision::Deny(error) => Err(error),
            Decision::Verify(token, digest) => self.verify(&token, digest).await,
        };
        if let Err(error) = &checked {
            self.failures.with_label_values(&[error.reason()]).inc();
        }
        checked
    }

    /// Counts a failure and answers it.
    fn refuse(&self, error: AuthError) -> Response {
        self.failures.with_label_values(&[error.reason()]).inc();
        error.into_response()
    }
}

thread_local! {
    static RECENT: RefCell<Option<Recent>> = const { RefCell::new(None) };
}

/// A thread's last authorization decision on a cached token.
struct Recent {
    owner: u64,
    token: Box<str>,
    decision: Result<(), Refusal>,
    /// Unix time when the token's cache entry ends.
    valid_until: u64,
}

/// The token of `Authorization: Bearer <token>`.
fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(AuthError::Missing)?;
    // `from_utf8` has an ASCII fast path; `HeaderValue::to_str` checks byte by byte, which
    // for a kilobyte token is a good part of the whole check.
    let value = std::str::from_utf8(value.as_bytes())
        .map_err(|_| AuthError::Invalid(TokenError::Malformed("not UTF-8".into())))?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Missing);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(token)
}

/// Why a request is not let in.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("this endpoint needs an `Authorization: Bearer <ID token>` header")]
    Missing,
    #[error("{0}")]
    Invalid(TokenError),
    #[error("{}", match .0 {
        Refusal::EmailUnverified => "the token's email address is missing or not verified",
        Refusal::NotAllowed => "the token's account is not allowed to call this service",
    })]
    Refused(Refusal),
    #[error("{0}")]
    Address(String),
}

impl AuthError {
    /// The `reason` label of `skserve_auth_failures_total`, also sent in the body.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Invalid(e) => e.reason(),
            Self::Refused(Refusal::EmailUnverified) => "email_unverified",
            Self::Refused(Refusal::NotAllowed) => "not_allowed",
            Self::Address(_) => "client_address",
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let (status, challenge) = match &self {
            // RFC 6750 §3.1: no error code when the request has no credentials.
            Self::Missing => (
                StatusCode::UNAUTHORIZED,
                Some(r#"Bearer realm="skserve""#.into()),
            ),
            Self::Invalid(TokenError::KeysUnavailable) => (StatusCode::SERVICE_UNAVAILABLE, None),
            Self::Invalid(e) => (
                StatusCode::UNAUTHORIZED,
                Some(format!(
                    r#"Bearer realm="skserve", error="invalid_token", error_description="{}""#,
                    header_safe(&e.to_string())
                )),
            ),
            Self::Refused(_) | Self::Address(_) => (StatusCode::FORBIDDEN, None),
        };
        let body = serde_json::json!({ "error": self.to_string(), "reason": self.reason() });
        let mut response = (status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// Text fit for a quoted header parameter: the description quotes parts of the token (its
/// algorithm, its key id), which may hold quotes or bytes a header cannot carry.
fn header_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_follow_rfc_6750() {
        let response = AuthError::Invalid(TokenError::Expired).into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            r#"Bearer realm="skserve", error="invalid_token", error_description="the token has expired""#
        );
        let response = AuthError::Refused(Refusal::NotAllowed).into_response();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_none());
        let response = AuthError::Invalid(TokenError::KeysUnavailable).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn a_challenge_survives_token_text_no_header_can_carry() {
        // Found by fuzzing: an algorithm name with a control byte dropped the challenge.
        let error = TokenError::Malformed("alg \u{1}\u{e9}\"x\"".into());
        let response = AuthError::Invalid(error).into_response();
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            r#"Bearer realm="skserve", error="invalid_token", error_description="the token is not a well-formed JWT: alg ??'x'""#
        );
    }
}
