//! Who is handled now and who is shed, one rule for every protocol: a connection past
//! `--max-connections`, a request that waited longer than `--max-queue-wait` while a queue
//! stands, or one past `--max-concurrency` requests in flight is turned away at once, before
//! any other work. Latency and timeouts count from a request's arrival (`crate::server` stamps
//! it), so that the run-queue wait before the handler is the client's too.

use std::time::{Duration, Instant};

use axum::http::Extensions;
use tokio::sync::OwnedSemaphorePermit;

use super::App;
use crate::server::{Arrived, PastConnectionLimit};

/// Why a request was shed.
#[derive(Clone, Copy, Debug, thiserror::Error)]
pub enum Overload {
    #[error("the server is at its limit of {0} requests in flight")]
    Concurrency(usize),
    #[error(
        "the server is overloaded: the request waited {} ms to be handled, more than the {} ms allowed",
        waited.as_millis(),
        limit.as_millis()
    )]
    QueueWait { waited: Duration, limit: Duration },
    #[error("the server is at its limit of {0} open connections")]
    Connections(usize),
}

impl Overload {
    /// The `reason` label of `skserve_http_shed_total`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Concurrency(_) => "concurrency",
            Self::QueueWait { .. } => "queue_wait",
            Self::Connections(_) => "connections",
        }
    }
}

/// When a request reached the server, and how long it waited for its handler to start (now).
pub struct Arrival {
    pub arrived: Instant,
    pub handler_start: Instant,
    pub queue_wait: Duration,
}

/// The [`Arrival`] of a request with `extensions`, its wait recorded in
/// `skserve_http_queue_wait_seconds`.
pub fn arrival(app: &App, extensions: &Extensions) -> Arrival {
    let handler_start = Instant::now();
    let arrived = Arrived::of(extensions).map_or(handler_start, |arrived| arrived.at);
    let queue_wait = handler_start.saturating_duration_since(arrived);
    app.metrics.queue_wait.observe(queue_wait.as_secs_f64());
    Arrival {
        arrived,
        handler_start,
        queue_wait,
    }
}

/// A permit to be handled, or why not. REST requests and gRPC calls are admitted here alike:
/// one limit for both protocols.
pub fn admit(
    app: &App,
    extensions: &Extensions,
    now: Instant,
    queue_wait: Duration,
) -> Result<OwnedSemaphorePermit, Overload> {
    if let Some(PastConnectionLimit(limit)) = extensions.get() {
        return Err(Overload::Connections(*limit));
    }
    if let Some(queue) = &app.standing_queue
        && queue.should_shed(now, queue_wait)
    {
        return Err(Overload::QueueWait {
            waited: queue_wait,
            limit: queue.target(),
        });
    }
    app.admission
        .clone()
        .try_acquire_owned()
        .map_err(|_| Overload::Concurrency(app.limits.max_concurrency))
}
