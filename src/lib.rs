//! skserve: scikit-learn models behind an HTTP endpoint, loaded without executing them.
//!
//! # Layout
//! From the top layer down; a module imports only from modules below it.
//! - [`commands`]: what each subcommand does, callable from tests.
//! - [`startup`]: the composition root: stores, registry, refreshers, SLO engine, listener.
//! - [`config`]: typed settings of `serve`, validated once; errors name the flag.
//! - [`cli`]: the command line (clap), every flag with its environment variable.
//! - [`grpc`]: V2 over gRPC (`--grpc-listen`): decodes calls, encodes answers.
//! - [`http`]: the router, one file per protocol (seed form, V2, V1), errors, observation.
//! - [`service`]: the state every request shares (models, limits, admission, SLOs, access,
//!   draining) and the one way a request reaches a model.
//! - [`dashboard`]: the built-in SLO page (`/slo`), its assets compiled in.
//! - [`server`]: the transport: accept loop, connection limits, lingering close, arrival.
//! - [`health`]: model health: data quality and drift of every prediction against the model's
//!   reference, as metrics, figures and the events of the model-health SLOs.
//! - [`inference`]: the one prediction path of every protocol and the CLI: inputs, row limits,
//!   outputs, explanations, and the observer that sees every prediction.
//! - [`auth`]: who may call: Google ID tokens checked in-process, allow-lists, CIDR rules.
//! - [`registry`]: the served models by name, swapped atomically, kept current; named features.
//! - [`metrics`]: every Prometheus metric, declared once.
//! - [`slo`]: SLOs from `slos.yaml`, the in-process SLO engine, the Prometheus rules, the first
//!   scrape that readiness may wait for.
//! - [`store`]: where model bytes come from (built-in, file, Cloud Storage).
//! - [`telemetry`]: logging as text or Cloud Logging JSON.
//! - [`backoff`]: jittered waits between retries.
//! - [`model`]: the only place that knows model files and scikit-learn (formats, safe loader,
//!   prediction).

pub mod auth;
pub mod backoff;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod grpc;
pub mod health;
pub mod http;
pub mod inference;
pub mod metrics;
pub mod model;
pub mod registry;
pub mod server;
pub mod service;
pub mod slo;
pub mod startup;
pub mod store;
pub mod telemetry;
