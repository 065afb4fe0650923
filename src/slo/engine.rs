//! The in-process SLO engine: rolling counts of good and total events per SLO, and from them
//! the SLI over every window, the error budget left, burn rates and the state of the
//! multiwindow burn-rate alerts, as they are now.
//!
//! # Time and memory
//! Time comes from a [`Clock`] (monotonic in the service, [`ManualClock`] in tests), so the
//! arithmetic is tested exactly. Counts live in three rings of buckets, fixed in size at start:
//!
//! | ring | bucket | buckets | spans | serves |
//! |---|---|---|---|---|
//! | fine | 10 s | 2,160 | 6 h | 5m, 30m, 1h, 2h, 6h |
//! | medium | 5 min | 864 | 3 d | 1d, 3d |
//! | coarse | 1 h | window / 1 h (720 for 30 d) | the SLO window | the SLO window |
//!
//! One 10-s ring over 30 days would be 259,200 buckets (4 MB per SLO) and every read of the
//! SLO window would sum all of them. Three rings hold 3,744 buckets of 16 bytes (60 KB) per
//! 30-day SLO, and each window is read from the finest ring that spans it, so a window's far
//! edge is uncertain by at most one bucket: 10 s in 5 min, 5 min in a day, 1 h in 30 days.
//! A window is the newest `window / bucket` buckets, the current partial one included.
//!
//! # The hot path
//! [`SloEngine::record_request`] only adds to atomics (one or two `fetch_add`s, no lock).
//! [`SloEngine::tick`] (every 10 s in the service) and every read move those pending counts
//! into the rings under a `std::sync::Mutex` that only the ticker and readers take, and hold
//! for microseconds, never across an `.await`. An event is counted in the bucket current when
//! it is moved, at most one tick after it happened.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::ring::Ring;
use super::spec::{BURN_RATE_ALERTS, Indicator, SLI_WINDOWS, Severity, Slo, SloSpec, Window};

/// Where the engine's time comes from.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Time since an arbitrary fixed origin; never goes backwards.
    fn now(&self) -> Duration;
}

/// The real, monotonic clock.
#[derive(Debug)]
pub struct MonotonicClock {
    origin: Instant,
}

impl MonotonicClock {
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock that moves only when told to, for tests.
#[derive(Debug, Default)]
pub struct ManualClock {
    millis: AtomicU64,
}

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        self.millis
            .fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_millis(self.millis.load(Ordering::SeqCst))
    }
}

/// Width of the fine ring's buckets, and how often the service ticks the engine.
pub const TICK: Duration = Duration::from_secs(10);
const FINE: (u64, u64) = (10, 6 * 3600);
const MEDIUM: (u64, u64) = (300, 3 * 86_400);
const COARSE_BUCKET: u64 = 3600;
/// The traffic chart: one-minute points over the last hour.
const TRAFFIC: (u64, u64) = (60, 3600);

/// Good and total events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub good: u64,
    pub total: u64,
}

impl Counts {
    fn add(&mut self, other: Self) {
        self.good += other.good;
        self.total += other.total;
    }

    pub fn bad(self) -> u64 {
        self.total - self.good
    }

    /// The share of good events; `None` without events.
    pub fn sli(self) -> Option<f64> {
        (self.total > 0).then(|| self.good as f64 / self.total as f64)
    }

    /// How many times faster than the objective allows the budget is being spent; 0 without
    /// events.
    pub fn burn_rate(self, error_budget: f64) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.bad() as f64 / self.total as f64 / error_budget
        }
    }
}

/// One SLO's rings.
#[derive(Debug)]
struct Series {
    rings: [Ring<Counts>; 3],
}

impl Series {
    fn new(slo_window: Window) -> Self {
        Self {
            rings: [
                Ring::new(FINE.0, FINE.1, Counts::default()),
                Ring::new(MEDIUM.0, MEDIUM.1, Counts::default()),
                Ring::new(COARSE_BUCKET, slo_window.seconds(), Counts::default()),
            ],
        }
    }

    fn add(&mut self, now_seconds: u64, counts: Counts) {
        for ring in &mut self.rings {
            ring.advance(now_seconds).add(counts);
        }
    }

    /// Counts over `window` from the finest ring that spans it.
    fn over(&self, window: Window) -> Counts {
        let ring = self
            .rings
            .iter()
            .find(|r| r.span() >= window.seconds() && window.seconds().is_multiple_of(r.width()))
            .unwrap_or(&self.rings[2]);
        let mut sum = Counts::default();
        for (_, counts) in ring.newest(window.seconds() / ring.width()) {
            sum.add(*counts);
        }
        sum
    }

    /// Buckets held, for the memory bound.
    fn buckets(&self) -> usize {
        self.rings.iter().map(Ring::len).sum()
    }
}

/// One minute of traffic for the dashboard's charts.
#[derive(Clone, Debug)]
struct Traffic {
    /// Requests counted by the SLOs (so not 4xx, except 429).
    requests: u64,
    /// 5xx and 429.
    errors: u64,
    /// Counted requests other than 429, by latency bucket (the last is above every edge).
    latency: Box<[u64]>,
}

/// Events recorded since the last tick, added to without a lock.
#[derive(Debug)]
struct Pending {
    /// Counted requests other than 429, by latency bucket (the last is above every edge).
    latency: Box<[AtomicU64]>,
    server_errors: AtomicU64,
    shed: AtomicU64,
}

#[derive(Debug)]
struct State {
    series: Vec<Series>,
    traffic: Ring<Traffic>,
    last_rss_bytes: Option<u64>,
}

