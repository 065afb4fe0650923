//! What a real Prometheus scrapes from skserve: the fleet view and the rules against the
//! instances' own engines (`fleet`), and the requests answered before the first scrape
//! (`first_scrape`). They compare counts that depend on when each scrape happens, so they run
//! in a binary of their own, after the API tests (cargo runs test binaries one after another),
//! and one Prometheus at a time ([`one_prometheus_at_a_time`]): no other test's load can delay
//! a scrape past its timeout and drop a sample.

// The area tests' futures nest deeply (servers, clients and helpers in one async block).
#![recursion_limit = "256"]

mod first_scrape;
mod fleet;
// The API tests' helpers, of which this binary uses a few.
#[allow(dead_code, unused_imports)]
#[path = "../api/helpers/mod.rs"]
mod helpers;
mod prometheus;

/// Held for the whole of a test that runs a Prometheus.
async fn one_prometheus_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// The window named `name` (`5m`, `30d`) of an SLO's figures.
pub fn window<'a>(slo: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    slo["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["window"] == name)
        .unwrap_or_else(|| panic!("no window {name} in {slo}"))
}
