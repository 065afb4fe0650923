//! Model health: whether the answers are still worth having. [`Health`] is an
//! `inference::Observer`: it sees every row a model predicts, whichever protocol brought it,
//! and counts, without a lock, each row's data-quality issues and the bin each value (and the
//! prediction) falls in. A ticker, off the request path, moves the counts into rings of time
//! buckets, computes every column's drift against the model's reference (PSI and
//! Jensen–Shannon over 1h and 1d), feeds the `data_quality` and `drift` SLOs of the SLO engine
//! and sets the metrics.
//!
//! The reference is the model's profile (`NAME.profile.json` beside it, or `--profile`), read
//! with every version of the model; without one, the first `--health-reference-rows` rows a
//! version serves. What the model itself knows (its encoders' categories, a scaler's fitted
//! range, where training had no missing value) is checked with or without a reference.
//!
//! What must not live here: reading or checking a profile (`crate::registry::profile`), the
//! SLO arithmetic (`crate::slo`), any protocol.
//!
//! # Layout
//! - `stats`: PSI and Jensen–Shannon from shares and counts.
//! - `reference`: bins and shares made from values (profiles and reference windows).
//! - `plan`: each column's bins and checks, and the slots of its counts.
//! - `counts`: counters sharded per thread, each claimed for one request's counting.
//! - `window`: the first rows of a version, filling without a lock.
//! - `tracker`: one version's counts, rings and reference.
//! - `series`: the Prometheus counters a tracker's counts go to.
//! - `figures`: what `/slo.json` and the dashboard show, and the drift gauges.
//! - `profile`: `skserve profile`'s observer, which makes a profile of every row it sees.
//! - `fleet`: the fleet's drift from every instance's bin counts.
//! - `settings`: `--health`, `--health-reference-rows`, `--profile`.

mod counts;
pub mod figures;
pub mod fleet;
pub mod plan;
pub mod profile;
pub mod reference;
mod series;
pub mod settings;
pub mod stats;
#[cfg(test)]
mod tests;
pub mod tracker;
mod window;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use prometheus::IntCounter;

pub use figures::ModelFigures;
use series::Series;
pub use settings::HealthSettings;
use tracker::{Tracker, WINDOWS};

use crate::inference::{InferError, Observer, Seen};
use crate::metrics::health::{HealthMetrics, MAX_EXPORTED_FEATURES, RESULTS};
use crate::registry::{LoadedModel, Registry};
use crate::slo::spec::{DriftRule, Indicator};
use crate::slo::{Clock, Counts, SloEngine};

/// Rows of a version that become its reference when it has no profile, unless
/// `--health-reference-rows` says otherwise.
pub const DEFAULT_REFERENCE_ROWS: usize = 10_000;
/// How often the ticker moves counts and computes the statistics.
pub const TICK: Duration = Duration::from_secs(5);
/// Figures asked for (a scrape, `/slo.json`) are computed again when older than this.
const FRESH: Duration = Duration::from_secs(2);
/// The PSI a column is shown as drifted at, without a drift SLO for its model.
const DEFAULT_PSI_THRESHOLD: f64 = 0.25;

/// Model health of every served model.
#[derive(Debug)]
pub struct Health {
    registry: Arc<Registry>,
    metrics: HealthMetrics,
    engine: Arc<SloEngine>,
    clock: Arc<dyn Clock>,
    reference_rows: usize,
    models: BTreeMap<String, ModelHealth>,
    /// Taken by the ticker, scrapes and `/slo.json`, never by a prediction.
    ticking: Mutex<Ticking>,
    /// The fleet's drift, with `--fleet-prometheus`.
    fleet: Option<Arc<fleet::FleetDrift>>,
}

#[derive(Debug)]
struct Ticking {
    /// When figures were last computed.
    figures_at: Option<Duration>,
    /// The minute of the last drift evaluation.
    minute: u64,
}

/// A tracker and the counters its counts go to.
#[derive(Debug)]
struct Watched {
    tracker: Tracker,
    series: Mutex<Series>,
}

