//! Every Prometheus metric skserve exports, declared once with its help text, in one registry
//! owned by the application (not a global, so tests can run several servers in a process).
//!
//! Labels are bounded: `route` is the route template (`/v2/models/{name}/infer`, never the raw
//! path; `unmatched` for unknown paths), `method` is one of the few HTTP methods, `code` the
//! status. Nothing here is on the critical path beyond a label lookup and an atomic add.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Latency buckets, in seconds. 0.05 and 0.4 are the latency SLO thresholds (a fast answer and
/// an acceptable one); the finer buckets below 5 ms show the service's own time, the coarse
/// ones above 1 s the timeouts.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 5.0, 10.0, 30.0,
];

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
    /// `skserve_prediction_rows_total{model}`.
    pub prediction_rows: IntCounterVec,
    /// `skserve_build_info{version,git_sha}`, always 1.
    pub build_info: IntGaugeVec,
    /// `skserve_model_info{model,version}`, 1 for the version being served.
    pub model_info: IntGaugeVec,
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
                "1 for each model name and the version of it being served.",
            ),
            &["model", "version"],
        )
        .expect("valid metric");
        for collector in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(prediction_rows.clone()),
            Box::new(build_info.clone()),
            Box::new(model_info.clone()),
        ] {
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
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            registry,
            http_requests,
            http_duration,
            prediction_rows,
            build_info,
            model_info,
        }
    }

    /// Counts one answered request and its duration. The labelled handles are cached per
    /// thread, so the hot path is two atomic updates rather than two label lookups under a
    /// shared lock.
    pub fn observe_http(&self, route: &str, method: &'static str, status: u16, seconds: f64) {
        thread_local! {
            static HANDLES: RefCell<HashMap<HandleKey, RouteHandles>> =
                RefCell::new(HashMap::new());
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
