//! The one middleware every request passes: load shedding, the request timeout (counted from
//! arrival, as the latency is), metrics by route template,
//! one event for the SLO engine, and at most one access log line. It is a plain tower layer rather than `from_fn` so that no
//! service is cloned per request; access-log details are gathered only when that log is on.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::BoxError;
use axum::body::{Bytes, HttpBody};
use axum::extract::Request;
use axum::http;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use super::ROUTES;
use super::error::ApiError;
use crate::server::Arrived;
use crate::service::{AppState, Arrival, admit, arrival};
use crate::slo::Outcome;
use crate::telemetry::{ACCESS_TARGET, trace_link};

/// Wraps every route with [`Observe`].
#[derive(Clone)]
pub struct ObserveLayer {
    pub state: AppState,
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            state: self.state.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
    state: AppState,
}

impl<S, B> Service<http::Request<B>> for Observe<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let request = request.map(axum::body::Body::new);
        let Arrival {
            arrived: start,
            handler_start,
            queue_wait,
        } = arrival(&self.state, request.extensions());
        let route = ROUTES.of(request.uri().path());
        let method = method_label(request.method());
        let access = tracing::enabled!(target: ACCESS_TARGET, tracing::Level::DEBUG)
            .then(|| AccessDetails::of(&request, self.state.gcp_project.as_deref()));
        let state = self.state.clone();
        // Shed before any other work (auth, body, model) when the server is at its limit.
        let permit = if never_shed(route) {
            None
        } else {
            match admit(&state, request.extensions(), handler_start, queue_wait) {
                Ok(permit) => Some(permit),
                Err(overload) => {
                    return Box::pin(async move {
                        state
                            .metrics
                            .shed
                            .with_label_values(&[overload.reason()])
                            .inc();
                        let response = ApiError::Overloaded(overload).into_response();
                        record(&state, route, method, &response, start, access);
                        Ok(response)
                    });
                }
            }
        };
        let future = self.inner.call(request);
        Box::pin(async move {
            let _permit = permit;
            // From arrival, like the latency: a request that queued has less time left.
            let deadline = tokio::time::Instant::from_std(start + state.limits.request_timeout);
            let response = match tokio::time::timeout_at(deadline, future).await {
                Ok(Ok(response)) => response,
                Ok(Err(never)) => match never {},
                Err(_) => ApiError::Timeout(state.limits.request_timeout).into_response(),
            };
            record(&state, route, method, &response, start, access);
            Ok(response)
        })
    }
}

fn record(
    state: &AppState,
    route: &str,
    method: &'static str,
    response: &Response,
    start: Instant,
    access: Option<AccessDetails>,
) {
    let elapsed = start.elapsed();
    let status = response.status();
    state
        .metrics
        .observe_http(route, method, status.as_u16(), elapsed.as_secs_f64());
    if state
        .slo
        .record_request(route, slo_outcome(status), elapsed.as_secs_f64())
    {
        state.first_scrape.note_event();
    }

    // A shed is a decision, counted in `skserve_http_shed_total`: logging each at error level
    // would add a write per request exactly when the server has no time to spare.
    let shed = response.headers().contains_key(header::RETRY_AFTER);
    if status.is_server_error() && !shed {
        tracing::error!(
            target: ACCESS_TARGET,
            route = route,
            http.method = method,
            http.status = status.as_u16(),
            http.latency = elapsed.as_secs_f64(),
            "{method} {route} answered {}", status.as_u16()
        );
    } else if let Some(access) = access {
        tracing::debug!(
            target: ACCESS_TARGET,
            route = route,
            http.method = method,
            http.url = %access.url,
            http.status = status.as_u16(),
            http.latency = elapsed.as_secs_f64(),
            http.user_agent = access.user_agent.as_deref(),
            http.remote_ip = access.remote_ip.as_deref(),
            trace = access.trace.as_deref(),
            "{method} {} {}", access.url, status.as_u16()
        );
    }
}

/// How the SLOs count an answer: 5xx (sheds and timeouts included) failed, 429 throttled, any
/// other 4xx the caller's mistake.
fn slo_outcome(status: StatusCode) -> Outcome {
    match status.as_u16() {
        429 => Outcome::Throttled,
        400..=499 => Outcome::CallerMistake,
        500.. => Outcome::Failed,
        _ => Outcome::Answered,
    }
}