#[derive(Debug)]
struct ModelHealth {
    name: String,
    current: ArcSwap<Watched>,
    /// Replaced trackers, drained once more at the next tick (a request may still have been
    /// counting into one).
    retired: Mutex<Vec<Arc<Watched>>>,
    /// Taken to replace the current tracker, never to count.
    replacing: Mutex<()>,
    refused: IntCounter,
    /// The SLOs counting the model: data quality's, and drift's with their rules.
    quality_slos: Vec<String>,
    drift_slos: Vec<(String, DriftRule)>,
    figures: ArcSwap<ModelFigures>,
}

impl Health {
    /// Health of every model of `registry`, its series at 0, against each one's profile or a
    /// window of `reference_rows` rows (none when 0).
    pub fn new(
        registry: Arc<Registry>,
        metrics: HealthMetrics,
        engine: Arc<SloEngine>,
        clock: Arc<dyn Clock>,
        reference_rows: usize,
    ) -> Self {
        let mut models = BTreeMap::new();
        for name in registry.names() {
            let Some(slot) = registry.get(name) else {
                continue;
            };
            let loaded = slot.load_full();
            let mut quality_slos = Vec::new();
            let mut drift_slos = Vec::new();
            for slo in &engine.spec().slos {
                match &slo.indicator {
                    Indicator::DataQuality { .. } if slo.indicator.counts_model(name) => {
                        quality_slos.push(slo.name.clone());
                    }
                    Indicator::Drift(rule) if slo.indicator.counts_model(name) => {
                        for result in RESULTS {
                            metrics
                                .drift_intervals
                                .with_label_values(&[name, &slo.name, result]);
                        }
                        drift_slos.push((slo.name.clone(), rule.clone()));
                    }
                    _ => {}
                }
            }
            let watched = watch(
                &metrics,
                &loaded,
                Tracker::new(&loaded, reference_rows),
                None,
            );
            models.insert(
                name.to_owned(),
                ModelHealth {
                    name: name.to_owned(),
                    current: ArcSwap::from_pointee(watched),
                    retired: Mutex::new(Vec::new()),
                    replacing: Mutex::new(()),
                    refused: metrics.input_refused.with_label_values(&[name]),
                    quality_slos,
                    drift_slos,
                    figures: ArcSwap::from_pointee(ModelFigures::default()),
                },
            );
        }
        let minute = clock.now().as_secs() / 60;
        Self {
            registry,
            metrics,
            engine,
            clock,
            reference_rows,
            models,
            ticking: Mutex::new(Ticking {
                figures_at: None,
                minute,
            }),
            fleet: None,
        }
    }

    /// With the fleet's drift from `fleet`.
    pub fn with_fleet(mut self, fleet: fleet::FleetDrift) -> Self {
        self.fleet = Some(Arc::new(fleet));
        self
    }

    /// The fleet's drift as last refreshed (`None` without `--fleet-prometheus`); starts a
    /// refresh when it is due. Never waits.
    pub fn fleet(&self) -> Option<Arc<fleet::FleetSnapshot>> {
        let fleet = self.fleet.as_ref()?;
        Some(fleet.report(|| {
            self.models
                .values()
                .filter_map(|m| {
                    let reference = m.current.load().tracker.reference.clone()?;
                    Some((m.name.clone(), reference))
                })
                .collect()
        }))
    }

    /// Moves every count into the rings, the metrics and the SLO engine, makes the reference of
    /// a full window, follows new versions, computes the figures, and once a minute evaluates
    /// the drift SLOs. Off the request path: the ticker calls it every [`TICK`].
    pub fn tick(&self) {
        let mut ticking = lock(&self.ticking);
        let now = self.clock.now();
        let seconds = now.as_secs();
        for model in self.models.values() {
            self.keep_current(model);
            self.drain(model, seconds);
            let watched = model.current.load_full();
            let (threshold, window) = status_rule(model);
            let figures = figures::figures(&watched.tracker, seconds, threshold, window);
            self.export(model, &watched, &figures);
            figures::set_gauges(&self.metrics, &model.name, &figures);
            model.figures.store(Arc::new(figures));
        }
        ticking.figures_at = Some(now);
        let minute = seconds / 60;
        if minute > ticking.minute {
            ticking.minute = minute;
            for model in self.models.values() {
                self.evaluate(model);
            }
        }
    }

