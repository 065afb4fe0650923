//! The HTTP layer: [`router`] maps routes to handlers over the shared [`AppState`]; one file per
//! protocol, the extractors and the error type they share, and the middleware every request
//! passes. What must not live here: sockets and connections (`crate::server`), building the
//! service from its settings (`crate::startup`), models' bytes and their refresh
//! (`crate::registry`, `crate::store`).
//!
//! Every request passes one middleware (`observe`) that sheds load, applies the request
//! timeout, records metrics by route template, feeds the SLO engine and writes at most one
//! access log line. Routes that need a token sit behind the access checks of `crate::auth`;
//! the router says which do not (the health probes). [`admin_router`] serves the operators'
//! routes (`/metrics`, `/slo`, `/slo.json`, the probes) with the same handlers and no checks,
//! for `--admin-listen`'s loopback address.
//!
//! # Layout
//! - `seed`: the seed's form API (`POST /`), byte for byte.
//! - `v2`: the V2 (Open Inference) protocol over REST.
//! - `binary`: V2's binary tensor data extension (bodies of JSON, then raw tensors).
//! - `v1`: KServe V1 with named features.
//! - `health`: liveness, readiness, `/metrics`.
//! - `slo`: the SLO dashboard (`/slo`) and its figures (`/slo.json`).
//! - `explain`: per-feature contributions of linear predictions.
//! - `observe`: the middleware of shedding, timeouts, metrics, SLO events and access logs.
//! - `error`: [`ApiError`], the JSON error answer.

mod binary;
mod error;
mod explain;
mod health;
mod observe;
mod seed;
mod slo;
mod v1;
mod v1_body;
mod v2;

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arc_swap::Guard;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, Method, Uri, header};
use axum::routing::{get, post};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use prometheus::IntCounter;
use serde::de::DeserializeOwned;
use tower::Layer;

pub use error::{ApiError, Overload};
pub use explain::{Explanation, explain};
pub use observe::{Arrival, Observe, ObserveLayer, admit, arrival};
pub use seed::{numpy_str_one, parse_python_list};

use crate::auth::{AccessControl, AuthLayer, RequireAuth};
use crate::metrics::Metrics;
use crate::registry::{LoadedModel, Registry};
use crate::server::StandingQueue;
use crate::slo::fleet::FleetView;
use crate::slo::{FirstScrape, SloEngine};

/// The response header naming the version of the model that answered.
pub const MODEL_VERSION: HeaderName = HeaderName::from_static("x-model-version");

/// Shared application state: cheap to clone, one `Arc` to everything handlers need.
#[derive(Clone, Debug)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

/// The limits requests are held to.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_batch_rows: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// Requests handled at once before the rest are shed.
    pub max_concurrency: usize,
    /// While a queue stands, a request that waited longer than this is shed; `None` never
    /// sheds on waiting.
    pub max_queue_wait: Option<Duration>,
}

/// What the handlers share. No lock anywhere: models are swapped with `ArcSwap`, the draining
/// flag is atomic, the rest is read-only after start.
#[derive(Debug)]
pub struct App {
    /// Shared with the refresh tasks, which swap models in it.
    pub registry: Arc<Registry>,
    pub metrics: Metrics,
    pub max_batch_rows: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// Permits for requests in flight; none left means shed (`observe`).
    pub admission: Arc<tokio::sync::Semaphore>,
    pub max_concurrency: usize,
    /// Sheds requests that waited longer than `--max-queue-wait` while a queue stands.
    pub standing_queue: Option<StandingQueue>,
    /// `GOOGLE_CLOUD_PROJECT`, to link log lines to traces.
    pub gcp_project: Option<String>,
    /// Who may call: tokens, allow-lists, address ranges (`auth`).
    pub access: Arc<AccessControl>,
    /// Fed one event per answered request by `observe`; read by `/slo.json` and `/metrics`.
    pub slo: Arc<SloEngine>,
    /// The fleet's SLOs (`--fleet-prometheus`), read by `/slo.json`.
    pub fleet: Option<Arc<FleetView>>,
    /// The first scrape of `/metrics` and the events before it; readiness may wait for it.
    pub first_scrape: FirstScrape,
    draining: AtomicBool,
    /// The route templates requests are counted under.
    pub routes: RouteTemplates,
    /// `skserve_prediction_rows_total` by model name, resolved once (names are fixed); ordered,
    /// like the registry, to spare every request a SipHash.
    rows_predicted: BTreeMap<String, IntCounter>,
}

