//! The HTTP service: [`router`] maps routes to handlers, [`Application::build`] loads the
//! model and binds the listener (port 0 works, [`Application::port`] tells which), and
//! [`Application::run_until`] serves until a shutdown future completes, then drains in-flight
//! requests for at most the grace period.
//!
//! Every request passes one middleware (`observe`) that applies the request timeout, records
//! metrics by route template and writes at most one access log line, then the access checks
//! of `crate::auth` (every route but the health checks).
//!
//! # Layout
//! - `seed`: the seed's form API (`POST /`), byte for byte.
//! - `v2`: the V2 (Open Inference) protocol.
//! - `v1`: KServe V1 with named features.
//! - `health`: liveness, readiness, `/metrics`.
//! - `slo`: the SLO dashboard (`/slo`), its figures (`/slo.json`), the memory sampler.
//! - `explain`: per-feature contributions of linear predictions.
//! - `observe`: the middleware of shedding, timeouts, metrics and access logs.
//! - `server`: the accept loop (connection limit, header deadline, graceful stop).
//! - `arrival`: when each request's bytes reached the server.
//! - `standing_queue`: whether requests queue for good or in a passing burst.
//! - `error`: [`ApiError`], the JSON error answer.

mod arrival;
mod error;
mod explain;
mod front_door;
mod health;
mod linger;
mod observe;
mod seed;
mod server;
mod slo;
mod standing_queue;
mod v1;
mod v2;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
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
use tokio::net::TcpListener;

pub use error::{ApiError, Overload};
pub use seed::{numpy_str_one, parse_python_list};

use crate::config::ServeSettings;
use crate::metrics::Metrics;
use crate::registry::{LoadedModel, ModelLoadError, Registry};
use crate::store::{self, RefreshPolicy, Refresher, Store};

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
    pub standing_queue: Option<standing_queue::StandingQueue>,
    /// `GOOGLE_CLOUD_PROJECT`, to link log lines to traces.
    pub gcp_project: Option<String>,
    /// Who may call: tokens, allow-lists, address ranges (`auth`).
    pub access: Arc<crate::auth::AccessControl>,
    /// Fed one event per answered request by `observe`; read by `/slo.json` and `/metrics`.
    pub slo: Arc<crate::slo::SloEngine>,
    draining: AtomicBool,
    /// `skserve_prediction_rows_total` by model name, resolved once (names are fixed).
    rows_predicted: HashMap<String, IntCounter>,
}

impl App {
    pub fn new(registry: Registry, settings: &ServeSettings) -> Self {
        let metrics = Metrics::new();
        let mut rows_predicted = HashMap::new();
        for name in registry.names() {
            if let Some(model) = registry.get(name) {
                crate::store::refresh::record_served(&metrics, &model.load(), None);
            }
            let counter = metrics.prediction_rows.with_label_values(&[name]);
            rows_predicted.insert(name.to_owned(), counter);
        }
        Self {
            registry: Arc::new(registry),
            access: Arc::new(crate::auth::AccessControl::new(
                &settings.auth,
                metrics.auth_failures.clone(),
            )),
            slo: Arc::new(crate::slo::SloEngine::new(
                settings.slos.clone(),
                crate::metrics::LATENCY_BUCKETS,
                Arc::new(crate::slo::MonotonicClock::new()),
            )),
            metrics,
            max_batch_rows: settings.max_batch_rows,
            max_body_bytes: settings.max_body_bytes,
            request_timeout: settings.request_timeout,
            admission: Arc::new(tokio::sync::Semaphore::new(settings.max_concurrency)),
            max_concurrency: settings.max_concurrency,
            standing_queue: settings
                .max_queue_wait
                .map(standing_queue::StandingQueue::new),
            gcp_project: settings.gcp_project.clone(),
            draining: AtomicBool::new(false),
            rows_predicted,
        }
    }

    /// Counts rows predicted by a model.
    pub fn count_rows(&self, model: &str, rows: usize) {
        if let Some(counter) = self.rows_predicted.get(model) {
            counter.inc_by(rows as u64);
        }
    }

    /// Ready to take predictions: a model is loaded (always, once built) and not draining.
    pub fn is_ready(&self) -> bool {
        !self.draining.load(Ordering::Relaxed)
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

/// Every route of the service.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", post(seed::predict))
        .route("/v2", get(v2::server_metadata))
        .route("/v2/health/live", get(health::live))
        .route("/v2/health/ready", get(health::ready))
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
        .route("/metrics", get(health::metrics))
        .route("/slo", get(slo::dashboard))
        .route("/slo.json", get(slo::figures))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Inside `observe`, so refusals are counted and logged like any answer; every route
        // but the health checks (`auth::OPEN_ROUTES`), `/metrics` included.
        .layer(crate::auth::AuthLayer::new(state.access.clone()))
        .layer(observe::ObserveLayer {
            state: state.clone(),
        })
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
        let limit = state.max_body_bytes;
        let too_large = ApiError::BodyTooLarge { limit };
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64) {
            return Err(too_large);
        }
        match Limited::new(request.into_body(), limit).collect().await {
            Ok(collected) => Ok(Self(collected.to_bytes())),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large),
            Err(e) => Err(ApiError::BadRequest(format!(
                "cannot read the request body: {e}"
            ))),
        }
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

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Model(#[from] ModelLoadError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A service with its models loaded and its listener bound, ready to run.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    shutdown_grace: Duration,
    connections: server::ConnectionPolicy,
    /// The tasks keeping models current; stopped when the server stops or this is dropped.
    refreshers: AbortOnDrop,
}