/// The SLO engine of one service. Cheap to share behind an `Arc`; every method takes `&self`.
#[derive(Debug)]
pub struct SloEngine {
    spec: SloSpec,
    clock: Arc<dyn Clock>,
    started: Duration,
    /// Edges of the latency histogram, seconds, ascending (the same as Prometheus').
    latency_edges: Box<[f64]>,
    /// Per SLO, for latency SLOs: the index of the threshold's bucket.
    threshold_buckets: Box<[Option<usize>]>,
    pending: Pending,
    /// Taken by the ticker and readers only, briefly; never held across an `.await`.
    state: Mutex<State>,
}

/// What became of a request, as the SLOs count it. The protocol that answered it says which
/// (HTTP by its status code, gRPC by its status), so that nothing here knows either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Answered: good for availability, and its latency counts.
    Answered,
    /// Refused for the caller's own mistake (a malformed request, an unknown model): no SLO
    /// counts it.
    CallerMistake,
    /// Turned away although the caller did nothing wrong (HTTP 429): bad for availability; its
    /// latency does not count.
    Throttled,
    /// Failed on the service's side, sheds and timeouts included: bad for availability, and
    /// its latency counts.
    Failed,
}

impl SloEngine {
    /// An engine for `spec` measuring latency in `latency_edges` (which the spec was checked
    /// against).
    pub fn new(spec: SloSpec, latency_edges: &[f64], clock: Arc<dyn Clock>) -> Self {
        let threshold_buckets = spec
            .slos
            .iter()
            .map(|slo| match slo.indicator {
                Indicator::Latency { threshold_seconds } => Some(
                    latency_edges
                        .iter()
                        .position(|&edge| edge == threshold_seconds)
                        .expect("the spec checked that thresholds are bucket edges"),
                ),
                _ => None,
            })
            .collect();
        let buckets = latency_edges.len() + 1;
        let state = State {
            series: spec
                .slos
                .iter()
                .map(|slo| Series::new(slo.window))
                .collect(),
            traffic: Ring::new(
                TRAFFIC.0,
                TRAFFIC.1,
                Traffic {
                    requests: 0,
                    errors: 0,
                    latency: vec![0; buckets].into_boxed_slice(),
                },
            ),
            last_rss_bytes: None,
        };
        let started = clock.now();
        Self {
            spec,
            clock,
            started,
            latency_edges: latency_edges.into(),
            threshold_buckets,
            pending: Pending {
                latency: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
                server_errors: AtomicU64::new(0),
                shed: AtomicU64::new(0),
            },
            state: Mutex::new(state),
        }
    }

    pub fn spec(&self) -> &SloSpec {
        &self.spec
    }

