//! Integration tests of the HTTP service: one binary, one file per area. Each test starts the
//! real server on 127.0.0.1:0 (`helpers::spawn_app`) and talks to it as a client; the shutdown
//! tests run the built binary.

mod helpers;
mod metrics;
mod seed;
mod shutdown;
mod v1;
mod v2;
mod validation;
