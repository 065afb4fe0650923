//! Everything the area files share, and the only module they import from: the two harnesses
//! (the service in-process, the built binary) returning one client type, the data and models
//! tests compare with, and the parts tests stand up around skserve.
//!
//! # Layout
//! - `answers`: the protocol fixtures and scikit-learn's answers, compared with any entry's.
//! - `app`: [`TestApp`], the client over a base URL; `spawn_app*`, the in-process harness.
//! - `browser`: headless Chromium on a page, and what it rendered.
//! - `binary`: `spawn_binary`, the built `skserve` as a process ([`ServerProcess`]).
//! - `data`: the seed's row, scikit-learn's answers, model files, request bodies.
//! - `flights`: the model-health fixture, its rows in every protocol, profiles, health figures.
//! - `wait`: polling what a server shows (versions, metrics) against a deadline.
//! - `load`: clients sending requests back to back through a fault.
//! - `raw`: HTTP/1.1 over a bare socket.
//! - `tensors`: tensors as bytes (the binary extension, gRPC's raw contents).
//! - `grpc`: gRPC clients of skserve, and calls held in flight.
//! - `issuer`: RSA test keys, a JWKS on 127.0.0.1, ID tokens.
//! - `gcs_emulator`: the real Cloud Storage emulator on a free port.
//! - `fault_proxy`: a TCP proxy that slows, stalls or cuts a dependency.

mod answers;
mod app;
mod binary;
mod browser;
mod data;
mod fault_proxy;
mod flights;
mod gcs_emulator;
mod grpc;
mod issuer;
mod load;
mod raw;
mod tensors;
mod wait;

pub use answers::*;
pub use app::{
    TestApp, json, spawn_app, spawn_app_observed, spawn_app_with, spawn_app_with_admin,
    spawn_app_with_grpc, spawn_app_with_model,
};
pub use binary::{ServerProcess, spawn_binary, spawn_binary_within};
pub use browser::{attribute, by_id, chromium, number, rendered};
pub use data::*;
pub use fault_proxy::{Fault, FaultProxy};
pub use flights::*;
pub use gcs_emulator::{BUCKET, GcsEmulator, OBJECT};
pub use grpc::*;
pub use issuer::{AUDIENCE, ISSUER, TestIssuer, TestKey, claims, now, spawn_app_with_auth};
pub use load::{Answer, Load};
pub use raw::{read_response, read_until_closed, start_request};
pub use tensors::*;
pub use wait::*;

/// The SLO named `name` in figures of `/slo.json` (this instance's, or its `fleet`'s).
pub fn slo<'a>(figures: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    figures["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no SLO {name} in {figures}"))
}

/// The value of one sample (`name{labels}`) in a Prometheus text exposition; 0 when absent.
pub fn sample(metrics: &str, sample: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' '))
        .map_or(0.0, |v| v.parse().unwrap())
}