    /// Counts one answered request: `route` is its template, `seconds` its duration. Whether
    /// it is an event of the SLOs (a route they count, and not a caller's mistake).
    pub fn record_request(&self, route: &str, outcome: Outcome, seconds: f64) -> bool {
        if !self.spec.counts_route(route) {
            return false;
        }
        match outcome {
            Outcome::Throttled => {
                self.pending.shed.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::CallerMistake => return false,
            Outcome::Answered | Outcome::Failed => {
                let bucket = self
                    .latency_edges
                    .iter()
                    .position(|&edge| seconds <= edge)
                    .unwrap_or(self.latency_edges.len());
                // Latency before the error, so that a move never sees an error whose request
                // it has not seen (the move takes errors first).
                self.pending.latency[bucket].fetch_add(1, Ordering::SeqCst);
                if outcome == Outcome::Failed {
                    self.pending.server_errors.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        true
    }

    /// Counts one sample of resident memory (the service samples every [`TICK`]).
    pub fn record_memory(&self, rss_bytes: u64) {
        let now = self.clock.now().as_secs();
        let mut state = self.lock();
        self.move_pending(&mut state, now);
        for (slo, series) in self.spec.slos.iter().zip(&mut state.series) {
            if let Indicator::Memory { limit_bytes } = slo.indicator {
                let good = u64::from(rss_bytes < limit_bytes);
                series.add(now, Counts { good, total: 1 });
            }
        }
        state.last_rss_bytes = Some(rss_bytes);
    }

    /// Counts events of the SLO named `slo` measured outside the engine (model health's
    /// data-quality rows and drift intervals), as of now. Nothing for an SLO it does not have.
    pub fn record(&self, slo: &str, counts: Counts) {
        let Some(index) = self.spec.slos.iter().position(|s| s.name == slo) else {
            return;
        };
        let now = self.clock.now().as_secs();
        let mut state = self.lock();
        self.move_pending(&mut state, now);
        state.series[index].add(now, counts);
    }

    /// Moves pending events into the rings and lets old buckets expire.
    pub fn tick(&self) {
        let now = self.clock.now().as_secs();
        let mut state = self.lock();
        self.move_pending(&mut state, now);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: counts only ever grow.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn move_pending(&self, state: &mut State, now: u64) {
        let server_errors = self.pending.server_errors.swap(0, Ordering::SeqCst);
        let shed = self.pending.shed.swap(0, Ordering::SeqCst);
        let latency: Vec<u64> = self
            .pending
            .latency
            .iter()
            .map(|a| a.swap(0, Ordering::SeqCst))
            .collect();
        let answered: u64 = latency.iter().sum();
        for ((slo, series), threshold) in self
            .spec
            .slos
            .iter()
            .zip(&mut state.series)
            .zip(&self.threshold_buckets)
        {
            let counts = match (&slo.indicator, threshold) {
                (Indicator::Availability, _) => {
                    let total = answered + shed;
                    Counts {
                        good: total.saturating_sub(server_errors + shed),
                        total,
                    }
                }
                (Indicator::Latency { .. }, Some(threshold)) => Counts {
                    good: latency[..=*threshold].iter().sum(),
                    total: answered,
                },
                // Memory samples arrive through `record_memory`, model health's events through
                // `record`; advance the rings only.
                _ => Counts::default(),
            };
            series.add(now, counts);
        }
        let minute = state.traffic.advance(now);
        minute.requests += answered + shed;
        minute.errors += server_errors + shed;
        for (sum, n) in minute.latency.iter_mut().zip(latency) {
            *sum += n;
        }
    }

    /// Every SLO's figures as of now.
    pub fn report(&self) -> Report {
        let now = self.clock.now();
        let now_seconds = now.as_secs();
        let uptime = now.saturating_sub(self.started).as_secs();
        let mut state = self.lock();
        self.move_pending(&mut state, now_seconds);
        let slos = self
            .spec
            .slos
            .iter()
            .zip(&state.series)
            .map(|(slo, series)| slo_report(slo, series, uptime, now_seconds))
            .collect();
        let traffic = self.traffic_report(&state.traffic, now_seconds);
        let memory_limit = self.spec.slos.iter().find_map(|slo| match slo.indicator {
            Indicator::Memory { limit_bytes } => Some(limit_bytes),
            _ => None,
        });
        Report {
            service: self.spec.service.clone(),
            uptime_seconds: uptime,
            slos,
            traffic,
            memory: MemoryReport {
                rss_bytes: state.last_rss_bytes,
                limit_bytes: memory_limit,
            },
        }
    }

    fn traffic_report(&self, ring: &Ring<Traffic>, now: u64) -> Vec<TrafficPoint> {
        let started = self.started.as_secs();
        let mut points: Vec<TrafficPoint> = ring
            .newest(ring.len() as u64)
            .filter(|(bucket, _)| (bucket + 1) * ring.width() > started)
            .map(|(bucket, minute)| {
                let from = (bucket * ring.width()).max(started);
                let to = ((bucket + 1) * ring.width()).min(now.max(from + 1));
                let seconds = (to - from).max(1) as f64;
                let answered: u64 = minute.latency.iter().sum();
                let quantile = |q| quantile(&self.latency_edges, &minute.latency, answered, q);
                TrafficPoint {
                    minutes_ago: (ring.newest_bucket() - bucket) as u32,
                    requests_per_second: minute.requests as f64 / seconds,
                    errors_per_second: minute.errors as f64 / seconds,
                    p50_seconds: quantile(0.5),
                    p90_seconds: quantile(0.9),
                    p99_seconds: quantile(0.99),
                }
            })
            .collect();
        points.reverse();
        points
    }

    /// Buckets held by the rings of every SLO: fixed at start, whatever the traffic.
    pub fn bucket_count(&self) -> usize {
        self.lock().series.iter().map(Series::buckets).sum()
    }
}

/// The `q` quantile of a histogram as Prometheus' `histogram_quantile` estimates it: linear
/// within the bucket that holds it, the highest edge when it lies above every edge.
fn quantile(edges: &[f64], counts: &[u64], total: u64, q: f64) -> Option<f64> {
    if total == 0 {
        return None;
    }
    let rank = q * total as f64;
    let mut below = 0u64;
    for (i, &n) in counts.iter().enumerate() {
        if (below + n) as f64 >= rank && n > 0 {
            let Some(&upper) = edges.get(i) else {
                return edges.last().copied();
            };
            let lower = if i == 0 { 0.0 } else { edges[i - 1] };
            return Some(lower + (upper - lower) * (rank - below as f64) / n as f64);
        }
        below += n;
    }
    edges.last().copied()
}

fn slo_report(slo: &Slo, series: &Series, uptime: u64, now_seconds: u64) -> SloReport {
    let history = budget_history(slo, series, uptime, now_seconds);
    evaluate(slo, |window| series.over(window), uptime, history)
}

/// The burn-down of the budget from the rings: the finest ring that spans the time the engine
/// has seen of the SLO window, in at most [`BUDGET_POINTS`] points.
fn budget_history(slo: &Slo, series: &Series, uptime: u64, now_seconds: u64) -> BudgetHistory {
    let covered = uptime.clamp(1, slo.window.seconds());
    let ring = series
        .rings
        .iter()
        .find(|r| r.span() >= covered)
        .unwrap_or(&series.rings[2]);
    // The buckets of the covered span, the oldest (partly covered) one included.
    let wanted = (covered.div_ceil(ring.width()) + 1).min(ring.len() as u64);
    let mut buckets: Vec<(u64, Counts)> = ring.newest(wanted).map(|(b, c)| (b, *c)).collect();
    buckets.reverse();
    let per_point = buckets.len().div_ceil(BUDGET_POINTS).max(1);
    let steps: Vec<(u64, f64, f64)> = buckets
        .chunks(per_point)
        .map(|group| {
            let (newest, _) = group[group.len() - 1];
            let end = (newest + 1) * ring.width();
            let mut counts = Counts::default();
            for (_, c) in group {
                counts.add(*c);
            }
            (
                now_seconds.saturating_sub(end),
                counts.good as f64,
                counts.total as f64,
            )
        })
        .collect();
    BudgetHistory::burn_down(slo.objective.error_budget(), covered, &steps)
}

/// Points of a budget chart: enough to draw a month hour by hour at a glance, few enough that
/// polling `/slo.json` every 5 s stays cheap.
pub const BUDGET_POINTS: usize = 120;

/// One SLO's figures from its counts over any window: SLIs, burn rates, the budget left and
/// the alerts, for the engine's rings and for the fleet's queries alike. `covered_seconds` is
/// how much of any window the counts can hold (the uptime, or how long the fleet reported).
pub fn evaluate(
    slo: &Slo,
    counts_over: impl Fn(Window) -> Counts,
    covered_seconds: u64,
    budget_history: BudgetHistory,
) -> SloReport {
    let budget = slo.objective.error_budget();
    let window_report = |window: Window| {
        let counts = counts_over(window);
        WindowReport {
            window: window.to_string(),
            seconds: window.seconds(),
            covered_seconds: window.seconds().min(covered_seconds),
            good: counts.good,
            total: counts.total,
            sli: counts.sli(),
            burn_rate: counts.burn_rate(budget),
        }
    };
    let mut windows: Vec<WindowReport> = SLI_WINDOWS.iter().map(|&w| window_report(w)).collect();
    windows.push(window_report(slo.window));
    let whole = windows.last().expect("the SLO window is always there");
    let (good, total, sli, burn_rate) = (whole.good, whole.total, whole.sli, whole.burn_rate);
    let covered_seconds = whole.covered_seconds;
    let over = |window: Window| {
        windows
            .iter()
            .find(|w| w.seconds == window.seconds())
            .map_or_else(
                || counts_over(window),
                |w| Counts {
                    good: w.good,
                    total: w.total,
                },
            )
    };

    let alerts: Vec<AlertReport> = [Severity::Page, Severity::Ticket]
        .into_iter()
        .map(|severity| {
            let enabled = slo.alerts.enabled(severity);
            let conditions: Vec<ConditionReport> = BURN_RATE_ALERTS
                .iter()
                .filter(|a| a.severity == severity)
                .map(|a| {
                    let factor = a.factor(slo.window);
                    let long = over(a.long);
                    let short = over(a.short);
                    let long_burn_rate = long.burn_rate(budget);
                    let short_burn_rate = short.burn_rate(budget);
                    let enough_events = long.total >= slo.alerts.min_events;
                    ConditionReport {
                        long: a.long.to_string(),
                        short: a.short.to_string(),
                        factor,
                        long_burn_rate,
                        short_burn_rate,
                        long_events: long.total,
                        enough_events,
                        firing: enabled
                            && enough_events
                            && long_burn_rate > factor
                            && short_burn_rate > factor,
                    }
                })
                .collect();
            AlertReport {
                severity,
                enabled,
                firing: conditions.iter().any(|c| c.firing),
                min_events: slo.alerts.min_events,
                conditions,
            }
        })
        .collect();
    let status = if alerts[0].firing {
        Status::Page
    } else if alerts[1].firing {
        Status::Ticket
    } else {
        Status::Ok
    };
    let (threshold_seconds, limit_bytes) = match slo.indicator {
        Indicator::Latency { threshold_seconds } => (Some(threshold_seconds), None),
        Indicator::Memory { limit_bytes } => (None, Some(limit_bytes)),
        _ => (None, None),
    };
    let (psi_threshold, drift_window) = match &slo.indicator {
        Indicator::Drift(rule) => (
            Some(rule.psi_threshold),
            Some(rule.drift_window.to_string()),
        ),
        _ => (None, None),
    };
    SloReport {
        name: slo.name.clone(),
        description: slo.description.clone(),
        kind: slo.indicator.kind(),
        objective: slo.objective.ratio(),
        objective_percent: slo.objective.percent(),
        error_budget: budget,
        window: slo.window.to_string(),
        window_seconds: slo.window.seconds(),
        covered_seconds,
        threshold_seconds,
        limit_bytes,
        model: slo.indicator.model().map(str::to_owned),
        psi_threshold,
        drift_window,
        events: slo.indicator.events(),
        good,
        total,
        sli,
        burn_rate,
        error_budget_remaining: 1.0 - burn_rate,
        status,
        windows,
        alerts,
        budget_history,
    }
}

/// What `GET /slo.json` says about the SLOs (the HTTP layer adds the model and the build).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub service: String,
    pub uptime_seconds: u64,
    pub slos: Vec<SloReport>,
    /// One point per minute over the last hour, oldest first; the last is the current minute.
    pub traffic: Vec<TrafficPoint>,
    pub memory: MemoryReport,
}

/// One SLO now.
#[derive(Clone, Debug, Serialize)]
pub struct SloReport {
    pub name: String,
    pub description: String,
    /// `availability`, `latency`, `memory`, `data_quality` or `drift`.
    pub kind: &'static str,
    /// The share of events that must be good (`0.9995`).
    pub objective: f64,
    pub objective_percent: f64,
    /// The share of events that may be bad (`0.0005`).
    pub error_budget: f64,
    pub window: String,
    pub window_seconds: u64,
    /// How much of the window the engine has seen (since start when that is shorter).
    pub covered_seconds: u64,
    pub threshold_seconds: Option<f64>,
    pub limit_bytes: Option<u64>,
    /// The one model a model-health SLO counts; `null` for every model's.
    pub model: Option<String>,
    /// A drift SLO's PSI threshold and the window PSI is computed over.
    pub psi_threshold: Option<f64>,
    pub drift_window: Option<String>,
    /// What its events are: `requests`, `samples`, `rows` or `intervals`.
    pub events: &'static str,
    /// Good and total events over the SLO window.
    pub good: u64,
    pub total: u64,
    /// Over the SLO window; `null` before any event.
    pub sli: Option<f64>,
    /// Over the SLO window.
    pub burn_rate: f64,
    /// 1 − the burn rate over the SLO window: the share of the budget not yet spent at the
    /// current pace (negative once overspent).
    pub error_budget_remaining: f64,
    pub status: Status,
    /// 5m, 30m, 1h, 2h, 6h, 1d, 3d, then the SLO window.
    pub windows: Vec<WindowReport>,
    /// Page, then ticket.
    pub alerts: Vec<AlertReport>,
    /// The budget left over the part of the SLO window seen, as a chart draws it.
    pub budget_history: BudgetHistory,
}

/// The error budget of the SLO window burning down: at each point, the share of the window's
/// budget left after the bad events up to then, with the budget set by all the window's events
/// (`error_budget` × total). It starts at 1 where the data starts and ends at the SLO's
/// `error_budget_remaining`; a cliff is an incident, a slope a steady burn, and below 0 the
/// budget is overspent.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BudgetHistory {
    /// Seconds before now of each point, oldest first; the last is 0 (now).
    pub seconds_ago: Vec<u64>,
    /// The share of the budget left at each point.
    pub remaining: Vec<f64>,
}

impl BudgetHistory {
    /// From the events of consecutive steps, oldest first, each `(seconds_ago at its end, good,
    /// total)`, covering the last `covered_seconds`. Counts are `f64` because a fleet's come
    /// from Prometheus' `increase`, which extrapolates.
    pub fn burn_down(error_budget: f64, covered_seconds: u64, steps: &[(u64, f64, f64)]) -> Self {
        let total: f64 = steps.iter().map(|(_, _, t)| t).sum();
        let allowed = error_budget * total;
        let mut history = Self {
            seconds_ago: vec![covered_seconds],
            remaining: vec![1.0],
        };
        let mut bad = 0.0;
        for &(seconds_ago, good, total) in steps {
            bad += (total - good).max(0.0);
            let remaining = if allowed > 0.0 {
                1.0 - bad / allowed
            } else {
                1.0
            };
            if history.seconds_ago.last() == Some(&seconds_ago) {
                history.seconds_ago.pop();
                history.remaining.pop();
            }
            history.seconds_ago.push(seconds_ago.min(covered_seconds));
            history.remaining.push(remaining);
        }
        history
    }

    /// The same points seen `seconds` later: each that much further in the past, and the last
    /// value again now.
    pub fn aged(mut self, seconds: u64) -> Self {
        if seconds == 0 || self.seconds_ago.is_empty() {
            return self;
        }
        for ago in &mut self.seconds_ago {
            *ago += seconds;
        }
        let last = *self.remaining.last().expect("as many values as points");
        self.seconds_ago.push(0);
        self.remaining.push(last);
        self
    }

    /// Scaled to end at `remaining`: the points say when the budget was spent, `remaining` how
    /// much of it (a fleet's counts over the whole window, which its step-by-step counts only
    /// estimate, since each step's `increase` extrapolates on its own).
    pub fn ending_at(mut self, remaining: f64) -> Self {
        let Some(&last) = self.remaining.last() else {
            return self;
        };
        let (spent, target) = (1.0 - last, 1.0 - remaining);
        if spent > 0.0 && target > 0.0 {
            for value in &mut self.remaining {
                *value = 1.0 - (1.0 - *value) * target / spent;
            }
        } else {
            // Nothing spent step by step, or nothing spent at all: all left until now.
            for value in &mut self.remaining {
                *value = 1.0;
            }
            *self.remaining.last_mut().expect("not empty") = remaining;
        }
        self
    }
}

/// The worst alert firing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Ticket,
    Page,
}

#[derive(Clone, Debug, Serialize)]
pub struct WindowReport {
    pub window: String,
    pub seconds: u64,
    pub covered_seconds: u64,
    pub good: u64,
    pub total: u64,
    pub sli: Option<f64>,
    pub burn_rate: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct AlertReport {
    pub severity: Severity,
    /// Switched on in `slos.yaml`.
    pub enabled: bool,
    pub firing: bool,
    pub min_events: u64,
    pub conditions: Vec<ConditionReport>,
}

/// One window pair: fires when both burn faster than `factor` and the long window has enough
/// events.
#[derive(Clone, Debug, Serialize)]
pub struct ConditionReport {
    pub long: String,
    pub short: String,
    pub factor: f64,
    pub long_burn_rate: f64,
    pub short_burn_rate: f64,
    pub long_events: u64,
    pub enough_events: bool,
    pub firing: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct TrafficPoint {
    /// 0 for the current (partial) minute.
    pub minutes_ago: u32,
    pub requests_per_second: f64,
    pub errors_per_second: f64,
    pub p50_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
    pub p99_seconds: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct MemoryReport {
    /// The last sample; `null` before the first.
    pub rss_bytes: Option<u64>,
    /// The memory SLO's limit, if there is one.
    pub limit_bytes: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const EDGES: &[f64] = &[0.01, 0.05, 0.1, 0.4, 1.0];

    /// The test's handle on the engine's clock.
    #[derive(Debug, Default, Clone)]
    struct TestClock(Arc<ManualClock>);

    impl TestClock {
        fn advance(&self, seconds: u64) {
            self.0.advance(Duration::from_secs(seconds));
        }
    }

    fn spec(slos: &str) -> SloSpec {
        let text = format!("version: 1\nservice: svc\nexclude_routes: [/metrics]\nslos:\n{slos}");
        SloSpec::parse(&text, EDGES).unwrap()
    }

    fn availability(min_events: u64, page: bool) -> String {
        format!(
            "  - name: availability\n    kind: availability\n    objective_percent: 99.95\n    \
             window: 30d\n    alerts: {{page: {page}, ticket: true, min_events: {min_events}}}\n"
        )
    }

    fn engine(slos: &str) -> (SloEngine, TestClock) {
        let clock = TestClock::default();
        let engine = SloEngine::new(spec(slos), EDGES, clock.0.clone());
        (engine, clock)
    }

    /// `good` fast 200s and `bad` 503s on the prediction route.
    fn requests(engine: &SloEngine, good: u64, bad: u64) {
        for _ in 0..good {
            engine.record_request("/", Outcome::Answered, 0.002);
        }
        for _ in 0..bad {
            engine.record_request("/", Outcome::Failed, 0.002);
        }
    }

    /// Traffic at an even pace: `per_tick` requests every 10 s, `bad_per_tick` of them failing,
    /// for `seconds`.
    fn steady(engine: &SloEngine, clock: &TestClock, seconds: u64, per_tick: u64, bad: u64) {
        for _ in 0..seconds / 10 {
            requests(engine, per_tick - bad, bad);
            engine.tick();
            clock.advance(10);
        }
    }

    fn window<'a>(report: &'a SloReport, name: &str) -> &'a WindowReport {
        report.windows.iter().find(|w| w.window == name).unwrap()
    }

    fn close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0),
            "{actual} != {expected}"
        );
    }