    /// What a scrape or `/slo.json` needs: every count moved, and the figures computed again
    /// when they are more than a couple of seconds old.
    pub fn refresh(&self) {
        let stale = lock(&self.ticking)
            .figures_at
            .is_none_or(|at| self.clock.now().saturating_sub(at) >= FRESH);
        if stale {
            self.tick();
        } else {
            let _ticking = lock(&self.ticking);
            let seconds = self.clock.now().as_secs();
            for model in self.models.values() {
                self.drain(model, seconds);
            }
        }
    }

    /// The figures of `model` as last computed.
    pub fn figures(&self, model: &str) -> Option<Arc<ModelFigures>> {
        self.models.get(model).map(|m| m.figures.load_full())
    }

    /// Follows a new version of the model (one the registry serves but no request has shown
    /// yet), and turns a full window into the reference.
    fn keep_current(&self, model: &ModelHealth) {
        let Some(loaded) = self.registry.get(&model.name).map(|s| s.load_full()) else {
            return;
        };
        if model.current.load().tracker.version != loaded.version() {
            self.replace(model, &loaded);
            return;
        }
        let _replacing = lock(&model.replacing);
        let watched = model.current.load_full();
        if watched.tracker.reference.is_none()
            && let Some(reference) = watched.tracker.window_reference()
        {
            tracing::info!(
                model = model.name,
                version = loaded.version(),
                rows = watched.tracker.window.as_ref().map_or(0, |w| w.rows()),
                "model health: the first rows are the reference"
            );
            let tracker = Tracker::with_reference(
                &loaded,
                Arc::new(reference),
                watched.tracker.profile_error.clone(),
            );
            self.install(model, &loaded, tracker);
        }
    }

    /// The tracker of `loaded`, made now if the one watched is another version's.
    fn replace(&self, model: &ModelHealth, loaded: &LoadedModel) -> Arc<Watched> {
        let _replacing = lock(&model.replacing);
        let current = model.current.load_full();
        if current.tracker.version == loaded.version() {
            return current;
        }
        tracing::info!(
            model = model.name,
            version = loaded.version(),
            previous = current.tracker.version,
            "model health: a new version, with a reference of its own"
        );
        self.install(model, loaded, Tracker::new(loaded, self.reference_rows))
    }

    /// Makes `tracker` the one watched (the caller holds `replacing`); the one it replaces is
    /// drained at the next tick.
    fn install(&self, model: &ModelHealth, loaded: &LoadedModel, tracker: Tracker) -> Arc<Watched> {
        let previous = model.current.load_full();
        let watched = Arc::new(watch(&self.metrics, loaded, tracker, Some(&previous)));
        model.current.store(watched.clone());
        lock(&model.retired).push(previous);
        watched
    }

    /// Moves the counts of the current and retired trackers into the metrics and the engine.
    fn drain(&self, model: &ModelHealth, now: u64) {
        let retired: Vec<Arc<Watched>> = std::mem::take(&mut *lock(&model.retired));
        for watched in retired.iter().chain([&model.current.load_full()]) {
            let delta = watched.tracker.drain(now);
            lock(&watched.series).add(&watched.tracker, &delta);
            let (rows, bad) = (delta[plan::ROWS], delta[plan::ROWS_WITH_ISSUES]);
            if rows > 0 {
                for slo in &model.quality_slos {
                    self.engine.record(
                        slo,
                        Counts {
                            good: rows - bad.min(rows),
                            total: rows,
                        },
                    );
                }
            }
        }
        if !retired.is_empty() {
            let current = model.current.load_full();
            let next = lock(&current.series);
            for watched in &retired {
                lock(&watched.series).retire(&self.metrics, &next);
            }
        }
    }

    /// Re-chooses the columns with series of a model with more than the limit: the most
    /// drifted.
    fn export(&self, model: &ModelHealth, watched: &Watched, figures: &ModelFigures) {
        let used = watched
            .tracker
            .plan
            .columns
            .iter()
            .filter(|c| !c.unused)
            .count();
        if used <= MAX_EXPORTED_FEATURES {
            return;
        }
        let wanted: Vec<bool> = watched
            .tracker
            .plan
            .columns
            .iter()
            .map(|c| figures.columns.iter().any(|f| f.feature == c.name))
            .collect();
        let mut series = lock(&watched.series);
        if series.exported != wanted {
            let next = Series::new(&self.metrics, &model.name, &watched.tracker, wanted);
            series.retire(&self.metrics, &next);
            *series = next;
        }
    }

