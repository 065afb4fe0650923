//! Every Prometheus metric skserve exports, declared once with its help text, in one registry
//! owned by the application (not a global, so tests can run several servers in a process).
//!
//! Labels are bounded: `route` is the route template (`/v2/models/{name}/infer`, never the raw
//! path; `unmatched` for unknown paths), `method` is one of the few HTTP methods, `code` the
//! status. Nothing here is on the critical path beyond a label lookup and an atomic add.
//!
//! # Series known in advance
//! A counter series born at its first event hides that event from Prometheus: `rate()` and
//! `increase()` start from a series' first sample, so the burst that created it (the first
//! sheds of an overload, on an instance that just started) is never counted. As Prometheus'
//! instrumentation guide says, the label sets known in advance are exported at 0 from the
//! start. Known means what the configuration can produce and the SLOs or alerts count, and no
//! more, since every histogram child is 18 series:
//! - requests and latency ([`Metrics::start_requests_at_zero`]): every route that answers
//!   callers (those the SLOs count), with the method it is routed for, times the answers the
//!   SLOs count that the service gives: codes 200, 500 and 503 (sheds, timeouts, keys
//!   unavailable) in `skserve_http_requests_total`, classes 2xx and 5xx in the histogram. Not
//!   4xx, which no SLO counts and whose codes a client chooses; not unknown paths
//!   (`unmatched`) or methods a route is not routed for. For the 11 (route, method) pairs of
//!   today's router: 33 counter series and 22 histogram children (396 series), which a busy
//!   instance has anyway, only from its start rather than from its first error. The bound
//!   does not grow with models, clients or traffic.
//! - sheds by reason (3, always), auth failures by reason (14, when tokens or address ranges
//!   are checked), and per model kept current from a file or object its refresh outcomes (3)
//!   and failure reasons (7); rows predicted per model (1 each) are created with the model.
//! - model health (`health`): per model its row counters, issue counters and drift gauges of
//!   every exported column, its classes, its drift SLOs' intervals, and, once its reference
//!   is known, the bins of every exported column.
//!
//! # Layout
//! - `health`: model health's families (data quality, drift, predictions, bins).

pub mod health;

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus::{
    Encoder, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use rustc_hash::FxHashMap;

/// Latency buckets, in seconds. 0.05 and 0.4 are the latency SLO thresholds (a fast answer and
/// an acceptable one); the finer buckets below 5 ms show the service's own time, the coarse
/// ones above 1 s the timeouts. Every `threshold_seconds` of `slos.yaml` must be one of these
/// edges (checked when it is loaded), so that Prometheus counts requests under it exactly.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 5.0, 10.0, 30.0,
];

/// The `reason`s of `skserve_http_shed_total`.
pub const SHED_REASONS: [&str; 3] = ["concurrency", "queue_wait", "connections"];
/// The `reason`s of `skserve_auth_failures_total`.
pub const AUTH_FAILURE_REASONS: [&str; 14] = [
    "missing",
    "malformed",
    "algorithm",
    "unknown_key",
    "signature",
    "expired",
    "not_yet_valid",
    "lifetime",
    "issuer",
    "audience",
    "keys_unavailable",
    "email_unverified",
    "not_allowed",
    "client_address",
];
/// The `outcome`s of `skserve_model_refresh_total`.
pub const REFRESH_OUTCOMES: [&str; 3] = ["updated", "unchanged", "failed"];
/// The `reason`s of `skserve_model_refresh_failures_total`.
pub const REFRESH_FAILURE_REASONS: [&str; 7] = [
    "download",
    "refused",
    "malformed",
    "unsupported",
    "too_large",
    "shape",
    "features",
];
/// The codes of `skserve_http_requests_total` exported at 0 for every route that answers
/// callers: success, and the server errors the SLOs count (see "Series known in advance").
const CODES_KNOWN_IN_ADVANCE: [u16; 3] = [200, 500, 503];