    #[test]
    fn availability_counts_5xx_and_sheds_as_bad_and_ignores_caller_mistakes() {
        let (engine, _clock) = engine(&availability(0, true));
        requests(&engine, 1996, 2);
        assert!(engine.record_request("/", Outcome::Throttled, 0.0001));
        assert!(engine.record_request("/", Outcome::Failed, 0.0001));
        // The caller's mistake and an excluded route are not events.
        assert!(!engine.record_request("/", Outcome::CallerMistake, 0.0001));
        assert!(!engine.record_request("/", Outcome::CallerMistake, 0.0001));
        assert!(!engine.record_request("/metrics", Outcome::Failed, 0.0001));

        let slo = &engine.report().slos[0];

        assert_eq!((slo.good, slo.total), (1996, 2000));
        assert_eq!(slo.sli, Some(0.998));
        close(slo.burn_rate, 4.0); // 0.2 % bad / 0.05 % allowed
        close(slo.error_budget_remaining, -3.0);
        assert_eq!(slo.error_budget, 0.0005);
        for w in &slo.windows {
            assert_eq!((w.good, w.total), (1996, 2000), "window {}", w.window);
        }
    }

    #[test]
    fn without_events_the_sli_is_unknown_and_the_budget_whole() {
        let (engine, _clock) = engine(&availability(0, true));
        let slo = &engine.report().slos[0];
        assert_eq!(slo.sli, None);
        assert_eq!(slo.burn_rate, 0.0);
        assert_eq!(slo.error_budget_remaining, 1.0);
        assert_eq!(slo.status, Status::Ok);
    }