impl App {
    pub fn new(
        registry: Arc<Registry>,
        metrics: Metrics,
        access: Arc<AccessControl>,
        slo: Arc<SloEngine>,
        limits: Limits,
        gcp_project: Option<String>,
    ) -> Self {
        let rows_predicted = registry
            .names()
            .into_iter()
            .map(|name| {
                let counter = metrics.prediction_rows.with_label_values(&[name]);
                (name.to_owned(), counter)
            })
            .collect();
        let counted: Vec<(&str, &str)> = CALLER_ROUTES
            .iter()
            .copied()
            .filter(|(route, _)| slo.spec().counts_route(route))
            .collect();
        metrics.start_requests_at_zero(&counted);
        Self {
            registry,
            access,
            slo,
            fleet: None,
            first_scrape: FirstScrape::new(None),
            metrics,
            max_batch_rows: limits.max_batch_rows,
            max_body_bytes: limits.max_body_bytes,
            request_timeout: limits.request_timeout,
            admission: Arc::new(tokio::sync::Semaphore::new(limits.max_concurrency)),
            max_concurrency: limits.max_concurrency,
            standing_queue: limits.max_queue_wait.map(StandingQueue::new),
            gcp_project,
            draining: AtomicBool::new(false),
            routes: RouteTemplates::new(),
            rows_predicted,
        }
    }

    /// With the fleet's SLOs on `/slo.json`.
    pub fn with_fleet(mut self, fleet: Arc<FleetView>) -> Self {
        self.fleet = Some(fleet);
        self
    }

    /// Readiness waits for the first scrape of `/metrics`, at most `wait` from now.
    pub fn with_first_scrape_wait(mut self, wait: Duration) -> Self {
        self.first_scrape = FirstScrape::new(Some(wait));
        self
    }

    /// Counts rows predicted by a model.
    pub fn count_rows(&self, model: &str, rows: usize) {
        if let Some(counter) = self.rows_predicted.get(model) {
            counter.inc_by(rows as u64);
        }
    }

    /// Ready to take predictions: a model is loaded (always, once built), the token issuer's
    /// keys are in hand (or were waited for long enough), `/metrics` was scraped (or waited for
    /// long enough, with `--ready-after-first-scrape`) and the server is not draining.
    pub fn is_ready(&self) -> bool {
        self.not_ready().is_none()
    }

    /// Why the server is not ready, if it is not.
    pub fn not_ready(&self) -> Option<&'static str> {
        if self.draining.load(Ordering::Relaxed) {
            Some("the server is shutting down")
        } else if !self.access.is_ready() {
            Some("the server is fetching the token issuer's signing keys")
        } else if self.first_scrape.holds_readiness() {
            Some("waiting for the first scrape of /metrics (--ready-after-first-scrape)")
        } else {
            None
        }
    }

    /// Marks the server as shutting down: readiness turns 503.
    pub fn begin_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// The current version of the named model, or 404.
    pub fn model(&self, name: &str) -> Result<Guard<Arc<LoadedModel>>, ApiError> {
        self.registry
            .get(name)
            .map(|slot| slot.load())
            .ok_or_else(|| ApiError::ModelNotFound(name.to_owned()))
    }

    /// The named model if its current version is `version`, or 404.
    pub fn model_version(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Guard<Arc<LoadedModel>>, ApiError> {
        let loaded = self.model(name)?;
        if loaded.version() == version {
            Ok(loaded)
        } else {
            Err(ApiError::VersionNotFound {
                name: name.to_owned(),
                version: version.to_owned(),
                current: loaded.version().to_owned(),
            })
        }
    }
}

/// Every route that answers callers rather than operators, with the method it is routed for:
/// the label sets of the request metrics known before the first request (`crate::metrics`).
/// The router below must route each (a test checks that it does).
pub const CALLER_ROUTES: &[(&str, &str)] = &[
    ("/", "POST"),
    ("/v2", "GET"),
    ("/v2/models/{name}", "GET"),
    ("/v2/models/{name}/ready", "GET"),
    ("/v2/models/{name}/infer", "POST"),
    ("/v2/models/{name}/versions/{version}", "GET"),
    ("/v2/models/{name}/versions/{version}/ready", "GET"),
    ("/v2/models/{name}/versions/{version}/infer", "POST"),
    ("/v1/models", "GET"),
    ("/v1/models/{target}", "GET"),
    ("/v1/models/{target}", "POST"),
];

/// The probes' paths: open on every listener.
const PROBES: &[&str] = &["/v2/health/live", "/v2/health/ready"];

/// What operators read: the scrape, the dashboard and its figures.
const OPERATOR_ROUTES: &[&str] = &["/metrics", "/slo", "/slo.json"];

/// Every route template either router serves, matched once per request by `observe` for its
/// metrics (axum's own match is not visible outside its router). A test routes every caller
/// route and finds each counted under its template.
#[derive(Debug)]
pub struct RouteTemplates(matchit::Router<&'static str>);

impl RouteTemplates {
    fn new() -> Self {
        let mut templates = matchit::Router::new();
        let every = CALLER_ROUTES.iter().map(|(template, _)| *template);
        for template in every
            .chain(PROBES.iter().copied())
            .chain(OPERATOR_ROUTES.iter().copied())
        {
            // A template routed for two methods is listed twice.
            let _ = templates.insert(template, template);
        }
        Self(templates)
    }

    /// The template `path` matches, or `unmatched`.
    pub fn of(&self, path: &str) -> &'static str {
        self.0
            .at(path)
            .map_or("unmatched", |matched| *matched.value)
    }
}

