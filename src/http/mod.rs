//! The HTTP layer: [`router`] maps routes to handlers over the shared
//! [`AppState`](crate::service::AppState); one file per protocol, the extractors and the error
//! type they share, and the middleware every request passes. Each protocol's file only decodes
//! its request into `crate::inference`'s and encodes the answer. What must not live here:
//! sockets and connections (`crate::server`), the state every protocol shares and the way to a
//! model (`crate::service`), building the service from its settings (`crate::startup`),
//! models' bytes and their refresh (`crate::registry`, `crate::store`).
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
//! - `v2_request`, `v2_data`: V2's inference request read from its JSON, and its tensor data.
//! - `binary`: V2's binary tensor data extension (bodies of JSON, then raw tensors).
//! - `v1`: KServe V1 with named features.
//! - `health`: liveness, readiness, `/metrics`.
//! - `slo`: the SLO dashboard (`/slo`) and its figures (`/slo.json`).
//! - `observe`: the middleware of shedding, timeouts, metrics, SLO events and access logs.
//! - `error`: [`ApiError`], the JSON error answer.
//! - `word_scan`: whether an answer's string needs escapes, a machine word at a time.

mod binary;
mod error;
mod health;
mod observe;
mod seed;
mod slo;
mod v1;
mod v1_body;
mod v2;
mod v2_data;
mod v2_request;
mod word_scan;

use std::cell::RefCell;
use std::convert::Infallible;
use std::ops::Range;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;
use tower::{Layer, Service};

pub use error::ApiError;
pub use observe::{Observe, ObserveLayer};
pub use seed::{numpy_str_one, parse_python_list};

use crate::auth::{AuthLayer, RequireAuth};
use crate::server::Arrived;
use crate::service::AppState;

/// The response header naming the version of the model that answered.
pub const MODEL_VERSION: HeaderName = HeaderName::from_static("x-model-version");

/// Sets [`MODEL_VERSION`] to `version`. The header value of the version last answered with is
/// kept per thread: a clone of it costs no allocation, and a version changes only on a refresh.
pub fn set_model_version(headers: &mut HeaderMap, version: &str) {
    thread_local! {
        static LAST: RefCell<Option<(String, HeaderValue)>> = const { RefCell::new(None) };
    }
    let value = LAST.with_borrow_mut(|last| match last {
        Some((text, value)) if text == version => Some(value.clone()),
        _ => {
            let value = HeaderValue::from_str(version).ok()?;
            *last = Some((version.to_owned(), value.clone()));
            Some(value)
        }
    });
    if let Some(value) = value {
        headers.insert(MODEL_VERSION, value);
    }
}

/// Starts the request metrics of every caller route the SLOs count at zero, so that a rate
/// over them exists before the first request.
pub fn count_routes_from_zero(state: &AppState) {
    let counted: Vec<(&str, &str)> = CALLER_ROUTES
        .iter()
        .copied()
        .filter(|(route, _)| state.slo.spec().counts_route(route))
        .collect();
    state.metrics.start_requests_at_zero(&counted);
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

/// The templates, made once.
pub static ROUTES: LazyLock<RouteTemplates> = LazyLock::new(RouteTemplates::new);

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

    /// The template `path` matches, or `unmatched`. The paths of nearly every request
    /// ([`Hot`]) are known without the matcher.
    pub fn of(&self, path: &str) -> &'static str {
        if let Some(hot) = Hot::of(path) {
            return hot.template();
        }
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
pub fn router(state: AppState) -> Observe<RequireAuth<Routes>> {
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
    let routes = Routes {
        router: finish(routes, state.clone()),
        state: state.clone(),
    };
    let checked = AuthLayer::new(state.access.clone(), peer_of)
        .open_to_all(PROBES)
        .layer(routes);
    ObserveLayer { state }.layer(checked)
}

/// The router, with the two requests that carry nearly all the traffic (the seed's form and
/// V2's inference by model name) answered by their handlers directly. The router would match
/// the path a second time (`observe` has matched its template), copy the model's name into a
/// list of parameters, and box its own future, on every request. Any other request, and
/// these two whenever the name holds a percent-escape to decode, take the router: the same
/// handlers' steps either way (a test sends both ways the same requests).
#[derive(Clone)]
pub struct Routes {
    router: Router,
    state: AppState,
}

/// A path [`Routes`] answers without the router when it is POSTed.
#[derive(Debug, PartialEq)]
enum Hot {
    /// `/`.
    Seed,
    /// `/v2/models/{name}/infer`, the name (at these bytes of the path) needing no decoding.
    V2Infer(Range<usize>),
}

impl Hot {
    fn of(path: &str) -> Option<Hot> {
        if path == "/" {
            return Some(Hot::Seed);
        }
        let name = path.strip_prefix(V2_INFER.0)?.strip_suffix(V2_INFER.1)?;
        let plain = !name.is_empty() && !name.bytes().any(|b| b == b'/' || b == b'%');
        plain.then(|| Hot::V2Infer(V2_INFER.0.len()..path.len() - V2_INFER.1.len()))
    }

    /// The route template of [`CALLER_ROUTES`] this path is routed by.
    fn template(&self) -> &'static str {
        match self {
            Hot::Seed => "/",
            Hot::V2Infer(_) => "/v2/models/{name}/infer",
        }
    }
}