    #[test]
    fn latency_counts_requests_at_or_under_the_threshold_bucket_edge() {
        let (engine, _clock) = engine(
            "  - name: fast\n    kind: latency\n    threshold_seconds: 0.1\n    \
             objective_percent: 90\n    window: 30d\n",
        );
        for seconds in [0.001, 0.05, 0.1, 0.100_001, 0.4, 2.0] {
            engine.record_request("/v2/models/{name}/infer", Outcome::Answered, seconds);
        }
        engine.record_request("/", Outcome::Failed, 0.02); // a fast error still counts for latency
        engine.record_request("/", Outcome::Throttled, 5.0); // a shed is not a latency event
        engine.record_request("/", Outcome::CallerMistake, 5.0); // nor a caller mistake

        let slo = &engine.report().slos[0];

        assert_eq!((slo.good, slo.total), (4, 7));
        close(slo.burn_rate, (3.0 / 7.0) / 0.1);
        assert_eq!(slo.threshold_seconds, Some(0.1));
    }

    #[test]
    fn windows_roll_with_the_clock() {
        let (engine, clock) = engine(&availability(0, true));
        requests(&engine, 90, 10);
        engine.tick();

        clock.advance(299);
        let report = engine.report();
        assert_eq!(window(&report.slos[0], "5m").total, 100);

        // 5 min later the events have left the 5-minute window only.
        clock.advance(11);
        let report = engine.report();
        let slo = &report.slos[0];
        assert_eq!(window(slo, "5m").total, 0);
        assert_eq!(window(slo, "5m").sli, None);
        for name in ["30m", "1h", "2h", "6h", "1d", "3d", "30d"] {
            assert_eq!(window(slo, name).total, 100, "{name}");
            assert_eq!(window(slo, name).sli, Some(0.9), "{name}");
        }
        assert_eq!(window(slo, "1h").covered_seconds, 310);
        assert_eq!(slo.covered_seconds, 310);

        // Past 6 hours they are read from the 5-minute ring, past 3 days from the hourly one.
        clock.advance(6 * 3600);
        let report = engine.report();
        assert_eq!(window(&report.slos[0], "6h").total, 0);
        assert_eq!(window(&report.slos[0], "1d").total, 100);
        clock.advance(3 * 86_400);
        let report = engine.report();
        assert_eq!(window(&report.slos[0], "3d").total, 0);
        assert_eq!(report.slos[0].total, 100);
        clock.advance(27 * 86_400);
        assert_eq!(engine.report().slos[0].total, 0);
    }