/// Probes, scrapes and the SLO page must answer even under overload: a shed liveness probe
/// would get a healthy instance restarted exactly when it is busiest, and overload is when the
/// operator looks at the dashboard.
fn never_shed(route: &str) -> bool {
    matches!(
        route,
        "/v2/health/live" | "/v2/health/ready" | "/metrics" | "/slo" | "/slo.json"
    )
}

/// The method as a metric label: the usual ones by name, anything else `other`, so that a
/// client cannot create label values at will.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// What an access log line says about a request beyond method and status.
struct AccessDetails {
    url: Uri,
    user_agent: Option<String>,
    remote_ip: Option<String>,
    trace: Option<String>,
}

impl AccessDetails {
    fn of(request: &Request, project: Option<&str>) -> Self {
        let headers = request.headers();
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        // Behind Cloud Run's front end the client is the first X-Forwarded-For address.
        let forwarded = text("x-forwarded-for")
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_owned());
        let peer = Arrived::of(request.extensions()).map(|arrived| arrived.peer.ip().to_string());
        Self {
            url: request.uri().clone(),
            user_agent: text(header::USER_AGENT.as_str()).map(str::to_owned),
            remote_ip: forwarded.or(peer),
            trace: trace_link(text("x-cloud-trace-context"), text("traceparent"), project),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::Service;

    use super::super::{CALLER_ROUTES, admin_router, count_routes_from_zero, router};
    use crate::auth::{AccessControl, AuthSettings};
    use crate::metrics::{LATENCY_BUCKETS, Metrics};
    use crate::registry::{LoadedModel, Registry};
    use crate::server::standing_queue::INTERVAL as STANDING_INTERVAL;
    use crate::server::{Arrived, PastConnectionLimit};
    use crate::service::{App, AppState, Limits};
    use crate::slo::{MonotonicClock, SloEngine, SloSpec};
    use crate::store::{EMBEDDED_FEATURES, EMBEDDED_MODEL};

    const LIMITS: Limits = Limits {
        max_batch_rows: 10_000,
        max_body_bytes: 1 << 20,
        request_timeout: Duration::from_secs(30),
        max_concurrency: 64,
        max_queue_wait: Some(Duration::from_millis(25)),
    };

    fn state(limits: Limits) -> AppState {
        let model =
            LoadedModel::from_bytes("m", EMBEDDED_MODEL, "m.pkl", Some(EMBEDDED_FEATURES)).unwrap();
        let metrics = Metrics::new();
        let access = AccessControl::new(&AuthSettings::default(), metrics.auth_failures.clone());
        let slo = SloEngine::new(
            SloSpec::embedded(LATENCY_BUCKETS),
            LATENCY_BUCKETS,
            Arc::new(MonotonicClock::new()),
        );
        let state = AppState(Arc::new(App::new(
            Arc::new(Registry::single(model)),
            metrics,
            Arc::new(access),
            Arc::new(slo),
            limits,
            None,
        )));
        count_routes_from_zero(&state);
        state
    }

    fn seed_request(arrived: Instant) -> Request<Body> {
        let mut request = Request::post("/")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("x={:?}", [0; 37])))
            .unwrap();
        request.extensions_mut().insert(Arrived {
            peer: ([127, 0, 0, 1], 40_000).into(),
            at: arrived,
        });
        request
    }

    async fn answer(state: &AppState, request: Request<Body>) -> (StatusCode, String) {
        let response = router(state.clone()).call(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn requests_waiting_too_long_for_a_whole_interval_are_shed_and_counted() {
        let state = state(Limits {
            max_queue_wait: Some(Duration::from_millis(25)),
            ..LIMITS
        });
        let long_ago = || Instant::now() - Duration::from_millis(40);
        // One long wait is a burst, not a standing queue: served.
        assert_eq!(answer(&state, seed_request(long_ago())).await.0, 200);
        std::thread::sleep(STANDING_INTERVAL + Duration::from_millis(10));

        // A whole interval without a short wait: a queue stands.
        let (status, body) = answer(&state, seed_request(long_ago())).await;
        let fresh = answer(&state, seed_request(Instant::now())).await.0;

        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            body.contains("more than the 25 ms allowed; retry shortly"),
            "{body}"
        );
        assert_eq!(
            fresh,
            StatusCode::OK,
            "a request that did not wait is served"
        );
        let metrics = state.metrics.render();
        assert!(metrics.contains(r#"skserve_http_shed_total{reason="queue_wait"} 1"#));
        // Latency counts from arrival, so the shed answer lands above 25 ms.
        assert!(metrics.contains(
            r#"skserve_http_request_duration_seconds_bucket{code_class="5xx",method="POST",route="/",le="0.025"} 0"#
        ));
    }

    #[tokio::test]
    async fn a_fresh_request_is_served_and_waiting_is_ignored_when_off() {
        let fresh = state(LIMITS);
        assert_eq!(answer(&fresh, seed_request(Instant::now())).await.0, 200);

        let off = state(Limits {
            max_queue_wait: None,
            ..LIMITS
        });
        let long_ago = Instant::now() - Duration::from_secs(5);
        assert_eq!(answer(&off, seed_request(long_ago)).await.0, 200);
    }

    #[tokio::test(start_paused = true)]
    async fn the_request_timeout_counts_from_arrival() {
        let state = state(Limits {
            request_timeout: Duration::from_secs(1),
            max_queue_wait: None,
            ..LIMITS
        });
        // A body that never comes: only the timeout can answer.
        let (_sending, body) = http_body_util::channel::Channel::<axum::body::Bytes>::new(1);
        let mut request = Request::post("/")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::new(body))
            .unwrap();
        request.extensions_mut().insert(Arrived {
            peer: ([127, 0, 0, 1], 40_000).into(),
            at: Instant::now() - Duration::from_secs(5),
        });
        let before = tokio::time::Instant::now();

        let (status, body) = answer(&state, request).await;

        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("took longer than 1s"), "{body}");
        // Paused time moves only when a timer is waited for: the deadline was already behind.
        assert_eq!(tokio::time::Instant::now(), before);
    }

    #[tokio::test]
    async fn connections_past_the_limit_are_shed_but_probes_answered() {
        let state = state(LIMITS);
        let mut shed = seed_request(Instant::now());
        shed.extensions_mut().insert(PastConnectionLimit(8));
        let mut probe = Request::get("/v2/health/ready")
            .body(Body::empty())
            .unwrap();
        probe.extensions_mut().insert(PastConnectionLimit(8));

        let (status, body) = answer(&state, shed).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("limit of 8 open connections"), "{body}");
        assert_eq!(answer(&state, probe).await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn every_caller_route_is_routed_and_starts_at_zero() {
        let state = state(LIMITS);
        let version = state.model("m").unwrap().version().to_owned();
        let before = state.metrics.render();
        for (template, method) in CALLER_ROUTES {
            assert!(
                before.contains(&format!(
                    "skserve_http_requests_total{{code=\"503\",method=\"{method}\",route=\"{template}\"}} 0"
                )),
                "{method} {template} does not start at 0"
            );
            let path = template
                .replace("{name}", "m")
                .replace("{version}", &version)
                .replace("{target}", "m:predict");
            let request = Request::builder()
                .method(*method)
                .uri(path.as_str())
                .body(Body::from("{}"))
                .unwrap();
            let (status, body) = answer(&state, request).await;
            assert_ne!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {body}"
            );
        }
        let after = state.metrics.render();
        assert!(
            !after.contains("route=\"unmatched\""),
            "a caller route is not routed"
        );
    }

    #[tokio::test]
    async fn the_admin_router_serves_the_operators_routes_and_nothing_else() {
        let state = state(LIMITS);
        let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        for path in [
            "/metrics",
            "/slo",
            "/slo.json",
            "/v2/health/live",
            "/v2/health/ready",
        ] {
            let response = admin_router(state.clone()).call(get(path)).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
        }
        let prediction = admin_router(state.clone())
            .call(seed_request(Instant::now()))
            .await
            .unwrap();
        assert_eq!(prediction.status(), StatusCode::NOT_FOUND);
        let response = admin_router(state.clone()).call(get("/v2")).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
}
