//! The issuer's signing keys (a JWKS), cached by `kid`. The set is fetched at start
//! ([`KeyStore::fetch_at_start`], which readiness waits for) and kept for the
//! `Cache-Control: max-age` of the response that brought it; an unknown `kid` triggers one
//! refetch; fetches (for whatever reason) happen at most once per `refetch_interval`
//! (60 s), each wait stretched at random by up to a quarter (`crate::backoff`) so that a fleet
//! does not refetch in step; a failed fetch keeps the last good set. Only RSA keys meant for
//! RS256 signatures are kept. The fetch sits behind [`JwksSource`] so unit tests use a fake, integration tests
//! a JWKS served on loopback, and production Google's endpoint over HTTPS.
//!
//! Nothing here is on the hot path: verified tokens are cached in `token`, so the store is
//! asked only when a new token arrives. The async mutex is held across the fetch on purpose:
//! it is what makes concurrent misses wait for one fetch instead of each starting their own.
//! The fetch runs in a task of its own, which holds the lock until it ends: a request abandoned
//! while it waits (its timeout, a client gone) must not abandon the fetch, or a JWKS slower
//! than the request timeout would never be read, and the rate limit would then refuse to try
//! again for a minute.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use tokio::sync::{Mutex, OwnedMutexGuard};
use tokio::time::Instant;

use crate::backoff;

/// Google's signing keys for ID tokens.
pub const GOOGLE_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";
/// How long a key set is kept when the response says nothing about caching.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
/// The longest a key set is kept whatever the response says.
const LONGEST_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// Before any key set was fetched, failures are retried at most this often.
const FIRST_FETCH_RETRY: Duration = Duration::from_secs(5);

/// A JWKS as fetched: the body and how long it may be cached.
#[derive(Clone, Debug)]
pub struct FetchedJwks {
    pub body: Vec<u8>,
    /// `Cache-Control: max-age`, when present.
    pub max_age: Option<Duration>,
}

/// Where key sets come from.
pub trait JwksSource: Send + Sync + 'static {
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<FetchedJwks, String>> + Send + '_>>;
}

/// A JWKS served over HTTP(S).
pub struct HttpJwks {
    client: reqwest::Client,
    url: String,
}

impl HttpJwks {
    pub fn new(url: &str) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("the HTTP client's TLS backend initialises");
        Self {
            client,
            url: url.to_owned(),
        }
    }
}

impl JwksSource for HttpJwks {
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<FetchedJwks, String>> + Send + '_>> {
        Box::pin(async move {
            let response = self
                .client
                .get(&self.url)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| format!("GET {}: {e}", self.url))?;
            let max_age = response
                .headers()
                .get_all(reqwest::header::CACHE_CONTROL)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(max_age);
            let body = response
                .bytes()
                .await
                .map_err(|e| format!("GET {}: {e}", self.url))?;
            Ok(FetchedJwks {
                body: body.to_vec(),
                max_age,
            })
        })
    }
}

/// `max-age=N` of a Cache-Control value.
fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').find_map(|directive| {
        let (name, value) = directive.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("max-age")
            .then(|| value.trim().trim_matches('"').parse().ok())
            .flatten()
            .map(Duration::from_secs)
    })
}

/// Why no key is available for a `kid`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the issuer has no signing key '{0}'")]
    UnknownKid(String),
    #[error("the issuer's signing keys cannot be fetched")]
    Unavailable,
}

/// Signing keys by `kid`, and until when they are fresh.
struct KeySet {
    keys: HashMap<String, Arc<DecodingKey>>,
    fresh_until: Instant,
}

/// When the last fetch was tried, and the random stretch of the wait before the next.
#[derive(Default)]
struct FetchLog {
    last_attempt: Option<(Instant, f64)>,
}

impl FetchLog {
    /// When a fetch may be tried again, waiting `interval` (stretched) after the last.
    fn next_allowed(&self, interval: Duration) -> Option<Instant> {
        self.last_attempt
            .map(|(at, stretch)| at + interval.mul_f64(stretch))
    }
}

/// The cache of the issuer's keys. Cheap reads (`ArcSwap`), one fetch at a time.
pub struct KeyStore {
    source: Arc<dyn JwksSource>,
    refetch_interval: Duration,
    current: Arc<ArcSwapOption<KeySet>>,
    fetches: Arc<Mutex<FetchLog>>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("refetch_interval", &self.refetch_interval)
            .finish_non_exhaustive()
    }
}

