//! The transport: TCP connections in, HTTP/1.1 or HTTP/2 requests out to a service, with the
//! guards an SRE expects in front of any handler: a header deadline (slowloris), bounds on open
//! connections and on connections being refused, refusals answered on a thread of their own,
//! half-closed clients answered, lingering closes, arrival stamps, and a graceful stop. The REST
//! API and gRPC are served by the same code, each on a listener of its own.
//!
//! It serves any `tower::Service` of HTTP requests and knows nothing of routes, models or
//! protocols: those are `crate::http`'s. What the service learns from the transport:
//! [`Arrived`] (the peer, and when the request arrived), current while the service's `call`
//! takes the request, and [`PastConnectionLimit`], a request extension.
//!
//! # Layout
//! - `accept`: the accept loop, [`serve`] and [`bind`]; one task per connection.
//! - `front_door`: the thread that accepts, and refuses what is past the limits.
//! - `arrival`: when each request's bytes reached the server.
//! - `linger`: the lingering close that keeps early answers from being lost to resets.
//! - `standing_queue`: whether requests queue for good or in a passing burst (CoDel's rule),
//!   for the service's admission to act on.
//! - `io`: what the socket wrappers share.

mod accept;
mod arrival;
mod front_door;
mod io;
mod linger;
pub mod standing_queue;

pub use accept::{
    Arrived, ConnectionPolicy, HttpService, PastConnectionLimit, Protocol, ResponseBody, bind,
    serve,
};
pub use standing_queue::StandingQueue;