    #[test]
    fn page_fires_above_14_4_on_1h_and_5m_and_resolves_with_the_short_window() {
        let (engine, clock) = engine(&availability(100, true));
        steady(&engine, &clock, 3600, 1000, 0);
        assert_eq!(engine.report().slos[0].status, Status::Ok);
        // Then an hour at 14.6x: 73 bad in every 10,000 (0.73 %; the budget is 0.05 %).
        for _ in 0..360 {
            requests(&engine, 9927, 73);
            engine.tick();
            clock.advance(10);
        }
        let report = engine.report();
        let page = &report.slos[0].alerts[0];
        let fast = &page.conditions[0];
        assert_eq!((fast.long.as_str(), fast.short.as_str()), ("1h", "5m"));
        close(fast.factor, 14.4);
        close(fast.long_burn_rate, 14.6);
        close(fast.short_burn_rate, 14.6);
        assert!(fast.firing && page.firing);
        assert_eq!(report.slos[0].status, Status::Page);

        // Five minutes of good traffic clear the short window: the 1h/5m pair resolves although
        // the hour still burns at over 13x; the long window alone never pages.
        steady(&engine, &clock, 300, 10_000, 0);
        let report = engine.report();
        let fast = &report.slos[0].alerts[0].conditions[0];
        assert_eq!(fast.short_burn_rate, 0.0);
        assert!(fast.long_burn_rate > 13.0);
        assert!(!fast.firing);
        // The slower pair still pages: its 30-minute window is still mostly bad.
        assert!(report.slos[0].alerts[0].conditions[1].firing);
    }