impl KeyStore {
    pub fn new(source: impl JwksSource, refetch_interval: Duration) -> Self {
        Self {
            source: Arc::new(source),
            refetch_interval,
            current: Arc::new(ArcSwapOption::empty()),
            fetches: Arc::new(Mutex::new(FetchLog::default())),
        }
    }

    /// The key named `kid`, fetching the set when it is stale, missing or lacks `kid`, within
    /// the refetch rate limit.
    pub async fn key(&self, kid: &str) -> Result<Arc<DecodingKey>, KeyError> {
        if let Some(set) = self.current.load().as_ref()
            && set.fresh_until > Instant::now()
            && let Some(key) = set.keys.get(kid)
        {
            return Ok(key.clone());
        }
        let log = self.fetches.clone().lock_owned().await;
        // Another request may have fetched while this one waited.
        let current = self.current.load_full();
        let now = Instant::now();
        let known = current.as_ref().and_then(|set| set.keys.get(kid).cloned());
        let fresh = current.as_ref().is_some_and(|set| set.fresh_until > now);
        if let (Some(key), true) = (&known, fresh) {
            return Ok(key.clone());
        }
        let _rate_limited = self.fetch_if_allowed(log).await;
        match self.current.load().as_ref() {
            None => Err(KeyError::Unavailable),
            Some(set) => set
                .keys
                .get(kid)
                .cloned()
                .ok_or_else(|| KeyError::UnknownKid(kid.to_owned())),
        }
    }
}

impl KeyStore {
    /// Whether a key set was ever fetched.
    pub fn has_keys(&self) -> bool {
        self.current.load().is_some()
    }

    /// Fetches the key set until one fetch succeeds: at start, so that the first caller does
    /// not wait for it. A failed attempt is retried after [`FIRST_FETCH_RETRY`], stretched, and
    /// never sooner than the rate limit of [`KeyStore::key`] allows.
    pub async fn fetch_at_start(&self) {
        while !self.has_keys() {
            let log = self.fetches.clone().lock_owned().await;
            if self.has_keys() {
                return;
            }
            let next = match self.fetch_if_allowed(log).await {
                Ok(()) => Instant::now() + backoff::jitter(FIRST_FETCH_RETRY),
                Err(allowed) => allowed,
            };
            if !self.has_keys() {
                tokio::time::sleep_until(next).await;
            }
        }
    }

    /// With the fetch log held: one fetch, when the rate limit allows it (else when it will).
    /// The fetch runs in a task of its own, which holds the log until it ends.
    async fn fetch_if_allowed(&self, mut log: OwnedMutexGuard<FetchLog>) -> Result<(), Instant> {
        let now = Instant::now();
        let interval = if self.has_keys() {
            self.refetch_interval
        } else {
            self.refetch_interval.min(FIRST_FETCH_RETRY)
        };
        if let Some(next) = log.next_allowed(interval).filter(|&next| next > now) {
            return Err(next);
        }
        log.last_attempt = Some((now, backoff::stretch()));
        let (source, current) = (self.source.clone(), self.current.clone());
        let fetch = tokio::spawn(async move {
            let _log = log;
            match fetch(source.as_ref()).await {
                Ok(set) => current.store(Some(Arc::new(set))),
                Err(e) => tracing::warn!(
                    error = %e,
                    "cannot refresh the token issuer's signing keys; keeping the last ones"
                ),
            }
        });
        // A panic in the fetch leaves the last keys in place, as a failed fetch does.
        let _ = fetch.await;
        Ok(())
    }
}

