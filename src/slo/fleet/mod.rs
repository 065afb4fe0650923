//! The fleet view: every SLO of `slos.yaml` computed for the whole fleet, from the raw series
//! every instance exports, by a Prometheus-compatible query API (`--fleet-prometheus`: a
//! Prometheus, or Cloud Monitoring's PromQL endpoint). One instance sees its own traffic since
//! it started; on Cloud Run, with instances started and stopped all the time, only the fleet's
//! figures are the service's SLOs. No recording rules are needed (Google's managed Prometheus
//! on Cloud Run evaluates none): every window is summed from the raw counters.
//!
//! # Off the request path
//! [`FleetView::report`] never waits for the backend. It returns the figures of the last
//! refresh and, when they are older than the refresh interval (30 s) and no refresh is under
//! way, starts one in a task of its own: two instant queries (the fleet, then every window of
//! every SLO). So the backend is asked at most once an interval per
//! instance however many dashboards poll, and not at all while nobody looks; each query has a
//! timeout; a failed refresh keeps the last figures, marked stale with the reason. The budget's
//! burn-down, a range query over the whole SLO window at its chart's resolution, is asked again
//! once it is [`HISTORY_EVERY`] intervals old.
//!
//! # Layout
//! - `prometheus`: the query API behind [`PromQl`]; access tokens for Google's.
//! - `figures`: the PromQL a refresh asks, and the figures from the answers.

pub mod figures;
pub mod prometheus;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use serde::Serialize;
use tokio::time::Instant;

use super::engine::{BudgetHistory, SloReport, Status};
use super::spec::SloSpec;
pub use prometheus::{HttpPrometheus, PromQl};

/// Refresh intervals per refresh of the burn-down: its points are at least four scrapes apart
/// and drawn a month wide, so asking for it every refresh would only repeat the same points.
pub const HISTORY_EVERY: u32 = 5;

/// Where the fleet's figures come from and how often they are asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetSettings {
    /// The query API's base URL (`--fleet-prometheus`).
    pub url: String,
    /// How long figures are kept before they are asked for again.
    pub refresh_interval: Duration,
    /// How long one query may take before the refresh gives up.
    pub query_timeout: Duration,
}

impl FleetSettings {
    /// Figures refreshed every `refresh_interval` from `url`, each query given 10 s.
    pub fn new(url: &str, refresh_interval: Duration) -> Self {
        Self {
            url: url.trim_end_matches('/').to_owned(),
            refresh_interval,
            query_timeout: Duration::from_secs(10),
        }
    }
}

/// The fleet's figures, kept current on demand. Cheap to share behind an `Arc`.
pub struct FleetView {
    spec: SloSpec,
    source: Arc<dyn PromQl>,
    settings: FleetSettings,
    /// The first instant query of every refresh, fixed by the spec.
    meta_query: String,
    shown: ArcSwap<Snapshot>,
    refreshing: AtomicBool,
    /// When the last refresh started. A std mutex: held for a comparison, never across an
    /// `.await`.
    last_attempt: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for FleetView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetView")
            .field("source", &self.settings.url)
            .finish_non_exhaustive()
    }
}

/// What a refresh left: the figures of the last good one, and the error of the last if it
/// failed.
#[derive(Clone, Debug, Default, Serialize)]
struct Snapshot {
    source: String,
    /// Instances reporting at the last good refresh.
    instances: Option<u64>,
    /// Unix seconds of the last good refresh.
    updated: Option<f64>,
    /// Unix seconds of the last good refresh of the budget charts (every [`HISTORY_EVERY`]
    /// intervals).
    budget_history_updated: Option<f64>,
    error: Option<String>,
    slos: Vec<FleetSlo>,
    #[serde(skip)]
    updated_at: Option<Instant>,
    #[serde(skip)]
    history: Vec<BudgetHistory>,
}

/// One SLO for the whole fleet.
#[derive(Clone, Debug, Serialize)]
pub struct FleetSlo {
    pub name: String,
    /// Over the SLO window; `null` without events.
    pub sli: Option<f64>,
    pub good: u64,
    pub total: u64,
    pub error_budget_remaining: f64,
    pub burn_rate: f64,
    pub status: Status,
    /// How much of the SLO window the fleet's data covers.
    pub covered_seconds: u64,
    pub windows: Vec<FleetWindow>,
    pub budget_history: BudgetHistory,
}

