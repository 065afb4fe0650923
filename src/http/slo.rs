//! The SLO endpoints: `GET /slo`, the dashboard (`crate::dashboard`); `GET /slo.json`, the
//! engine's report with the build and the models served; and the task that samples resident
//! memory and ticks the engine every [`TICK`].
//!
//! Access: `/slo`, `/slo.json` and `/metrics` are operator endpoints. They pass the same
//! `auth` checks as the API (every route but the health probes are checked), and nothing in
//! them depends on the listener they are served on, so that a later `--admin-listen` can serve
//! the three of them on a separate, private address instead.

use std::sync::LazyLock;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use super::AppState;
use crate::slo::{Report, TICK};

/// `GET /slo`: the dashboard, assembled once.
pub async fn dashboard() -> Response {
    static PAGE: LazyLock<String> = LazyLock::new(crate::dashboard::page);
    no_store(Html(PAGE.as_str()).into_response())
}

/// `GET /slo.json`: every SLO's figures now, the build, and the models served.
pub async fn figures(State(state): State<AppState>) -> Response {
    let models = state
        .registry
        .names()
        .into_iter()
        .filter_map(|name| state.registry.get(name))
        .map(|slot| {
            let model = slot.load();
            let loaded_at = state
                .metrics
                .model_loaded_timestamp
                .get_metric_with_label_values(&[model.name()])
                .ok()
                .map(|gauge| gauge.get());
            ModelFigures {
                name: model.name().to_owned(),
                version: model.version().to_owned(),
                estimator: model.model().estimator().name().to_owned(),
                loaded_at_unix_seconds: loaded_at,
            }
        })
        .collect();
    let figures = Figures {
        report: state.slo.report(),
        build: Build {
            version: env!("CARGO_PKG_VERSION"),
            git_sha: crate::metrics::git_sha(),
        },
        models,
    };
    no_store(Json(figures).into_response())
}

/// The figures change with every request: no cache may keep them.
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The body of `/slo.json`.
#[derive(Serialize)]
struct Figures {
    #[serde(flatten)]
    report: Report,
    build: Build,
    models: Vec<ModelFigures>,
}

#[derive(Serialize)]
struct Build {
    version: &'static str,
    git_sha: &'static str,
}

#[derive(Serialize)]
struct ModelFigures {
    name: String,
    version: String,
    estimator: String,
    loaded_at_unix_seconds: Option<f64>,
}

/// Samples resident memory for the memory SLO and moves pending events into the engine's
/// rings, now and every [`TICK`], until the task is aborted with the server.
pub async fn sample_periodically(state: AppState) {
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        // /proc is served from memory: reading it does not block like disk I/O.
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        match vm_rss_bytes(&status) {
            Some(rss) => state.slo.record_memory(rss),
            None => state.slo.tick(),
        }
    }
}

/// `VmRSS` of a `/proc/<pid>/status` text, in bytes.
fn vm_rss_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut fields = line.split_whitespace().skip(1);
    let value: u64 = fields.next()?.parse().ok()?;
    match fields.next() {
        Some("kB") => Some(value * 1024),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::vm_rss_bytes;

    #[test]
    fn resident_memory_is_read_from_proc_status() {
        let status = "Name:\tskserve\nVmPeak:\t  20000 kB\nVmRSS:\t   12345 kB\nThreads:\t3\n";
        assert_eq!(vm_rss_bytes(status), Some(12345 * 1024));
        assert_eq!(vm_rss_bytes("Name:\tx\n"), None);
        #[cfg(target_os = "linux")]
        assert!(vm_rss_bytes(&std::fs::read_to_string("/proc/self/status").unwrap()).unwrap() > 0);
    }
}