impl Application {
    /// Loads every model (retrying as `--require-model-at-start` says), binds the listener
    /// (`--listen` with port 0 picks a free port) and starts a refresh task per file or object.
    pub async fn build(settings: &ServeSettings) -> Result<Self, StartError> {
        let sources = std::iter::once((settings.model_name.clone(), settings.model.clone()))
            .chain(settings.extra_models.iter().cloned());
        let mut models = Vec::new();
        let mut stores = Vec::new();
        for (name, source) in sources {
            let store = Store::open(&source, settings.storage_emulator_host.as_deref())
                .await
                .map_err(ModelLoadError::from)?;
            let (model, token) =
                store::load_at_start(&name, &store, settings.require_model_at_start).await?;
            models.push(model);
            stores.push((name, store, token));
        }
        let mut app = Self::build_with(settings, Registry::new(models)).await?;
        let policy = RefreshPolicy {
            interval: settings.refresh_interval,
            allow_shape_change: settings.allow_shape_change,
        };
        for (name, store, token) in stores {
            if matches!(store, Store::Embedded) {
                continue;
            }
            let state = &app.state;
            let refresher = Refresher::new(
                &name,
                store,
                token,
                state.registry.clone(),
                state.metrics.clone(),
                policy,
            );
            app.refreshers.0.push(tokio::spawn(refresher.run()));
        }
        Ok(app)
    }

    /// Binds the listener for an already-built registry.
    pub async fn build_with(
        settings: &ServeSettings,
        registry: Registry,
    ) -> Result<Self, StartError> {
        let listener = server::bind(settings.listen).map_err(|source| StartError::Bind {
            addr: settings.listen,
            source,
        })?;
        Ok(Self {
            listener,
            state: AppState(Arc::new(App::new(registry, settings))),
            shutdown_grace: settings.shutdown_grace,
            connections: server::ConnectionPolicy {
                max_connections: settings.max_connections,
                max_refusals: settings.max_refusals,
                header_read_timeout: settings.header_read_timeout,
            },
            refreshers: AbortOnDrop(Vec::new()),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then stops accepting, marks itself not ready and
    /// lets in-flight requests finish for at most the grace period.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (drain_started, drain) = tokio::sync::oneshot::channel::<()>();
        let state = self.state.clone();
        let signal = async move {
            shutdown.await;
            state.begin_draining();
            tracing::info!("shutting down: no new connections, finishing requests in flight");
            let _ = drain_started.send(());
        };
        let server = server::serve(
            self.listener,
            router(self.state.clone()),
            self.connections,
            signal,
        );
        let grace = self.shutdown_grace;
        let _stop_refreshers = self.refreshers;
        let _stop_slo_sampler = AbortOnDrop(vec![tokio::spawn(slo::sample_periodically(
            self.state.clone(),
        ))]);
        let deadline = async move {
            match drain.await {
                Ok(()) => tokio::time::sleep(grace).await,
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            served = server => {
                served?;
                tracing::info!("all requests finished; stopped");
                Ok(())
            }
            () = deadline => {
                tracing::warn!(
                    grace_seconds = grace.as_secs_f64(),
                    "requests still in flight after the shutdown grace period; stopping anyway"
                );
                Ok(())
            }
        }
    }
}

/// Background tasks, aborted when dropped: when the server stops, however `run_until` ends.
struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// A future that completes on SIGTERM (Cloud Run, Kubernetes) or Ctrl-C. The handlers are
/// installed when this is called, not when the future is first polled, so that a signal sent
/// right after the server says it is listening is not lost. Call it inside the runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let terminate = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            let (Ok(mut terminate), Ok(mut interrupt)) = (terminate, interrupt) else {
                tracing::warn!("cannot install signal handlers; stop the server with SIGKILL");
                return std::future::pending().await;
            };
            tokio::select! {
                _ = terminate.recv() => tracing::info!("received SIGTERM"),
                _ = interrupt.recv() => tracing::info!("received Ctrl-C"),
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("received Ctrl-C");
        } else {
            std::future::pending::<()>().await;
        }
    }
}