/// One fetch of the key set, parsed.
async fn fetch(source: &dyn JwksSource) -> Result<KeySet, String> {
    let fetched = source.fetch().await?;
    let keys = parse_jwks(&fetched.body)?;
    let max_age = fetched
        .max_age
        .unwrap_or(DEFAULT_MAX_AGE)
        .min(LONGEST_MAX_AGE);
    tracing::info!(
        keys = keys.len(),
        max_age_seconds = max_age.as_secs(),
        "fetched the token issuer's signing keys"
    );
    Ok(KeySet {
        keys,
        fresh_until: Instant::now() + max_age,
    })
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

/// The RS256 signing keys of a JWKS by `kid`. `DecodingKey::from_jwk` does not look at `alg`
/// or `use`, so they are checked here: keys for anything but RS256 signatures are skipped.
fn parse_jwks(body: &[u8]) -> Result<HashMap<String, Arc<DecodingKey>>, String> {
    let jwks: Jwks =
        serde_json::from_slice(body).map_err(|e| format!("the JWKS is not valid: {e}"))?;
    let mut keys = HashMap::new();
    for jwk in jwks.keys {
        let usable = jwk.kty == "RSA"
            && jwk.alg.as_deref().is_none_or(|alg| alg == "RS256")
            && jwk.usage.as_deref().is_none_or(|usage| usage == "sig");
        let (true, Some(kid), Some(n), Some(e)) = (usable, jwk.kid, jwk.n, jwk.e) else {
            continue;
        };
        match DecodingKey::from_rsa_components(&n, &e) {
            Ok(key) => {
                keys.insert(kid, Arc::new(key));
            }
            Err(error) => tracing::warn!(kid = %kid, %error, "skipping a malformed JWKS key"),
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A JWKS source whose answer the test sets, counting fetches.
    #[derive(Clone, Default)]
    struct Fake(Arc<FakeState>);

    #[derive(Default)]
    struct FakeState {
        answer: StdMutex<Option<FetchedJwks>>,
        fetches: AtomicUsize,
        /// How long each fetch takes to answer.
        latency: StdMutex<Duration>,
    }

    impl Fake {
        fn serve(&self, kids: &[&str], max_age: Option<u64>) {
            let keys: Vec<_> = kids
                .iter()
                .map(|kid| serde_json::json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": N, "e": "AQAB"}))
                .collect();
            *self.0.answer.lock().unwrap() = Some(FetchedJwks {
                body: serde_json::to_vec(&serde_json::json!({ "keys": keys })).unwrap(),
                max_age: max_age.map(Duration::from_secs),
            });
        }
        fn fail(&self) {
            *self.0.answer.lock().unwrap() = None;
        }
        fn fetches(&self) -> usize {
            self.0.fetches.load(Ordering::SeqCst)
        }
    }

    impl JwksSource for Fake {
        fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<FetchedJwks, String>> + Send + '_>> {
            self.0.fetches.fetch_add(1, Ordering::SeqCst);
            let answer = self.0.answer.lock().unwrap().clone();
            let latency = *self.0.latency.lock().unwrap();
            Box::pin(async move {
                tokio::time::sleep(latency).await;
                answer.ok_or_else(|| "down".to_owned())
            })
        }
    }

    /// Past `wait` however it was stretched.
    fn past(wait: Duration) -> Duration {
        wait.mul_f64(1.0 + crate::backoff::SPREAD) + Duration::from_millis(1)
    }

    /// A 512-bit modulus: parsing needs a well-formed one, nothing is verified with it.
    const N: &str =
        "wpBCfEsdBXhHgHUS6mfW2oH2z7k3SUlrPBmXGFGJeqgbcfT3vqDt1k0pBBkl4n2A2oLqmk4xmWkvdzQNjjKi0Q";

    #[tokio::test(start_paused = true)]
    async fn keys_are_cached_for_max_age() {
        let fake = Fake::default();
        fake.serve(&["a"], Some(600));
        let store = KeyStore::new(fake.clone(), Duration::from_secs(60));
        store.key("a").await.unwrap();
        store.key("a").await.unwrap();
        assert_eq!(fake.fetches(), 1);
        tokio::time::advance(Duration::from_secs(601)).await;
        store.key("a").await.unwrap();
        assert_eq!(fake.fetches(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn an_unknown_kid_refetches_at_most_once_per_interval() {
        let fake = Fake::default();
        fake.serve(&["a"], Some(3600));
        let store = KeyStore::new(fake.clone(), Duration::from_secs(60));
        store.key("a").await.unwrap();
        tokio::time::advance(past(Duration::from_secs(60))).await;
        assert_eq!(
            store.key("b").await.err(),
            Some(KeyError::UnknownKid("b".into()))
        );
        assert_eq!(fake.fetches(), 2);
        fake.serve(&["a", "b"], Some(3600));
        // Within the interval: no fetch, still unknown.
        assert!(store.key("b").await.is_err());
        assert!(store.key("c").await.is_err());
        assert_eq!(fake.fetches(), 2);
        tokio::time::advance(past(Duration::from_secs(60))).await;
        store.key("b").await.unwrap();
        assert_eq!(fake.fetches(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_fetch_keeps_the_last_good_keys() {
        let fake = Fake::default();
        fake.serve(&["a"], Some(10));
        let store = KeyStore::new(fake.clone(), Duration::from_secs(60));
        store.key("a").await.unwrap();
        fake.fail();
        tokio::time::advance(Duration::from_secs(120)).await;
        store.key("a").await.unwrap();
        assert_eq!(fake.fetches(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn no_keys_at_all_is_unavailable_and_retried_soon() {
        let fake = Fake::default();
        let store = KeyStore::new(fake.clone(), Duration::from_secs(60));
        assert_eq!(store.key("a").await.err(), Some(KeyError::Unavailable));
        assert_eq!(store.key("a").await.err(), Some(KeyError::Unavailable));
        assert_eq!(fake.fetches(), 1);
        fake.serve(&["a"], None);
        tokio::time::advance(past(FIRST_FETCH_RETRY)).await;
        store.key("a").await.unwrap();
        assert_eq!(fake.fetches(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_limit_holds_whatever_the_jitter() {
        let fake = Fake::default();
        fake.serve(&["a"], Some(3600));
        let store = KeyStore::new(fake.clone(), Duration::from_secs(60));
        store.key("a").await.unwrap();
        tokio::time::advance(Duration::from_secs(59)).await;
        assert!(store.key("b").await.is_err());
        assert_eq!(fake.fetches(), 1, "a refetch within the interval");
    }

    #[tokio::test(start_paused = true)]
    async fn keys_are_fetched_at_start_until_a_fetch_succeeds() {
        let fake = Fake::default();
        let store = Arc::new(KeyStore::new(fake.clone(), Duration::from_secs(60)));
        let fetching = tokio::spawn({
            let store = store.clone();
            async move { store.fetch_at_start().await }
        });
        let start = Instant::now();
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(fake.fetches(), 1);
        assert!(!store.has_keys());
        // Retried after the first-fetch interval, stretched: not before it, once within it.
        tokio::time::sleep_until(start + FIRST_FETCH_RETRY - Duration::from_millis(1)).await;
        assert_eq!(fake.fetches(), 1);
        tokio::time::sleep_until(start + past(FIRST_FETCH_RETRY)).await;
        assert_eq!(fake.fetches(), 2);
        fake.serve(&["a"], None);
        tokio::time::sleep_until(start + 2 * past(FIRST_FETCH_RETRY)).await;
        fetching.await.unwrap();
        assert!(store.has_keys());
        store.key("a").await.unwrap();
        assert_eq!(fake.fetches(), 3, "the key came from the fetch at start");
    }

    #[tokio::test(start_paused = true)]
    async fn a_fetch_outlives_the_request_that_started_it() {
        let fake = Fake::default();
        fake.serve(&["a"], None);
        *fake.0.latency.lock().unwrap() = Duration::from_secs(3);
        let store = KeyStore::new(fake.clone(), Duration::from_secs(60));
        let abandoned = tokio::time::timeout(Duration::from_secs(1), store.key("a")).await;
        assert!(abandoned.is_err(), "the fetch answered before the timeout");
        store.key("a").await.unwrap();
        assert_eq!(fake.fetches(), 1);
    }

    #[test]
    fn only_rs256_signing_keys_are_kept() {
        let body = serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "ok", "alg": "RS256", "use": "sig", "n": N, "e": "AQAB"},
            {"kty": "RSA", "kid": "no-alg", "n": N, "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": N, "e": "AQAB"},
            {"kty": "RSA", "kid": "ps", "alg": "PS256", "n": N, "e": "AQAB"},
            {"kty": "oct", "kid": "hmac", "alg": "HS256", "k": "c2VjcmV0"},
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"}
        ]});
        let keys = parse_jwks(&serde_json::to_vec(&body).unwrap()).unwrap();
        let mut kids: Vec<_> = keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        assert_eq!(kids, ["no-alg", "ok"]);
    }

    #[test]
    fn cache_control_max_age() {
        assert_eq!(
            max_age("public, max-age=19742, must-revalidate, no-transform"),
            Some(Duration::from_secs(19742))
        );
        assert_eq!(max_age("no-cache"), None);
    }
}