    #[test]
    fn page_does_not_fire_at_10x() {
        let (engine, clock) = engine(&availability(100, true));
        steady(&engine, &clock, 3600, 10_000, 50);
        let report = engine.report();
        let fast = &report.slos[0].alerts[0].conditions[0];
        close(fast.long_burn_rate, 10.0);
        assert!(!fast.firing);
        // 10x for the whole (1 h old) 6h window is over 6x: the slower page pair fires.
        let slow = &report.slos[0].alerts[0].conditions[1];
        close(slow.long_burn_rate, 10.0);
        assert!(slow.firing);
    }

    #[test]
    fn page_on_the_6h_pair_and_tickets_on_1d_and_3d() {
        let (engine, clock) = engine(&availability(0, true));
        // 7x for 6 hours: not enough for the hour pair, enough for 6h/30m and both tickets.
        steady(&engine, &clock, 6 * 3600, 2000, 7);
        let report = engine.report();
        let [page, ticket] = &report.slos[0].alerts[..] else {
            panic!()
        };
        let fired: Vec<bool> = page
            .conditions
            .iter()
            .chain(&ticket.conditions)
            .map(|c| c.firing)
            .collect();
        assert_eq!(fired, [false, true, true, true]);
        close(ticket.conditions[0].factor, 3.0);
        close(ticket.conditions[1].factor, 1.0);
        assert_eq!(report.slos[0].status, Status::Page);
    }

    #[test]
    fn a_ticket_fires_and_resolves_at_3x() {
        let (engine, clock) = engine(&availability(0, true));
        // 4x for a day: over the ticket's 3x on 1d and 2h, under the pages' 14.4x and 6x.
        steady(&engine, &clock, 86_400, 500, 1);
        let report = engine.report();
        assert!(report.slos[0].alerts[1].firing);
        assert!(!report.slos[0].alerts[0].firing);
        assert_eq!(report.slos[0].status, Status::Ticket);
        // Two good hours clear the 2h window; the 3d/6h pair needs 6 good hours.
        steady(&engine, &clock, 2 * 3600 + 10, 500, 0);
        let report = engine.report();
        let ticket = &report.slos[0].alerts[1];
        assert!(!ticket.conditions[0].firing);
        assert!(ticket.conditions[1].firing, "1x over 3d and 6h still burns");
        steady(&engine, &clock, 4 * 3600, 500, 0);
        assert_eq!(engine.report().slos[0].status, Status::Ok);
    }

    #[test]
    fn too_few_events_never_alert() {
        let (engine, clock) = engine(&availability(100, true));
        // 99 requests in an hour, all failing: a burn of 2000x, and 99 < 100 events.
        for _ in 0..99 {
            requests(&engine, 0, 1);
            clock.advance(30);
        }
        let report = engine.report();
        let fast = &report.slos[0].alerts[0].conditions[0];
        close(fast.long_burn_rate, 2000.0);
        assert_eq!(fast.long_events, 99);
        assert!(!fast.enough_events && !fast.firing);
        assert_eq!(report.slos[0].status, Status::Ok);
        // The hundredth event is enough.
        requests(&engine, 0, 1);
        assert_eq!(engine.report().slos[0].status, Status::Page);
    }

    #[test]
    fn a_tier_switched_off_never_fires() {
        let (engine, _clock) = engine(&availability(0, false));
        requests(&engine, 0, 1000);
        let report = engine.report();
        let [page, ticket] = &report.slos[0].alerts[..] else {
            panic!()
        };
        assert!(!page.enabled && !page.firing);
        assert!(page.conditions.iter().all(|c| !c.firing));
        assert!(ticket.enabled && ticket.firing);
        assert_eq!(report.slos[0].status, Status::Ticket);
    }

    #[test]
    fn memory_samples_at_or_over_the_limit_are_bad() {
        let (engine, clock) = engine(
            "  - name: memory\n    kind: memory\n    limit_bytes: 1000\n    \
             objective_percent: 99.9\n    window: 30d\n",
        );
        for rss in [10, 999, 1000, 5000] {
            engine.record_memory(rss);
            clock.advance(10);
        }
        requests(&engine, 5, 5); // requests are not memory events
        let report = engine.report();
        let slo = &report.slos[0];
        assert_eq!((slo.good, slo.total), (2, 4));
        close(slo.burn_rate, 0.5 / 0.001);
        assert_eq!(slo.status, Status::Page);
        assert_eq!(report.memory.rss_bytes, Some(5000));
        assert_eq!(report.memory.limit_bytes, Some(1000));
    }

    #[test]
    fn traffic_is_per_minute_with_histogram_quantiles() {
        let (engine, clock) = engine(&availability(0, true));
        clock.advance(120); // the engine starts at 0; this minute is the third
        // Minute one: 60 requests, 6 of them errors.
        for i in 0..60 {
            let seconds = if i < 54 { 0.03 } else { 0.5 };
            let outcome = if i < 54 {
                Outcome::Answered
            } else {
                Outcome::Failed
            };
            engine.record_request("/", outcome, seconds);
        }
        engine.tick();
        clock.advance(60);
        engine.record_request("/", Outcome::Answered, 0.005);
        clock.advance(30);

        let traffic = engine.report().traffic;

        assert_eq!(traffic.len(), 4, "{traffic:?}");
        let [.., first, current] = &traffic[..] else {
            panic!()
        };
        assert_eq!(first.minutes_ago, 1);
        close(first.requests_per_second, 1.0);
        close(first.errors_per_second, 0.1);
        // 54 in (0.01, 0.05], 6 in (0.4, 1]: p50 at rank 30 of 54 in the second bucket.
        close(first.p50_seconds.unwrap(), 0.01 + 0.04 * 30.0 / 54.0);
        close(first.p90_seconds.unwrap(), 0.01 + 0.04 * 54.0 / 54.0);
        close(first.p99_seconds.unwrap(), 0.4 + 0.6 * (59.4 - 54.0) / 6.0);
        assert_eq!(current.minutes_ago, 0);
        close(current.requests_per_second, 1.0 / 30.0);
        assert_eq!(traffic[0].p50_seconds, None);
    }