    /// One drift interval of every drift SLO counting `model`: good when every column's PSI
    /// over the SLO's window is under its threshold; not counted without a reference or with
    /// fewer rows than the SLO asks for.
    fn evaluate(&self, model: &ModelHealth) {
        let figures = model.figures.load();
        if !matches!(figures.reference.source, "profile" | "window") {
            return;
        }
        for (slo, rule) in &model.drift_slos {
            let w = WINDOWS
                .iter()
                .position(|&w| w == rule.drift_window.to_string())
                .unwrap_or(0);
            let rows = figures.rows.windows.get(w).map_or(0, |r| r.rows);
            if rows < rule.min_rows {
                continue;
            }
            let good = figures.max_psi.get(w).copied().unwrap_or(0.0) < rule.psi_threshold;
            self.engine.record(
                slo,
                Counts {
                    good: u64::from(good),
                    total: 1,
                },
            );
            let result = if good { "good" } else { "bad" };
            self.metrics
                .drift_intervals
                .with_label_values(&[&model.name, slo, result])
                .inc();
        }
    }
}

/// The PSI threshold and window a model's statuses are judged by: its first drift SLO's.
fn status_rule(model: &ModelHealth) -> (f64, usize) {
    model
        .drift_slos
        .first()
        .map_or((DEFAULT_PSI_THRESHOLD, 0), |(_, rule)| {
            let window = WINDOWS
                .iter()
                .position(|&w| w == rule.drift_window.to_string())
                .unwrap_or(0);
            (rule.psi_threshold, window)
        })
}

/// A tracker with its series, which replaces `previous` (whose reference gauge it clears).
fn watch(
    metrics: &HealthMetrics,
    loaded: &LoadedModel,
    tracker: Tracker,
    previous: Option<&Watched>,
) -> Watched {
    let name = loaded.name();
    let exported = match previous {
        Some(p) if p.tracker.plan.columns.len() == tracker.plan.columns.len() => {
            lock(&p.series).exported.clone()
        }
        _ => series::first_exported(&tracker, MAX_EXPORTED_FEATURES),
    };
    if let Some(previous) = previous {
        let _ = metrics.reference_info.remove_label_values(
            &reference_labels(name, &previous.tracker)
                .each_ref()
                .map(String::as_str),
        );
    }
    metrics
        .reference_info
        .with_label_values(
            &reference_labels(name, &tracker)
                .each_ref()
                .map(String::as_str),
        )
        .set(1);
    let series = Series::new(metrics, name, &tracker, exported);
    Watched {
        tracker,
        series: Mutex::new(series),
    }
}

/// `skserve_health_reference_info`'s labels for a tracker.
fn reference_labels(model: &str, tracker: &Tracker) -> [String; 4] {
    let (id, source, for_version) = match tracker.reference.as_deref() {
        Some(reference) => match &reference.source {
            tracker::Source::Profile { same_version, .. } => (
                reference.id.clone(),
                "profile",
                if *same_version { "served" } else { "other" },
            ),
            tracker::Source::Window { .. } => (reference.id.clone(), "window", "served"),
        },
        None if tracker.window.is_some() => (String::new(), "pending", "served"),
        None => (String::new(), "none", "served"),
    };
    [
        model.to_owned(),
        id,
        source.to_owned(),
        for_version.to_owned(),
    ]
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Counts only ever grow and handles are replaced whole: a holder that panicked leaves
    // nothing half done.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Observer for Health {
    #[inline]
    fn answered(&self, seen: &Seen<'_>) {
        let Some(model) = self.models.get(seen.model.name()) else {
            return;
        };
        let watched = model.current.load();
        if watched.tracker.version == seen.model.version() {
            watched.tracker.count(seen);
            return;
        }
        drop(watched);
        // The first request of a new version: its tracker is made once, then counted into.
        self.replace(model, seen.model).tracker.count(seen);
    }

    fn refused(&self, model: &LoadedModel, _error: &InferError) {
        if let Some(health) = self.models.get(model.name()) {
            health.refused.inc();
        }
    }
}

/// Ticks `health` every [`TICK`] until the task is aborted.
pub async fn run(health: Arc<Health>) {
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        health.tick();
    }
}
