//! Keeping a served model current. [`load_at_start`] makes the first load, retrying with
//! backoff; a [`Refresher`] per model then probes its store every interval, and on a new
//! token downloads, loads with the safe loader, checks the feature count and swaps the model
//! in the registry. Requests in flight keep the `Arc` they loaded and finish on it.
//!
//! Nothing here can take the service down: a failed probe, download or load keeps the last
//! good model, is logged and counted (`skserve_model_refresh_failures_total{model,reason}`),
//! and the next attempt waits longer (doubling, capped, and stretched at random by up to a
//! quarter so that a fleet does not retry in step: `crate::backoff`). Content that failed to
//! load is remembered by its token and not downloaded again until it changes.
//!
//! Every load stays within the loading budget (`--max-model-bytes`: content larger than it is
//! not even downloaded, `too_large`) and runs on the process's loader thread (`loader`), one
//! at a time, so that the budget bounds the memory loading takes whatever the number of
//! models. A loader that panics on a file fails that load like any malformed file.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{LoadedModel, ModelLoadError, Registry, loader};
use crate::backoff;
use crate::metrics::Metrics;
use crate::model::LoadLimits;
use crate::store::{Fetched, ModelStore, StoreError};

/// How often models are checked, what a replacement may change, and how large it may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// Time between two probes of a store while all is well.
    pub interval: Duration,
    /// Accept a replacement whose feature count differs from the served model's.
    pub allow_shape_change: bool,
    /// The loading budget of every load (`--max-model-bytes`).
    pub limits: LoadLimits,
}

/// Downloads a model within the loading budget; content larger than the budget is refused
/// before it is read, as a model too large to load.
async fn fetch<S: ModelStore>(store: &S, limits: LoadLimits) -> Result<Fetched, ModelLoadError> {
    // Boxed: the Cloud Storage client's futures nest deep enough that one more level inline
    // takes the futures of the service's start past the compiler's layout depth.
    Box::pin(store.fetch_within(limits.max_model_bytes))
        .await
        .map_err(|e| match e {
            StoreError::TooLarge { .. } => ModelLoadError::Model {
                message: e.to_string(),
                reason: "too_large",
            },
            other => ModelLoadError::Store(other),
        })
}

/// Loads fetched bytes on the loader thread, after any other load of the process, within
/// `limits`. The bytes are dropped as soon as the load ends.
async fn load(
    name: &str,
    fetched: Fetched,
    limits: LoadLimits,
) -> Result<LoadedModel, ModelLoadError> {
    let file = fetched.file.clone();
    let name = name.to_owned();
    loader::run(move || LoadedModel::from_fetched(&name, &fetched, limits))
        .await
        .unwrap_or_else(|stopped| {
            Err(ModelLoadError::Model {
                message: format!("cannot load {file}: the loader stopped on it ({stopped})"),
                reason: "malformed",
            })
        })
}

/// The longest wait between two attempts after repeated failures (unless the interval
/// itself is longer).
const MAX_BACKOFF: Duration = Duration::from_secs(300);

impl RefreshPolicy {
    /// The wait before the next probe after `failures` failed attempts in a row: the interval,
    /// doubled per failure, capped at five minutes (or the interval, if longer).
    pub fn delay(&self, failures: u32) -> Duration {
        let factor = 1u32 << failures.min(16);
        self.interval
            .saturating_mul(factor)
            .min(self.interval.max(MAX_BACKOFF))
    }

    /// [`RefreshPolicy::delay`] as waited: after a failure, stretched at random (the regular
    /// interval is kept exact, so that a change shows within it).
    pub fn wait(&self, failures: u32) -> Duration {
        match failures {
            0 => self.delay(0),
            _ => backoff::jitter(self.delay(failures)),
        }
    }
}

/// What one refresh did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing new (or content that already failed to load).
    Unchanged,
    /// A new version is being served.
    Updated,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Self::Unchanged => "unchanged",
            Self::Updated => "updated",
        }
    }
}

/// Attempts of a first load before giving up when the model is required at start.
const START_ATTEMPTS: u32 = 4;