/// The application's metrics and the registry that exports them.
#[derive(Clone, Debug)]
pub struct Metrics {
    /// Unique per `Metrics` in the process: keys the per-thread cache of labelled handles.
    id: u64,
    registry: Registry,
    /// `skserve_http_requests_total{route,method,code}`.
    pub http_requests: IntCounterVec,
    /// `skserve_http_request_duration_seconds{route,method,code_class}`.
    pub http_duration: HistogramVec,
    /// `skserve_http_queue_wait_seconds`: from a request's bytes reaching the server to its
    /// handler starting (the run-queue wait that `http_duration` alone would hide).
    pub queue_wait: Histogram,
    /// `skserve_http_shed_total{reason}`: requests answered 503 by load shedding; `reason` is
    /// `concurrency`, `queue_wait` or `connections`.
    pub shed: IntCounterVec,
    /// `skserve_prediction_rows_total{model}`.
    pub prediction_rows: IntCounterVec,
    /// `skserve_build_info{version,git_sha}`, always 1.
    pub build_info: IntGaugeVec,
    /// `skserve_model_info{model,version,estimator,sklearn_version,chain}`, 1 for the version served.
    pub model_info: IntGaugeVec,
    /// `skserve_model_loaded_timestamp_seconds{model}`: when the served version was loaded.
    pub model_loaded_timestamp: GaugeVec,
    /// `skserve_model_refresh_total{model,outcome}`: `updated`, `unchanged`, `failed`.
    pub model_refresh: IntCounterVec,
    /// `skserve_model_refresh_failures_total{model,reason}`: `download`, `refused`,
    /// `malformed`, `unsupported`, `too_large` (over `--max-model-bytes`), `shape`,
    /// `features`.
    pub model_refresh_failures: IntCounterVec,
    /// `skserve_auth_failures_total{reason}`: requests refused by authentication or
    /// authorization; `reason` is one of the fixed labels of `auth::AuthError::reason`.
    pub auth_failures: IntCounterVec,
    /// `skserve_requests_before_first_scrape`: the SLOs' events answered before `/metrics` was
    /// first scraped (`slo::first_scrape`), set at each scrape.
    pub requests_before_first_scrape: IntGauge,
    /// The SLO engine's figures, set from its report at each scrape (`slo`).
    pub slo: SloGauges,
    /// Model health: data quality, drift, predictions (`crate::health`).
    pub health: health::HealthMetrics,
}

/// `skserve_slo_*`: what the in-process SLO engine computes, so that Prometheus and Grafana
/// see the same figures as `/slo`. Labels: `slo` (a name from `slos.yaml`), `window` (5m … 3d
/// and the SLO window), `severity` (page, ticket): all bounded by the spec.
#[derive(Clone, Debug)]
pub struct SloGauges {
    /// `skserve_slo_objective_ratio{slo}`.
    pub objective: GaugeVec,
    /// `skserve_slo_sli_ratio{slo,window}`: share of good events; NaN before any event.
    pub sli: GaugeVec,
    /// `skserve_slo_burn_rate{slo,window}`.
    pub burn_rate: GaugeVec,
    /// `skserve_slo_error_budget_remaining_ratio{slo}`.
    pub error_budget_remaining: GaugeVec,
    /// `skserve_slo_alert_firing{slo,severity}`: 1 while the multiwindow alert fires.
    pub alert_firing: GaugeVec,
}