/// What comes before and after the model's name in V2's inference path.
const V2_INFER: (&str, &str) = ("/v2/models/", "/infer");

impl Service<Request> for Routes {
    type Response = Response;
    type Error = Infallible;
    type Future = RoutesFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The router is always ready, and so are the handlers.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> RoutesFuture {
        let hot = Hot::of(request.uri().path()).filter(|_| request.method() == Method::POST);
        match hot {
            Some(Hot::Seed) => {
                let state = self.state.clone();
                RoutesFuture::Handler(Box::pin(async move {
                    seed::predict(State(state), request).await.into_response()
                }))
            }
            Some(Hot::V2Infer(name_at)) => {
                let state = self.state.clone();
                RoutesFuture::Handler(Box::pin(async move {
                    v2::infer_named(state, request, name_at)
                        .await
                        .into_response()
                }))
            }
            None => RoutesFuture::Router(Box::pin(self.router.call(request))),
        }
    }
}

/// [`Routes`]' answer: a handler's, or the router's.
pub enum RoutesFuture {
    Handler(Pin<Box<dyn Future<Output = Response> + Send>>),
    Router(Pin<Box<axum::routing::future::RouteFuture<Infallible>>>),
}

impl Future for RoutesFuture {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Self::Handler(handler) => handler.as_mut().poll(cx).map(Ok),
            Self::Router(router) => router.as_mut().poll(cx),
        }
    }
}

/// The address a request came from, as the transport recorded it.
fn peer_of(extensions: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    Arrived::of(extensions).map(|arrived| arrived.peer.ip())
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
        read_body(&parts.headers, body, state.limits.max_body_bytes)
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
        let body = read_body(&parts.headers, body, state.limits.max_body_bytes).await?;
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
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::BodyTooLarge { limit });
    }
    // Frame by frame rather than `collect()`: a body of one frame (nearly every request) is
    // handed on as it came, without the list `Collected` keeps its frames in.
    let mut body = Limited::new(body, limit);
    let mut first = Bytes::new();
    let mut joined: Option<Vec<u8>> = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            if e.downcast_ref::<LengthLimitError>().is_some() {
                ApiError::BodyTooLarge { limit }
            } else {
                ApiError::BadRequest(format!("cannot read the request body: {e}"))
            }
        })?;
        // Trailers carry no body.
        let Ok(data) = frame.into_data() else {
            continue;
        };
        match &mut joined {
            Some(joined) => joined.extend_from_slice(&data),
            None if first.is_empty() => first = data,
            None => joined = Some([&first[..], &data[..]].concat()),
        }
    }
    Ok(joined.map_or(first, Bytes::from))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hot_paths_are_the_templates_the_matcher_finds() {
        let matcher = &ROUTES.0;
        for path in [
            "/",
            "/v2/models/pickle_model/infer",
            "/v2/models/a.b-c/infer",
        ] {
            let hot = Hot::of(path).unwrap_or_else(|| panic!("{path} is hot"));
            assert_eq!(hot.template(), *matcher.at(path).unwrap().value, "{path}");
        }
        assert_eq!(
            Hot::of("/v2/models/pickle_model/infer"),
            Some(Hot::V2Infer(11..23))
        );
        // Escapes to decode, another route, or no name: the router's.
        for path in [
            "/v2/models/pickle%5Fmodel/infer",
            "/v2/models/a/versions/1/infer",
            "/v2/models//infer",
            "/v2/models/infer",
            "/v2/models/a/infer/",
            "/v2/models/a",
            "/v1/models/a",
        ] {
            assert_eq!(Hot::of(path), None, "{path}");
        }
    }
}