#[derive(Clone, Debug, Serialize)]
pub struct FleetWindow {
    pub window: String,
    pub good: u64,
    pub total: u64,
    pub sli: Option<f64>,
    pub burn_rate: f64,
}

impl From<SloReport> for FleetSlo {
    fn from(report: SloReport) -> Self {
        Self {
            name: report.name,
            sli: report.sli,
            good: report.good,
            total: report.total,
            error_budget_remaining: report.error_budget_remaining,
            burn_rate: report.burn_rate,
            status: report.status,
            covered_seconds: report.covered_seconds,
            windows: report
                .windows
                .into_iter()
                .map(|w| FleetWindow {
                    window: w.window,
                    good: w.good,
                    total: w.total,
                    sli: w.sli,
                    burn_rate: w.burn_rate,
                })
                .collect(),
            budget_history: report.budget_history,
        }
    }
}

/// Whether the figures shown are current.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Freshness {
    /// No refresh has succeeded or failed yet.
    Pending,
    Fresh,
    /// The figures are older than two refresh intervals because nobody looked for a while,
    /// and a refresh is under way.
    Refreshing,
    /// The last refresh failed (`error` says why), or the figures are older than two refresh
    /// intervals and no refresh is under way.
    Stale,
}

/// The `fleet` of `/slo.json`.
#[derive(Clone, Debug, Serialize)]
pub struct FleetStatus {
    #[serde(flatten)]
    shown: Shown,
    pub state: Freshness,
    pub stale: bool,
    /// Seconds since the last good refresh.
    pub age_seconds: Option<f64>,
    pub refresh_interval_seconds: f64,
}

impl FleetStatus {
    pub fn instances(&self) -> Option<u64> {
        self.shown.0.instances
    }

    pub fn error(&self) -> Option<&str> {
        self.shown.0.error.as_deref()
    }

    pub fn slos(&self) -> &[FleetSlo] {
        &self.shown.0.slos
    }
}

/// The snapshot shown, serialized without a copy.
#[derive(Clone, Debug)]
struct Shown(Arc<Snapshot>);

impl Serialize for Shown {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl FleetView {
    /// The fleet view of `spec`'s SLOs, asking `source` (described by `settings.url`).
    pub fn new(spec: SloSpec, source: Arc<dyn PromQl>, settings: FleetSettings) -> Self {
        let meta_query = figures::meta_query(&spec);
        let shown = Snapshot {
            source: settings.url.clone(),
            ..Snapshot::default()
        };
        Self {
            spec,
            source,
            settings,
            meta_query,
            shown: ArcSwap::from_pointee(shown),
            refreshing: AtomicBool::new(false),
            last_attempt: Mutex::new(None),
        }
    }

    /// The figures as last refreshed; starts a refresh in the background when they are due.
    /// Never waits for the backend.
    pub fn report(self: &Arc<Self>) -> FleetStatus {
        let now = Instant::now();
        self.refresh_in_background_if_due(now);
        let shown = self.shown.load_full();
        let age = shown.updated_at.map(|t| now.duration_since(t));
        let old = age.is_some_and(|age| age > 2 * self.settings.refresh_interval);
        let state = match (&shown.error, age) {
            (Some(_), _) => Freshness::Stale,
            (None, None) => Freshness::Pending,
            (None, Some(_)) if old && self.refreshing.load(Ordering::Acquire) => {
                Freshness::Refreshing
            }
            (None, Some(_)) if old => Freshness::Stale,
            (None, Some(_)) => Freshness::Fresh,
        };
        FleetStatus {
            shown: Shown(shown),
            state,
            stale: state == Freshness::Stale,
            age_seconds: age.map(|a| a.as_secs_f64()),
            refresh_interval_seconds: self.settings.refresh_interval.as_secs_f64(),
        }
    }

