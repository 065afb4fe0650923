//! skserve: scikit-learn models behind an HTTP endpoint, loaded without executing them.
//!
//! # Layout
//! - [`model`]: the only place that knows pickles and scikit-learn (safe loader, prediction).
//! - [`auth`]: who may call: Google ID tokens checked in-process, allow-lists, CIDR rules.
//! - [`cli`]: the command line (clap), every flag with its environment variable.
//! - [`commands`]: what each subcommand does, callable from tests.
//! - [`config`]: typed settings of `serve`, validated once; errors name the flag.
//! - [`registry`]: the served models by name, swappable atomically; named features.
//! - [`store`]: where model bytes come from (file, Cloud Storage), first load and refresh loop.
//! - [`http`]: the router, handlers (seed form, V2, V1), errors, `Application` and shutdown.
//! - [`metrics`]: every Prometheus metric, declared once.
//! - [`telemetry`]: logging as text or Cloud Logging JSON.
//! - [`slo`]: SLOs from `slos.yaml`, the in-process SLO engine, the Prometheus rules.
//! - [`dashboard`]: the built-in SLO page (`/slo`), its assets compiled in.

pub mod auth;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod http;
pub mod metrics;
pub mod model;
pub mod registry;
pub mod slo;
pub mod store;
pub mod telemetry;
