//! Service level objectives: defined once in `slos.yaml`, measured in process, exported as
//! metrics, JSON and Prometheus rules.
//!
//! Nothing here knows HTTP requests or Prometheus' client library: the HTTP layer feeds the
//! engine one event per answered request and reads its [`Report`]; `metrics` turns the report
//! into gauges. The one outside party is the fleet view's query API, asked over HTTP from
//! `fleet::prometheus` only.
//!
//! # Layout
//! - [`spec`]: `slos.yaml` parsed and validated; the workbook's windows and alert pairs.
//! - [`ring`]: counts over a sliding window in time buckets of fixed memory.
//! - [`engine`]: rolling counts in fixed-size rings; SLIs, budgets, burn rates, alert states.
//! - [`memory`]: the resident-memory sampler that also ticks the engine.
//! - [`first_scrape`]: the first scrape of `/metrics`, the events answered before it, and the
//!   readiness that waits for it (`--ready-after-first-scrape`).
//! - [`rules`]: the Prometheus recording and alerting rules (`skserve slo rules`), and the
//!   PromQL of each SLO's events over the raw series.
//! - [`fleet`]: every SLO for the whole fleet, from a Prometheus-compatible query API.

pub mod engine;
pub mod first_scrape;
pub mod fleet;
pub mod memory;
pub mod ring;
pub mod rules;
pub mod spec;

pub use engine::{
    BudgetHistory, Clock, Counts, ManualClock, MonotonicClock, Outcome, Report, SloEngine,
    SloReport, Status, TICK, WindowReport, evaluate,
};
pub use first_scrape::{FirstScrape, FirstScrapeStatus};
pub use rules::prometheus_rules;
pub use spec::{EMBEDDED_SLOS_YAML, SloSpec, SpecError};