    fn refresh_in_background_if_due(self: &Arc<Self>, now: Instant) {
        {
            let mut last = self.last_attempt.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|t| now.duration_since(t) < self.settings.refresh_interval) {
                return;
            }
            if self.refreshing.swap(true, Ordering::AcqRel) {
                return;
            }
            *last = Some(now);
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.refreshing.store(false, Ordering::Release);
            return;
        };
        let view = self.clone();
        runtime.spawn(async move {
            view.refresh().await;
            view.refreshing.store(false, Ordering::Release);
        });
    }

    /// One refresh, now: what the background task runs.
    pub async fn refresh(&self) {
        let previous = self.shown.load_full();
        let next = match self.ask(&previous).await {
            Ok(next) => next,
            Err(error) => {
                tracing::warn!(
                    source = self.settings.url,
                    "fleet figures are stale: {error}"
                );
                Snapshot {
                    error: Some(error),
                    ..(*previous).clone()
                }
            }
        };
        self.shown.store(Arc::new(next));
    }

    async fn ask(&self, previous: &Snapshot) -> Result<Snapshot, String> {
        let now = unix_now();
        let mut answer = self.bounded(self.source.instant(&self.meta_query)).await?;
        let meta = figures::Instant::read(&answer, now);
        let slo_query = figures::slo_query(&self.spec, meta.reported_for_seconds);
        answer.extend(self.bounded(self.source.instant(&slo_query)).await?);
        let instant = figures::Instant::read(&answer, now);
        let mut error = None;
        let mut history = previous.history.clone();
        let mut history_updated = previous.budget_history_updated;
        let history_every = (HISTORY_EVERY * self.settings.refresh_interval).as_secs_f64();
        if history_updated.is_none_or(|t| now - t >= history_every) {
            let span = instant.history_span(&self.spec, now);
            let query = figures::history_query(&self.spec, span.step_seconds);
            match self.bounded(self.source.range(&query, span)).await {
                Ok(series) => {
                    history = figures::read_history(&self.spec, &series, now);
                    history_updated = Some(now);
                }
                // The figures are current; only the chart is not.
                Err(e) => error = Some(format!("the budget chart is not current: {e}")),
            }
        }
        let history_age = history_updated.map_or(0, |t| (now - t).max(0.0).round() as u64);
        let slos = figures::reports(&self.spec, &instant, &history, history_age)
            .into_iter()
            .map(FleetSlo::from)
            .collect();
        Ok(Snapshot {
            source: self.settings.url.clone(),
            instances: Some(instant.instances),
            updated: Some(now),
            budget_history_updated: history_updated,
            error,
            slos,
            updated_at: Some(Instant::now()),
            history,
        })
    }

    /// A query, given at most the query timeout.
    async fn bounded<T>(
        &self,
        query: impl Future<Output = Result<T, String>>,
    ) -> Result<T, String> {
        let timeout = self.settings.query_timeout;
        tokio::time::timeout(timeout, query)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "{}: no answer within {} s",
                    self.settings.url,
                    timeout.as_secs_f64()
                ))
            })
    }
}

