//! skserve: scikit-learn models behind an HTTP endpoint, loaded without executing them.
//!
//! # Layout
//! - [`model`]: the only place that knows pickles and scikit-learn (safe loader, prediction).
//! - [`cli`]: the command line (clap), every flag with its environment variable.
//! - [`commands`]: what each subcommand does, callable from tests.
//! - [`config`]: typed settings of `serve`, validated once; errors name the flag.
//! - [`registry`]: the served models by name, swappable atomically; named features.
//! - [`http`]: the router, handlers (seed form, V2, V1), errors, `Application` and shutdown.
//! - [`metrics`]: every Prometheus metric, declared once.
//! - [`telemetry`]: logging as text or Cloud Logging JSON.

pub mod cli;
pub mod commands;
pub mod config;
pub mod http;
pub mod metrics;
pub mod model;
pub mod registry;
pub mod telemetry;