/// The REST API: every route behind the access checks (unknown paths included, so that a
/// stranger learns nothing about which routes exist) but the health probes (orchestrators and
/// load balancers probe without a token), and outside them the one middleware every request
/// passes, so that refusals are counted and logged like any answer. The layers wrap the whole
/// router, not each route: axum would clone and box each layer of a route for every request.
pub fn router(state: AppState) -> Observe<RequireAuth<Router>> {
    let routes = Router::new()
        .route("/", post(seed::predict))
        .route("/v2", get(v2::server_metadata))
        .route("/v2/models/{name}", get(v2::model_metadata))
        .route("/v2/models/{name}/ready", get(v2::model_ready))
        .route("/v2/models/{name}/infer", post(v2::infer))
        .route(
            "/v2/models/{name}/versions/{version}",
            get(v2::model_version_metadata),
        )
        .route(
            "/v2/models/{name}/versions/{version}/ready",
            get(v2::model_version_ready),
        )
        .route(
            "/v2/models/{name}/versions/{version}/infer",
            post(v2::infer_version),
        )
        .route("/v1/models", get(v1::list))
        .route("/v1/models/{target}", get(v1::status).post(v1::predict))
        .merge(operator_routes())
        .merge(probes());
    let checked = AuthLayer::new(state.access.clone())
        .open_to_all(PROBES)
        .layer(finish(routes, state.clone()));
    ObserveLayer { state }.layer(checked)
}

/// The admin listener's routes: the operators' and the probes, without access checks. Only
/// ever bound to loopback unless `--insecure-no-auth` says otherwise (`crate::config`).
pub fn admin_router(state: AppState) -> Observe<Router> {
    let admin = probes().merge(operator_routes());
    ObserveLayer {
        state: state.clone(),
    }
    .layer(finish(admin, state))
}

/// The probes, open on every listener.
fn probes() -> Router<AppState> {
    Router::new()
        .route(PROBES[0], get(health::live))
        .route(PROBES[1], get(health::ready))
}

/// What operators read, at [`OPERATOR_ROUTES`].
fn operator_routes() -> Router<AppState> {
    Router::new()
        .route(OPERATOR_ROUTES[0], get(health::metrics))
        .route(OPERATOR_ROUTES[1], get(slo::dashboard))
        .route(OPERATOR_ROUTES[2], get(slo::figures))
}

/// `routes` answering unknown paths and methods with [`ApiError`]s, given the state.
fn finish(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::RouteNotFound(format!("{method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

/// A request body, limited to `--max-body-bytes`; failures are [`ApiError`]s.
pub struct Body(pub Bytes);

impl FromRequest<AppState> for Body {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        read_body(&parts.headers, body, state.max_body_bytes)
            .await
            .map(Self)
    }
}

/// A request's headers and its body (as [`Body`]), the headers moved out of the request
/// rather than copied as the `HeaderMap` extractor does.
pub struct HeadersAndBody {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl FromRequest<AppState> for HeadersAndBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        let body = read_body(&parts.headers, body, state.max_body_bytes).await?;
        Ok(Self {
            headers: parts.headers,
            body,
        })
    }
}

/// The whole of `body`, refused when it is, or says it is, longer than `limit` bytes.
async fn read_body(
    headers: &HeaderMap,
    body: axum::body::Body,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let too_large = ApiError::BodyTooLarge { limit };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large);
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large),
        Err(e) => Err(ApiError::BadRequest(format!(
            "cannot read the request body: {e}"
        ))),
    }
}

/// Path parameters whose rejection is an [`ApiError`].
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Self(value))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

/// Refuses a body whose declared media type is not `expected` (415 naming it).
fn require_content_type(headers: &HeaderMap, expected: &str, what: &str) -> Result<(), ApiError> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim());
    match declared {
        Some(media) if media.eq_ignore_ascii_case(expected) => Ok(()),
        Some(media) => Err(ApiError::UnsupportedMediaType(format!(
            "expected {what} (Content-Type: {expected}), got Content-Type: {media}"
        ))),
        None => Err(ApiError::UnsupportedMediaType(format!(
            "expected {what} (Content-Type: {expected}); the request has no Content-Type"
        ))),
    }
}

/// Parses a JSON body. Any Content-Type is accepted (`curl -d` sends a form type), but when
/// the body is not JSON and the request declared another type, the error says so.
fn parse_json<'a, T: serde::Deserialize<'a>>(
    headers: &HeaderMap,
    body: &'a [u8],
    what: &str,
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest(format!(
            "the body is empty; send {what}"
        )));
    }
    serde_json::from_slice(body).map_err(|e| {
        let declared = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|m| m != "application/json" && !m.ends_with("+json"))
            // Only when the body does not even start as JSON.
            .filter(|_| e.is_syntax() && e.line() == 1 && e.column() <= 1);
        let hint = declared.map_or_else(String::new, |m| {
            format!(" (the request declares Content-Type: {m}; send JSON)")
        });
        let kind = if e.is_syntax() || e.is_eof() {
            "the body is not valid JSON"
        } else {
            "invalid request"
        };
        ApiError::BadRequest(format!("{kind}: {e}{hint}"))
    })
}