    #[test]
    fn quantiles_above_every_edge_are_the_highest_edge() {
        assert_eq!(quantile(EDGES, &[0, 0, 0, 0, 0, 3], 3, 0.5), Some(1.0));
        assert_eq!(quantile(EDGES, &[0; 6], 0, 0.5), None);
        assert_eq!(quantile(EDGES, &[2, 0, 0, 0, 0, 0], 2, 0.5), Some(0.005));
    }

    #[test]
    fn the_budget_burns_down_from_the_rings_to_the_budget_left() {
        let (engine, clock) = engine(&availability(0, true));
        // An hour of clean traffic, then a burst: 10 bad of 1,000 in one tick, then clean again.
        steady(&engine, &clock, 3600, 1000, 0);
        requests(&engine, 990, 10);
        engine.tick();
        clock.advance(10);
        steady(&engine, &clock, 600, 1000, 0);

        let report = engine.report();
        let slo = &report.slos[0];
        let history = &slo.budget_history;

        assert!(history.seconds_ago.len() <= BUDGET_POINTS + 1);
        assert_eq!(history.seconds_ago.len(), history.remaining.len());
        assert_eq!(history.seconds_ago[0], report.uptime_seconds);
        assert_eq!(history.remaining[0], 1.0);
        assert_eq!(*history.seconds_ago.last().unwrap(), 0);
        close(
            *history.remaining.last().unwrap(),
            slo.error_budget_remaining,
        );
        assert!(
            history.remaining.windows(2).all(|w| w[1] <= w[0]),
            "{history:?}"
        );
        // Clean before the burst, the burst's share spent after it.
        let burst_at = history.seconds_ago.iter().position(|&s| s < 610).unwrap();
        assert_eq!(history.remaining[burst_at - 1], 1.0);
        close(history.remaining[burst_at], slo.error_budget_remaining);
    }

    #[test]
    fn a_budget_burn_down_is_budget_share_left_of_the_whole_window() {
        // 1,000 events in four steps, 0.1 % allowed: 1 bad event may be spent.
        let steps = [
            (30, 250.0, 250.0),
            (20, 249.0, 250.0),
            (10, 250.0, 250.0),
            (0, 249.0, 250.0),
        ];
        let history = BudgetHistory::burn_down(0.001, 40, &steps);
        assert_eq!(history.seconds_ago, [40, 30, 20, 10, 0]);
        assert_eq!(history.remaining, [1.0, 1.0, 0.0, 0.0, -1.0]);
        let quiet = BudgetHistory::burn_down(0.001, 40, &[(0, 0.0, 0.0)]);
        assert_eq!(quiet.remaining, [1.0, 1.0]);

        // Seen 5 s later and scaled to a budget left of -3 (4 spent rather than 2).
        let later = history.aged(5).ending_at(-3.0);
        assert_eq!(later.seconds_ago, [45, 35, 25, 15, 5, 0]);
        assert_eq!(later.remaining, [1.0, 1.0, -1.0, -1.0, -3.0, -3.0]);
        let spent_at_last = quiet.ending_at(0.5);
        assert_eq!(spent_at_last.remaining, [1.0, 0.5]);
    }

    #[test]
    fn drift_intervals_recorded_from_outside_burn_the_budget_and_page() {
        let (engine, clock) = engine(
            "  - name: drift\n    kind: drift\n    psi_threshold: 0.25\n    \
             objective_percent: 99\n    window: 30d\n    alerts: {min_events: 30}\n",
        );
        // Requests are not drift events.
        requests(&engine, 100, 100);
        // Two clean hours, one interval a minute.
        for _ in 0..120 {
            engine.record("drift", Counts { good: 1, total: 1 });
            clock.advance(60);
        }
        assert_eq!(engine.report().slos[0].status, Status::Ok);
        // Then a shift: every interval bad. After ten minutes 10 of the 59 intervals in the
        // hour's buckets are bad (a burn of 16.9x over 1h; 100x over 5m): the fast pair pages.
        for _ in 0..10 {
            engine.record("drift", Counts { good: 0, total: 1 });
            clock.advance(60);
        }
        let report = engine.report();
        let slo = &report.slos[0];
        assert_eq!((slo.kind, slo.events), ("drift", "intervals"));
        assert_eq!(slo.psi_threshold, Some(0.25));
        assert_eq!(slo.drift_window.as_deref(), Some("1h"));
        let fast = &slo.alerts[0].conditions[0];
        close(fast.short_burn_rate, 100.0);
        close(fast.long_burn_rate, 10.0 / 59.0 / 0.01);
        assert!(fast.firing);
        assert_eq!(slo.status, Status::Page);
        assert_eq!((slo.good, slo.total), (120, 130));
        // An SLO the spec lacks records nothing.
        engine.record("nothing", Counts { good: 0, total: 5 });
        assert_eq!(engine.report().slos[0].total, 130);
    }

    #[test]
    fn memory_is_bounded_by_the_windows_not_the_traffic() {
        let (engine, clock) = engine(&availability(0, true));
        assert_eq!(engine.bucket_count(), 2160 + 864 + 720);
        steady(&engine, &clock, 86_400, 100, 1);
        assert_eq!(engine.bucket_count(), 2160 + 864 + 720);
    }
}
