//! V2 (Open Inference) over gRPC: `inference.GRPCInferenceService` as Triton, KServe and
//! MLServer serve it, and gRPC's health checks, on `--grpc-listen` (off unless given). Served by
//! the same transport as REST (`crate::server`, as HTTP/2 with prior knowledge), over the same
//! state (`crate::service::AppState`: models, limits, access checks, SLOs) and the same
//! inference (`crate::service::App::infer`), so a model answers alike whichever protocol asks.
//!
//! What must not live here: model logic (`crate::inference`, `crate::model`), sockets
//! (`crate::server`), REST (`crate::http`).
//!
//! # Layout
//! - `generated`: the messages and stubs generated from `proto/` (checked in).
//! - `observe`: [`GrpcService`], what every call passes: shedding, access checks, the timeout,
//!   metrics, SLO events, access logs; then the call.
//! - `service`: the calls themselves.
//! - `tensors`: request and response messages to and from `crate::inference`.
//! - `status`: errors as gRPC statuses, and statuses as the metrics and SLOs count them.

pub mod generated;
mod observe;
mod service;
mod status;
mod tensors;

pub use observe::GrpcService;
