//! The state every request needs, whichever protocol brings it: the served models, the
//! metrics, the limits and admission, the SLO engine and the fleet view, model health, the
//! access checks, and whether the server is draining; and the one way a request reaches a model
//! ([`App::infer`], over `crate::inference`). REST (`crate::http`) and gRPC (`crate::grpc`)
//! both stand on it, and neither knows the other.
//!
//! What must not live here: any protocol's syntax, routes or status codes (each protocol maps
//! [`LookupError`], [`Overload`] and `InferError` to its own), sockets (`crate::server`),
//! building the service from its settings (`crate::startup`).
//!
//! # Layout
//! - `admission`: arrival, and who is shed ([`Overload`]).

pub mod admission;

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arc_swap::Guard;
use prometheus::IntCounter;

pub use admission::{Arrival, Overload, admit, arrival};

use crate::auth::AccessControl;
use crate::health::Health;
use crate::inference::{self, InferError, Inference, Observer, Unobserved};
use crate::metrics::Metrics;
use crate::registry::{LoadedModel, Registry};
use crate::server::StandingQueue;
use crate::slo::fleet::FleetView;
use crate::slo::{FirstScrape, SloEngine};

/// Shared application state: cheap to clone, one `Arc` to everything requests need.
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

/// What every request shares. No lock anywhere: models are swapped with `ArcSwap`, the
/// draining flag is atomic, the rest is read-only after start.
#[derive(Debug)]
pub struct App {
    /// Shared with the refresh tasks, which swap models in it.
    pub registry: Arc<Registry>,
    pub metrics: Metrics,
    pub limits: Limits,
    /// Permits for requests in flight; none left means shed ([`admit`]).
    admission: Arc<tokio::sync::Semaphore>,
    /// Sheds requests that waited longer than `--max-queue-wait` while a queue stands.
    standing_queue: Option<StandingQueue>,
    /// `GOOGLE_CLOUD_PROJECT`, to link log lines to traces.
    pub gcp_project: Option<String>,
    /// Who may call: tokens, allow-lists, address ranges (`auth`).
    pub access: Arc<AccessControl>,
    /// Fed one event per answered request; read by `/slo.json` and `/metrics`.
    pub slo: Arc<SloEngine>,
    /// The fleet's SLOs (`--fleet-prometheus`), read by `/slo.json`.
    pub fleet: Option<Arc<FleetView>>,
    /// The first scrape of `/metrics` and the events before it; readiness may wait for it.
    pub first_scrape: FirstScrape,
    draining: AtomicBool,
    /// `skserve_prediction_rows_total` by model name, resolved once (names are fixed); ordered,
    /// like the registry, to spare every request a SipHash.
    rows_predicted: BTreeMap<String, IntCounter>,
    /// Sees every prediction, whichever protocol asked for it.
    observer: Arc<dyn Observer>,
    /// Model health (`--health on`): the figures of `/slo.json`; also among the observers.
    pub health: Option<Arc<Health>>,
}

/// A model a request named that is not served.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("no model named '{0}' is served")]
    ModelNotFound(String),
    #[error("model '{name}' has no version '{version}' (it serves version '{current}')")]
    VersionNotFound {
        name: String,
        version: String,
        current: String,
    },
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
        Self {
            registry,
            access,
            slo,
            fleet: None,
            first_scrape: FirstScrape::new(None),
            metrics,
            limits,
            admission: Arc::new(tokio::sync::Semaphore::new(limits.max_concurrency)),
            standing_queue: limits.max_queue_wait.map(StandingQueue::new),
            gcp_project,
            draining: AtomicBool::new(false),
            rows_predicted,
            observer: Arc::new(Unobserved),
            health: None,
        }
    }

    /// With model health's figures on `/slo.json` (install it as an observer too).
    pub fn with_health(mut self, health: Arc<Health>) -> Self {
        self.health = Some(health);
        self
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

    /// With `observer` seeing every prediction.
    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = observer;
        self
    }

    /// Checks a request against `loaded` and predicts: the one path every protocol takes to a
    /// model (`crate::inference::infer`, with this server's limits and observer), and the rows
    /// counted.
    pub fn infer<'m>(
        &self,
        loaded: &'m LoadedModel,
        request: inference::Request<'_>,
    ) -> Result<Inference<'m>, InferError> {
        let context = inference::Context {
            max_batch_rows: self.limits.max_batch_rows,
            observer: self.observer.as_ref(),
        };
        let inference = inference::infer(loaded, request, &context)?;
        if let Some(counter) = self.rows_predicted.get(loaded.name()) {
            counter.inc_by(inference.n_rows() as u64);
        }
        Ok(inference)
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

    /// The current version of the named model.
    pub fn model(&self, name: &str) -> Result<Guard<Arc<LoadedModel>>, LookupError> {
        self.registry
            .get(name)
            .map(|slot| slot.load())
            .ok_or_else(|| LookupError::ModelNotFound(name.to_owned()))
    }

    /// The named model if its current version is `version`.
    pub fn model_version(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Guard<Arc<LoadedModel>>, LookupError> {
        let loaded = self.model(name)?;
        if loaded.version() == version {
            Ok(loaded)
        } else {
            Err(LookupError::VersionNotFound {
                name: name.to_owned(),
                version: version.to_owned(),
                current: loaded.version().to_owned(),
            })
        }
    }
}