/// Now, in seconds since the Unix epoch.
pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, VecDeque};
    use std::sync::atomic::AtomicUsize;

    use super::prometheus::{Answer, Sample, Series, Span};
    use super::*;

    /// A query API that answers from a script, or never.
    #[derive(Default)]
    struct FakeSource {
        answers: Mutex<VecDeque<Result<Vec<Sample>, String>>>,
        hangs: AtomicBool,
        instant_queries: AtomicUsize,
        range_queries: AtomicUsize,
    }

    impl FakeSource {
        fn answer(&self, answer: Result<Vec<Sample>, String>) {
            self.answers.lock().unwrap().push_back(answer);
        }
    }

    impl PromQl for FakeSource {
        fn instant<'a>(&'a self, _promql: &'a str) -> Answer<'a, Vec<Sample>> {
            self.instant_queries.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if self.hangs.load(Ordering::SeqCst) {
                    std::future::pending::<()>().await;
                }
                self.answers
                    .lock()
                    .unwrap()
                    .pop_front()
                    .unwrap_or_else(|| Ok(Vec::new()))
            })
        }

        fn range<'a>(&'a self, _promql: &'a str, _span: Span) -> Answer<'a, Vec<Series>> {
            self.range_queries.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Ok(Vec::new()) })
        }
    }

    fn instances(n: f64) -> Vec<Sample> {
        vec![Sample {
            labels: BTreeMap::from([(figures::TAG.to_owned(), "instances".to_owned())]),
            value: n,
        }]
    }

    fn view(source: Arc<FakeSource>) -> Arc<FleetView> {
        let spec = SloSpec::embedded(crate::metrics::LATENCY_BUCKETS);
        let settings = FleetSettings::new("http://prometheus:9090/", Duration::from_secs(30));
        Arc::new(FleetView::new(spec, source, settings))
    }

    /// Lets the background refresh run.
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn polling_asks_the_backend_once_an_interval_and_never_waits_for_it() {
        let source = Arc::new(FakeSource::default());
        source.answer(Ok(instances(3.0)));
        let view = view(source.clone());

        let first = view.report();
        assert_eq!(first.state, Freshness::Pending);
        assert_eq!(first.shown.0.source, "http://prometheus:9090");
        settle().await;
        for _ in 0..100 {
            let report = view.report();
            assert_eq!(report.state, Freshness::Fresh);
            assert_eq!(report.instances(), Some(3));
            assert_eq!(report.slos().len(), 6);
            tokio::time::advance(Duration::from_millis(100)).await;
        }
        // One refresh: the two instant queries and the burn-down's.
        assert_eq!(source.instant_queries.load(Ordering::SeqCst), 2);
        assert_eq!(source.range_queries.load(Ordering::SeqCst), 1);

        // 30 s after the first: once more; the burn-down waits until it is 150 s old.
        tokio::time::advance(Duration::from_secs(20)).await;
        view.report();
        settle().await;
        assert_eq!(source.instant_queries.load(Ordering::SeqCst), 4);
        assert_eq!(source.range_queries.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_backend_leaves_the_last_figures_stale_with_the_reason() {
        let source = Arc::new(FakeSource::default());
        source.answer(Ok(instances(2.0)));
        source.answer(Ok(Vec::new()));
        source.answer(Err("http://prometheus:9090: Connection refused".into()));
        let view = view(source.clone());
        view.report();
        settle().await;
        let updated = view.report().shown.0.updated;

        tokio::time::advance(Duration::from_secs(31)).await;
        view.report();
        settle().await;
        let report = view.report();

        assert_eq!(report.state, Freshness::Stale);
        assert!(report.stale);
        assert_eq!(
            report.error(),
            Some("http://prometheus:9090: Connection refused")
        );
        assert_eq!(report.instances(), Some(2), "the last good figures stay");
        assert_eq!(report.shown.0.updated, updated);
        assert!(report.age_seconds.unwrap() >= 31.0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_backend_that_never_answers_times_out_while_reports_are_immediate() {
        let source = Arc::new(FakeSource::default());
        source.hangs.store(true, Ordering::SeqCst);
        let view = view(source.clone());

        assert_eq!(view.report().state, Freshness::Pending);
        settle().await;
        assert_eq!(view.report().state, Freshness::Pending, "still asking");
        tokio::time::advance(Duration::from_secs(11)).await;
        settle().await;
        let report = view.report();

        assert_eq!(report.state, Freshness::Stale);
        assert_eq!(
            report.error(),
            Some("http://prometheus:9090: no answer within 10 s")
        );
        // Asked again only once the interval is over, not at every poll.
        assert_eq!(source.instant_queries.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn old_figures_are_refreshing_while_asked_for_and_stale_once_that_fails() {
        let source = Arc::new(FakeSource::default());
        let view = view(source.clone());
        view.report();
        settle().await;
        source.hangs.store(true, Ordering::SeqCst);

        // Nobody looked for a minute: the next look shows the old figures and asks again.
        tokio::time::advance(Duration::from_secs(61)).await;
        let report = view.report();
        assert_eq!(report.state, Freshness::Refreshing);
        assert!(!report.stale);
        assert_eq!(report.error(), None);

        settle().await;
        tokio::time::advance(Duration::from_secs(11)).await;
        settle().await;
        assert_eq!(view.report().state, Freshness::Stale);
    }
}