impl SloGauges {
    fn new() -> Self {
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            GaugeVec::new(Opts::new(name, help), labels).expect("valid metric")
        };
        Self {
            objective: gauge(
                "skserve_slo_objective_ratio",
                "The objective of each SLO of slos.yaml, as a ratio of good events.",
                &["slo"],
            ),
            sli: gauge(
                "skserve_slo_sli_ratio",
                "Share of good events of each SLO over each window (the in-process engine's \
                 figure; NaN before any event).",
                &["slo", "window"],
            ),
            burn_rate: gauge(
                "skserve_slo_burn_rate",
                "How many times faster than its objective allows each SLO spends its error \
                 budget, over each window.",
                &["slo", "window"],
            ),
            error_budget_remaining: gauge(
                "skserve_slo_error_budget_remaining_ratio",
                "Share of the error budget of each SLO's window not yet spent at the current \
                 pace (1 minus the burn rate over the window; negative once overspent).",
                &["slo"],
            ),
            alert_firing: gauge(
                "skserve_slo_alert_firing",
                "1 while the multiwindow burn-rate alert of an SLO fires, by severity (page, \
                 ticket), as the in-process engine evaluates it.",
                &["slo", "severity"],
            ),
        }
    }

    fn collectors(&self) -> [Box<dyn prometheus::core::Collector>; 5] {
        [
            Box::new(self.objective.clone()),
            Box::new(self.sli.clone()),
            Box::new(self.burn_rate.clone()),
            Box::new(self.error_budget_remaining.clone()),
            Box::new(self.alert_firing.clone()),
        ]
    }

    /// Sets every gauge from an engine report.
    pub fn set(&self, report: &crate::slo::Report) {
        for slo in &report.slos {
            let name = slo.name.as_str();
            self.objective.with_label_values(&[name]).set(slo.objective);
            self.error_budget_remaining
                .with_label_values(&[name])
                .set(slo.error_budget_remaining);
            for window in &slo.windows {
                let labels = [name, window.window.as_str()];
                self.sli
                    .with_label_values(&labels)
                    .set(window.sli.unwrap_or(f64::NAN));
                self.burn_rate
                    .with_label_values(&labels)
                    .set(window.burn_rate);
            }
            for alert in &slo.alerts {
                self.alert_firing
                    .with_label_values(&[name, alert.severity.as_str()])
                    .set(if alert.firing { 1.0 } else { 0.0 });
            }
        }
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new(
                "skserve_http_requests_total",
                "HTTP requests answered, by route template, method and status code.",
            ),
            &["route", "method", "code"],
        )
        .expect("valid metric");
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "skserve_http_request_duration_seconds",
                "Time from receiving a request to its response being ready, by route template, \
                 method and status class (2xx, 4xx, 5xx).",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route", "method", "code_class"],
        )
        .expect("valid metric");
        let queue_wait = Histogram::with_opts(
            HistogramOpts::new(
                "skserve_http_queue_wait_seconds",
                "Time from a request's bytes reaching the server to its handler starting: the \
                 wait behind other connections, which grows first under overload.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
        )
        .expect("valid metric");
        let shed = IntCounterVec::new(
            Opts::new(
                "skserve_http_shed_total",
                "Requests answered 503 with Retry-After by load shedding, by reason \
                 (concurrency: --max-concurrency reached; queue_wait: the request waited longer \
                 than --max-queue-wait; connections: --max-connections reached).",
            ),
            &["reason"],
        )
        .expect("valid metric");
        let prediction_rows = IntCounterVec::new(
            Opts::new(
                "skserve_prediction_rows_total",
                "Rows predicted, by model name (a batch of N rows counts N).",
            ),
            &["model"],
        )
        .expect("valid metric");
        let build_info = IntGaugeVec::new(
            Opts::new(
                "skserve_build_info",
                "Always 1; the labels say which build of skserve is running.",
            ),
            &["version", "git_sha"],
        )
        .expect("valid metric");
        let model_info = IntGaugeVec::new(
            Opts::new(
                "skserve_model_info",
                "1 for each model name and the version of it being served, with its estimator, \
                 the scikit-learn version that saved it and the chain of steps before it \
                 (ColumnTransformer>LogisticRegression).",
            ),
            &["model", "version", "estimator", "sklearn_version", "chain"],
        )
        .expect("valid metric");
        let model_loaded_timestamp = GaugeVec::new(
            Opts::new(
                "skserve_model_loaded_timestamp_seconds",
                "Unix time at which the served version of each model was loaded.",
            ),
            &["model"],
        )
        .expect("valid metric");
        let model_refresh = IntCounterVec::new(
            Opts::new(
                "skserve_model_refresh_total",
                "Refresh attempts by model and outcome (updated, unchanged, failed).",
            ),
            &["model", "outcome"],
        )
        .expect("valid metric");
        let model_refresh_failures = IntCounterVec::new(
            Opts::new(
                "skserve_model_refresh_failures_total",
                "Failed refreshes by model and reason (download, refused, malformed, \
                 unsupported, too_large, shape, features); the last good model stays served.",
            ),
            &["model", "reason"],
        )
        .expect("valid metric");
        let auth_failures = IntCounterVec::new(
            Opts::new(
                "skserve_auth_failures_total",
                "Requests refused by authentication or authorization, by reason (missing, \
                 malformed, algorithm, unknown_key, signature, expired, not_yet_valid, lifetime, \
                 issuer, audience, keys_unavailable, email_unverified, not_allowed, \
                 client_address).",
            ),
            &["reason"],
        )
        .expect("valid metric");
        let requests_before_first_scrape = IntGauge::new(
            "skserve_requests_before_first_scrape",
            "Requests the SLOs count (user routes; 4xx other than 429 are not counted) answered \
             before /metrics was first scraped. A Prometheus starts a counter from its first \
             sample, so none of them is in its increase() or the fleet's SLOs. Fixed from the \
             first scrape on; 0 when the scrape came before any request.",
        )
        .expect("valid metric");
        let slo = SloGauges::new();
        let health = health::HealthMetrics::new();
        for collector in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(auth_failures.clone()),
            Box::new(http_duration.clone()),
            Box::new(queue_wait.clone()),
            Box::new(shed.clone()),
            Box::new(prediction_rows.clone()),
            Box::new(build_info.clone()),
            Box::new(model_info.clone()),
            Box::new(model_loaded_timestamp.clone()),
            Box::new(model_refresh.clone()),
            Box::new(model_refresh_failures.clone()),
            Box::new(requests_before_first_scrape.clone()),
        ]
        .into_iter()
        .chain(slo.collectors())
        .chain(health.collectors())
        {
            registry
                .register(collector)
                .expect("metric registered once");
        }
        #[cfg(target_os = "linux")]
        registry
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("process metrics registered once");
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION"), git_sha()])
            .set(1);
        for reason in SHED_REASONS {
            shed.with_label_values(&[reason]);
        }
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            registry,
            http_requests,
            http_duration,
            queue_wait,
            shed,
            prediction_rows,
            build_info,
            model_info,
            model_loaded_timestamp,
            model_refresh,
            model_refresh_failures,
            auth_failures,
            requests_before_first_scrape,
            slo,
            health,
        }
    }

    /// Exports 0 for the requests and latency of every `(route template, method)` the SLOs
    /// count (see "Series known in advance").
    pub fn start_requests_at_zero(&self, routes: &[(&str, &str)]) {
        for &(route, method) in routes {
            for code in CODES_KNOWN_IN_ADVANCE {
                self.http_requests
                    .with_label_values(&[route, method, &code.to_string()]);
                self.http_duration
                    .with_label_values(&[route, method, code_class(code)]);
            }
        }
    }

    /// Exports 0 for the refreshes of a model kept current from a file or object.
    pub fn start_refreshes_at_zero(&self, model: &str) {
        for outcome in REFRESH_OUTCOMES {
            self.model_refresh.with_label_values(&[model, outcome]);
        }
        for reason in REFRESH_FAILURE_REASONS {
            self.model_refresh_failures
                .with_label_values(&[model, reason]);
        }
    }

    /// Exports 0 for `reasons` of `skserve_auth_failures_total`.
    pub fn start_auth_failures_at_zero(&self, reasons: &[&str]) {
        for reason in reasons {
            self.auth_failures.with_label_values(&[reason]);
        }
    }

    /// Counts one answered request and its duration. The labelled handles are cached per
    /// thread, so the hot path is two atomic updates rather than two label lookups under a
    /// shared lock.
    pub fn observe_http(&self, route: &str, method: &'static str, status: u16, seconds: f64) {
        thread_local! {
            // Fx rather than SipHash: the key is a few words, hashed on every request, and
            // only this thread's own requests choose it.
            static HANDLES: RefCell<FxHashMap<HandleKey, RouteHandles>> =
                RefCell::new(FxHashMap::default());
        }
        let key = HandleKey {
            metrics: self.id,
            route: fnv1a(route.as_bytes()),
            method,
            status,
        };
        HANDLES.with(|handles| {
            let mut handles = handles.borrow_mut();
            let (cached_route, requests, duration) = handles.entry(key).or_insert_with(|| {
                (
                    route.into(),
                    self.http_requests
                        .with_label_values(&[route, method, &status.to_string()]),
                    self.http_duration
                        .with_label_values(&[route, method, code_class(status)]),
                )
            });
            if **cached_route == *route {
                requests.inc();
                duration.observe(seconds);
            } else {
                // Two templates with the same hash: correct, just uncached.
                self.http_requests
                    .with_label_values(&[route, method, &status.to_string()])
                    .inc();
                self.http_duration
                    .with_label_values(&[route, method, code_class(status)])
                    .observe(seconds);
            }
        });
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::with_capacity(8 * 1024);
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("encoding to memory cannot fail");
        String::from_utf8(buffer).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The route template a cached entry is for, and its two labelled metrics.
type RouteHandles = (Box<str>, IntCounter, Histogram);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct HandleKey {
    metrics: u64,
    route: u64,
    method: &'static str,
    status: u16,
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The commit skserve was built from: `SKSERVE_GIT_SHA` at build time (set by `build.rs` from
/// git, or by a packaging step), else `unknown`.
pub fn git_sha() -> &'static str {
    option_env!("SKSERVE_GIT_SHA").unwrap_or("unknown")
}

/// `2xx`, `4xx`… for the histogram's `code_class` label.
pub fn code_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_known_in_advance_are_exported_at_zero() {
        let metrics = Metrics::new();
        metrics.start_requests_at_zero(&[("/", "POST")]);
        metrics.start_refreshes_at_zero("m");
        metrics.start_auth_failures_at_zero(&["missing"]);
        let text = metrics.render();
        for zero in [
            r#"skserve_http_requests_total{code="503",method="POST",route="/"} 0"#,
            r#"skserve_http_requests_total{code="500",method="POST",route="/"} 0"#,
            r#"skserve_http_requests_total{code="200",method="POST",route="/"} 0"#,
            r#"skserve_http_request_duration_seconds_count{code_class="5xx",method="POST",route="/"} 0"#,
            r#"skserve_http_request_duration_seconds_bucket{code_class="2xx",method="POST",route="/",le="0.05"} 0"#,
            r#"skserve_http_shed_total{reason="queue_wait"} 0"#,
            r#"skserve_model_refresh_total{model="m",outcome="failed"} 0"#,
            r#"skserve_model_refresh_failures_total{model="m",reason="shape"} 0"#,
            r#"skserve_auth_failures_total{reason="missing"} 0"#,
        ] {
            assert!(text.contains(zero), "no {zero} in\n{text}");
        }
        assert!(
            !text.contains("code=\"404\""),
            "4xx are not known in advance"
        );
    }

    #[test]
    fn the_reasons_known_in_advance_are_those_the_service_counts() {
        use crate::auth::{AuthError, Refusal, TokenError};
        use crate::service::Overload;
        use std::time::Duration;
        let overloads = [
            Overload::Concurrency(1),
            Overload::QueueWait {
                waited: Duration::ZERO,
                limit: Duration::ZERO,
            },
            Overload::Connections(1),
        ];
        let sheds: Vec<&str> = overloads.iter().map(Overload::reason).collect();
        assert_eq!(sheds, SHED_REASONS);
        let tokens = [
            TokenError::Malformed(String::new()),
            TokenError::Algorithm(String::new()),
            TokenError::UnknownKey(String::new()),
            TokenError::Signature,
            TokenError::Expired,
            TokenError::NotYetValid,
            TokenError::TooLongLived,
            TokenError::Issuer,
            TokenError::Audience,
            TokenError::KeysUnavailable,
        ];
        let auth: Vec<&str> = std::iter::once(AuthError::Missing)
            .chain(tokens.into_iter().map(AuthError::Invalid))
            .chain([
                AuthError::Refused(Refusal::EmailUnverified),
                AuthError::Refused(Refusal::NotAllowed),
                AuthError::Address(String::new()),
            ])
            .map(|e| e.reason())
            .collect();
        assert_eq!(auth, AUTH_FAILURE_REASONS);
    }
}
