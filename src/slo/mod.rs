//! Service level objectives: defined once in `slos.yaml`, measured in process, exported as
//! metrics, JSON and Prometheus rules.
//!
//! Nothing here knows HTTP or Prometheus' client: the HTTP layer feeds the engine one event
//! per answered request and reads its [`Report`]; `metrics` turns the report into gauges.
//!
//! # Layout
//! - [`spec`]: `slos.yaml` parsed and validated; the workbook's windows and alert pairs.
//! - [`engine`]: rolling counts in fixed-size rings; SLIs, budgets, burn rates, alert states.
//! - [`memory`]: the resident-memory sampler that also ticks the engine.
//! - [`rules`]: the Prometheus recording and alerting rules (`skserve slo rules`).

pub mod engine;
pub mod memory;
pub mod rules;
pub mod spec;

pub use engine::{Clock, ManualClock, MonotonicClock, Outcome, Report, SloEngine, TICK};
pub use rules::prometheus_rules;
pub use spec::{EMBEDDED_SLOS_YAML, SloSpec, SpecError};
