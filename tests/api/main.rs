//! Integration tests of the service over REST and gRPC: one binary, one file per area. Each
//! test starts the real server on 127.0.0.1:0 (`helpers::spawn_app`) and talks to it as a
//! client; the shutdown
//! and fault-injection tests run the built binary (`helpers::spawn_binary`). Area files import
//! only from `helpers`, never from each other.

// The area tests' futures nest deeply (servers, clients and helpers in one async block).
#![recursion_limit = "256"]

mod admin;
mod auth;
mod budget;
mod clients;
mod dicts;
mod families;
mod faults;
mod fuzz;
mod gbm;
mod gbm_files;
mod grpc;
mod half_close;
mod health;
mod health_profiles;
mod health_stats;
mod helpers;
mod keys_at_start;
mod metrics;
mod model_refresh;
mod multi_output;
mod named_tensors;
mod observer;
mod pipelines;
mod rules;
mod seed;
mod shed;
mod shutdown;
mod skops;
mod slo;
mod terraform;
mod text;
mod v1;
mod v2;
mod v2_binary;
mod validation;