/// The first load of a model. Store errors are retried with backoff (0.5 s, doubling, at
/// most 30 s). With `require` a content error fails at once and store errors after
/// [`START_ATTEMPTS`]; without it, every error is retried until a load succeeds. Returns the
/// model and the token of its content.
pub async fn load_at_start<S: ModelStore>(
    name: &str,
    store: &S,
    require: bool,
    limits: LoadLimits,
) -> Result<(LoadedModel, String), ModelLoadError> {
    let mut failures = 0u32;
    loop {
        let attempt = async {
            let fetched = fetch(store, limits).await?;
            let token = fetched.token.clone();
            let model = load(name, fetched, limits).await?;
            Ok::<_, ModelLoadError>((model, token))
        };
        match attempt.await {
            Ok(loaded) => return Ok(loaded),
            Err(e) => {
                failures += 1;
                let retryable = matches!(e, ModelLoadError::Store(_));
                if require && (!retryable || failures >= START_ATTEMPTS) {
                    return Err(e);
                }
                let wait = backoff::jitter(
                    Duration::from_millis(500)
                        .saturating_mul(1 << failures.min(6))
                        .min(Duration::from_secs(30)),
                );
                tracing::warn!(
                    model = name,
                    source = store.describe(),
                    reason = e.reason(),
                    retry_in_seconds = wait.as_secs_f64(),
                    "first load failed: {e}"
                );
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// Sets the metrics that describe a served model, replacing those of the one it replaces.
pub fn record_served(metrics: &Metrics, model: &LoadedModel, replaced: Option<&LoadedModel>) {
    if let Some(old) = replaced {
        let _ = metrics.model_info.remove_label_values(&info_labels(old));
    }
    metrics
        .model_info
        .with_label_values(&info_labels(model))
        .set(1);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    metrics
        .model_loaded_timestamp
        .with_label_values(&[model.name()])
        .set(now);
}

fn info_labels(model: &LoadedModel) -> [&str; 5] {
    [
        model.name(),
        model.version(),
        model.model().predictor().class(),
        model.model().sklearn_version().unwrap_or("unknown"),
        model.model().chain(),
    ]
}

/// Keeps one named model current from its store.
pub struct Refresher<S> {
    name: String,
    store: S,
    registry: Arc<Registry>,
    metrics: Metrics,
    policy: RefreshPolicy,
    /// The token of the content being served.
    served: String,
    /// The token of content that failed to load, not downloaded again.
    rejected: Option<String>,
}

impl<S: ModelStore> Refresher<S> {
    /// `served` is the token of the content `name` is serving now.
    pub fn new(
        name: &str,
        store: S,
        served: String,
        registry: Arc<Registry>,
        metrics: Metrics,
        policy: RefreshPolicy,
    ) -> Self {
        Self {
            name: name.to_owned(),
            store,
            registry,
            metrics,
            policy,
            served,
            rejected: None,
        }
    }

    /// Probes, polls forever, never returns. Cancel it by aborting its task.
    pub async fn run(mut self) {
        let mut failures = 0u32;
        let mut wait = self.policy.wait(0);
        loop {
            tokio::time::sleep(wait).await;
            wait = self.refresh_counted(&mut failures).await;
        }
    }

    /// One refresh, counted and logged; the wait before the next.
    async fn refresh_counted(&mut self, failures: &mut u32) -> Duration {
        match self.refresh_once().await {
            Ok(outcome) => {
                *failures = 0;
                self.metrics
                    .model_refresh
                    .with_label_values(&[&self.name, outcome.label()])
                    .inc();
                self.policy.wait(0)
            }
            Err(e) => {
                *failures += 1;
                let wait = self.policy.wait(*failures);
                self.metrics
                    .model_refresh
                    .with_label_values(&[&self.name, "failed"])
                    .inc();
                self.metrics
                    .model_refresh_failures
                    .with_label_values(&[&self.name, e.reason()])
                    .inc();
                tracing::warn!(
                    model = self.name,
                    source = self.store.describe(),
                    reason = e.reason(),
                    retry_in_seconds = wait.as_secs_f64(),
                    "refresh failed, still serving the last good model: {e}"
                );
                wait
            }
        }
    }

    /// One probe, and when the content changed, a download, load, check and swap.
    pub async fn refresh_once(&mut self) -> Result<Outcome, ModelLoadError> {
        let Some(token) = self.store.probe().await? else {
            return Ok(Outcome::Unchanged);
        };
        if token == self.served || self.rejected.as_ref() == Some(&token) {
            return Ok(Outcome::Unchanged);
        }
        let fetched = match fetch(&self.store, self.policy.limits).await {
            // Too large is a property of the content: not asked for again until it changes.
            Err(e @ ModelLoadError::Model { .. }) => {
                self.rejected = Some(token);
                return Err(e);
            }
            other => other?,
        };
        if self.rejected.as_ref() == Some(&fetched.token) {
            return Ok(Outcome::Unchanged);
        }
        let Some(slot) = self.registry.get(&self.name) else {
            return Ok(Outcome::Unchanged);
        };
        let current = slot.load_full();
        if fetched.version == current.version() {
            self.served = fetched.token;
            return Ok(Outcome::Unchanged);
        }
        let (token, file) = (fetched.token.clone(), fetched.file.clone());
        let checked = load(&self.name, fetched, self.policy.limits)
            .await
            .and_then(|model| {
                let (old, new) = (current.model().n_features(), model.model().n_features());
                if old != new && !self.policy.allow_shape_change {
                    return Err(ModelLoadError::Shape { file, old, new });
                }
                Ok(model)
            });
        let model = match checked {
            Ok(model) => Arc::new(model),
            Err(e) => {
                self.rejected = Some(token);
                return Err(e);
            }
        };
        record_served(&self.metrics, &model, Some(&current));
        tracing::info!(
            model = self.name,
            source = self.store.describe(),
            version = model.version(),
            previous_version = current.version(),
            "serving a new version"
        );
        if self.registry.swap(model).is_ok() {
            self.served = token;
            self.rejected = None;
        }
        Ok(Outcome::Updated)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::store::{EMBEDDED_FEATURES, EMBEDDED_MODEL, Fetched, StoreError};

    /// A store whose content and availability the test sets.
    #[derive(Default)]
    struct FakeStore {
        state: Mutex<Option<Fetched>>,
    }

    impl FakeStore {
        fn put(&self, token: &str, bytes: &[u8]) {
            *self.state.lock().unwrap() = Some(Fetched {
                token: token.into(),
                version: format!("g{token}"),
                bytes: bytes.to_vec(),
                features: Some(EMBEDDED_FEATURES.to_vec()),
                profile: None,
                file: "m.pkl".into(),
            });
        }
        fn go_down(&self) {
            *self.state.lock().unwrap() = None;
        }
        fn current(&self) -> Result<Fetched, StoreError> {
            self.state.lock().unwrap().clone().ok_or(StoreError::Gcs {
                what: "fake".into(),
                message: "unavailable".into(),
            })
        }
    }

    impl ModelStore for Arc<FakeStore> {
        fn describe(&self) -> String {
            "fake".into()
        }
        async fn probe(&self) -> Result<Option<String>, StoreError> {
            self.current().map(|f| Some(f.token))
        }
        async fn fetch(&self) -> Result<Fetched, StoreError> {
            self.current()
        }
    }

    fn policy() -> RefreshPolicy {
        RefreshPolicy {
            interval: Duration::from_millis(200),
            allow_shape_change: false,
            limits: LoadLimits::default(),
        }
    }

    async fn setup() -> (Arc<FakeStore>, Refresher<Arc<FakeStore>>, Arc<Registry>) {
        let store = Arc::new(FakeStore::default());
        store.put("1", EMBEDDED_MODEL);
        let (model, token) = load_at_start("m", &store, true, LoadLimits::default())
            .await
            .unwrap();
        let registry = Arc::new(Registry::new(vec![model]));
        let refresher = Refresher::new(
            "m",
            store.clone(),
            token,
            registry.clone(),
            Metrics::new(),
            policy(),
        );
        (store, refresher, registry)
    }

    fn version(registry: &Registry) -> String {
        registry.get("m").unwrap().load().version().to_owned()
    }

    #[tokio::test]
    async fn a_new_token_is_swapped_in_and_failures_keep_the_last_good_model() {
        let (store, mut refresher, registry) = setup().await;
        assert_eq!(version(&registry), "g1");
        assert_eq!(refresher.refresh_once().await.unwrap(), Outcome::Unchanged);

        store.put("2", EMBEDDED_MODEL);
        assert_eq!(refresher.refresh_once().await.unwrap(), Outcome::Updated);
        assert_eq!(version(&registry), "g2");

        store.put("3", b"not a pickle");
        assert_eq!(
            refresher.refresh_once().await.unwrap_err().reason(),
            "malformed"
        );
        // Known bad content is not downloaded again.
        assert_eq!(refresher.refresh_once().await.unwrap(), Outcome::Unchanged);
        assert_eq!(version(&registry), "g2");

        store.go_down();
        assert_eq!(
            refresher.refresh_once().await.unwrap_err().reason(),
            "download"
        );
        assert_eq!(version(&registry), "g2");

        store.put("4", EMBEDDED_MODEL);
        assert_eq!(refresher.refresh_once().await.unwrap(), Outcome::Updated);
        assert_eq!(version(&registry), "g4");
    }

    #[tokio::test]
    async fn the_first_load_gives_up_on_bad_content_when_required() {
        let store = Arc::new(FakeStore::default());
        store.put("1", b"\x80\x04junk");
        let err = load_at_start("m", &store, true, LoadLimits::default())
            .await
            .unwrap_err();
        assert_eq!(err.reason(), "malformed");
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = policy();
        assert_eq!(p.delay(0), Duration::from_millis(200));
        assert_eq!(p.delay(1), Duration::from_millis(400));
        assert_eq!(p.delay(3), Duration::from_millis(1600));
        assert_eq!(p.delay(40), MAX_BACKOFF);
        let hourly = RefreshPolicy {
            interval: Duration::from_secs(3600),
            ..p
        };
        assert_eq!(hourly.delay(5), Duration::from_secs(3600));
    }

    #[test]
    fn waits_after_failures_are_stretched_and_the_interval_is_not() {
        let p = policy();
        assert_eq!(p.wait(0), p.interval);
        for failures in 1..6 {
            let (nominal, waited) = (p.delay(failures), p.wait(failures));
            assert!(waited >= nominal && waited < nominal.mul_f64(1.0 + backoff::SPREAD));
        }
    }
}
