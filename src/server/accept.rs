//! The accept loop: one task per connection, served by hyper as HTTP/1.1 (the REST API, what
//! Cloud Run's front end and the V2 clients speak) or HTTP/2 with prior knowledge (gRPC), with
//! the guards a bare `axum::serve` lacks:
//! - a deadline on request headers (`--header-read-timeout`), so a client trickling a header a
//!   byte at a time (slowloris) is cut off instead of holding a connection for ever; over
//!   HTTP/2, a deadline on the connection's first bytes, and pings that find peers gone;
//! - a bound on open connections (`--max-connections`): a connection past it is still read, but
//!   marked [`PastConnectionLimit`] for the service to answer 503 (gRPC: `UNAVAILABLE`), and
//!   closed after that one request, on the thread that accepts, not behind admitted work, so
//!   that the answer is fast (`front_door`);
//! - half-closed clients answered: a client that shuts its sending side once its request is
//!   out (`nc -N`, HTTP/1.0 clients) still gets its response before the connection closes;
//! - a graceful stop: no new connections, idle ones closed, requests in flight finished.
//!
//! Each socket is [`ArrivalStamped`], so the service knows when its request reached the server,
//! and its close lingers ([`LingeringClose`]), so that an answer sent before the whole request
//! was read still reaches the client.

use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::{Body, Incoming};
use hyper::http::Extensions;
use hyper::server::conn::{http1, http2};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tower::Service;

use super::arrival::{ArrivalStamped, Arrivals};
use super::front_door::{FrontDoor, serve_on};
use super::linger::LingeringClose;

/// How connections are accepted and bounded.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionPolicy {
    pub protocol: Protocol,
    pub max_connections: usize,
    /// Connections being refused at once (see [`serve`]).
    pub max_refusals: usize,
    pub header_read_timeout: Duration,
}

/// What the connections of a listener speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1 (and 1.0).
    Http1,
    /// HTTP/2 with prior knowledge, no upgrade (h2c): what gRPC clients speak without TLS, and
    /// what Cloud Run sends to a port named `h2c`.
    Http2,
}

/// Who sent a request, and when it reached the server (see `arrival`). The transport does not
/// put it in the request's extensions, which would cost every request two allocations (the
/// value and the map) and a hash-table insertion: it makes it the thread's current arrival
/// while the service's `call` takes the request ([`Arrived::during`]), and the layers read it
/// there, in `call` and not in the future `call` returns ([`Arrived::of`]). A request made
/// outside the transport (as tests make them) may carry one as an extension instead.
#[derive(Clone, Copy, Debug)]
pub struct Arrived {
    pub peer: SocketAddr,
    pub at: Instant,
}

thread_local! {
    /// The arrival of the request whose service `call` runs on this thread, if any.
    static CURRENT: Cell<Option<Arrived>> = const { Cell::new(None) };
}

impl Arrived {
    /// The arrival of the request being handed to a service on this thread, else the one in
    /// its `extensions`.
    pub fn of(extensions: &Extensions) -> Option<Arrived> {
        CURRENT
            .get()
            .or_else(|| extensions.get::<Arrived>().copied())
    }

    /// Runs `call` (a service's `call`, which takes the request and returns its answer's
    /// future) with this as the current arrival, and then the one before again, even if
    /// `call` panics.
    pub fn during<R>(self, call: impl FnOnce() -> R) -> R {
        struct Restore(Option<Arrived>);
        impl Drop for Restore {
            fn drop(&mut self) {
                CURRENT.set(self.0);
            }
        }
        let _restore = Restore(CURRENT.replace(Some(self)));
        call()
    }
}

/// A request extension on connections accepted past `--max-connections`.
#[derive(Clone, Copy, Debug)]
pub struct PastConnectionLimit(pub usize);

/// What the transport can serve: any cloneable service of HTTP requests that always answers.
pub trait HttpService<B: ResponseBody>:
    Service<Request<Incoming>, Response = Response<B>, Error = Infallible, Future: Send>
    + Clone
    + Send
    + 'static
{
}

impl<S, B: ResponseBody> HttpService<B> for S where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible, Future: Send>
        + Clone
        + Send
        + 'static
{
}

/// A response body hyper can write.
pub trait ResponseBody:
    Body<Data: Send, Error: Into<Box<dyn std::error::Error + Send + Sync>>> + Send + 'static
{
}

impl<B> ResponseBody for B where
    B: Body<Data: Send, Error: Into<Box<dyn std::error::Error + Send + Sync>>> + Send + 'static
{
}

/// Serves `service` on `listener` until `shutdown` completes, then waits for every connection to
/// finish its request in flight (the caller bounds that wait). Accepting and refusing happen on
/// a [`FrontDoor`]; requests on admitted connections are served by the calling runtime.
pub async fn serve<S, B>(
    listener: TcpListener,
    service: S,
    policy: ConnectionPolicy,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()>
where
    S: HttpService<B>,
    B: ResponseBody,
{
    let workers = Handle::current();
    let door = match FrontDoor::start() {
        Ok(door) => door,
        Err(e) => {
            tracing::warn!(error = %e, "no front-door thread; accepting on the workers");
            accept(listener, service, policy, shutdown, None).await;
            return Ok(());
        }
    };
    let listener = listener.into_std()?;
    let accepting = door.spawn(async move {
        let listener = TcpListener::from_std(listener)?;
        accept(listener, service, policy, shutdown, Some(workers)).await;
        Ok(())
    });
    // The door stays open until accepting has ended, or until this future is dropped.
    accepting.await.map_err(io::Error::other)?
}

/// The accept loop. Admitted connections are served on `workers` (or here, when `None`);
/// refused ones always here.
async fn accept<S, B>(
    listener: TcpListener,
    service: S,
    policy: ConnectionPolicy,
    shutdown: impl Future<Output = ()>,
    workers: Option<Handle>,
) where
    S: HttpService<B>,
    B: ResponseBody,
{
    let open = Arc::new(Semaphore::new(policy.max_connections));
    // Connections past the limit are bounded too, or a flood of them would hold a task and a
    // descriptor each until its header deadline; past both, a connection is closed unread.
    let refusing = Arc::new(Semaphore::new(policy.max_refusals));
    let http = Builder::new(policy.protocol, policy.header_read_timeout, false);
    let http_once = Builder::new(
        policy.protocol,
        REFUSAL_HEADER_TIMEOUT.min(policy.header_read_timeout),
        true,
    );
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    pause_after_accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let accepted_at = Instant::now();
        // Small request/response pairs: no reason to wait for Nagle.
        let _ = tcp.set_nodelay(true);
        let admitted = open.clone().try_acquire_owned().ok();
        let past_limit = admitted
            .is_none()
            .then_some(PastConnectionLimit(policy.max_connections));
        let permit = match admitted {
            Some(permit) => permit,
            None => match refusing.clone().try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => {
                    tracing::debug!(%peer, "too many connections to refuse; closing one unread");
                    continue;
                }
            },
        };
        let connection = Connection {
            peer,
            accepted_at,
            past_limit,
            service: service.clone(),
            http: if past_limit.is_some() {
                http_once.clone()
            } else {
                http.clone()
            },
            graceful: graceful.watcher(),
            permit,
        };
        match &workers {
            Some(workers) if past_limit.is_none() => {
                serve_on(workers, tcp, move |tcp| connection.serve(tcp));
            }
            _ => {
                tokio::spawn(connection.serve(tcp));
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
}

/// How connections of one protocol are served, with their deadlines.
#[derive(Clone)]
enum Builder {
    Http1(http1::Builder),
    Http2 {
        builder: http2::Builder<TokioExecutor>,
        first_bytes_timeout: Duration,
        /// Closed after its first answer: a connection past the limit.
        once: bool,
    },
}

impl Builder {
    fn new(protocol: Protocol, header_read_timeout: Duration, once: bool) -> Self {
        match protocol {
            Protocol::Http1 => {
                let mut http = http1::Builder::new();
                http.timer(TokioTimer::new())
                    .header_read_timeout(header_read_timeout)
                    // Answer a client that shut its sending side after its request, instead
                    // of dropping its request as hyper does by default.
                    .half_close(true)
                    .keep_alive(!once);
                Self::Http1(http)
            }
            Protocol::Http2 => {
                let mut http = http2::Builder::new(TokioExecutor::new());
                // An idle HTTP/2 connection is a gRPC channel waiting for its next call, not a
                // client that went away: it stays open, and pings find the peers that are gone.
                http.timer(TokioTimer::new())
                    .keep_alive_interval(Some(header_read_timeout.max(HTTP2_PING_AT_LEAST)))
                    .keep_alive_timeout(HTTP2_PING_TIMEOUT);
                Self::Http2 {
                    builder: http,
                    first_bytes_timeout: header_read_timeout,
                    once,
                }
            }
        }
    }
}

/// HTTP/2 connections are pinged when idle this often at least, and closed when a ping goes
/// unanswered this long.
const HTTP2_PING_AT_LEAST: Duration = Duration::from_secs(10);
const HTTP2_PING_TIMEOUT: Duration = Duration::from_secs(20);

/// One accepted connection, before it is served.
struct Connection<S> {
    peer: SocketAddr,
    accepted_at: Instant,
    past_limit: Option<PastConnectionLimit>,
    service: S,
    http: Builder,
    graceful: Watcher,
    /// Its place under `--max-connections`, or among the refusals, until it closes.
    permit: OwnedSemaphorePermit,
}

impl<S> Connection<S> {
    /// Serves the connection's requests until it closes.
    async fn serve<B>(self, tcp: TcpStream)
    where
        S: HttpService<B>,
        B: ResponseBody,
    {
        let Self {
            peer,
            accepted_at,
            past_limit,
            service,
            http,
            graceful,
            permit: _permit,
        } = self;
        if let Builder::Http2 {
            first_bytes_timeout,
            ..
        } = &http
        {
            // HTTP/2 has no header deadline of its own: a client must at least start.
            match tokio::time::timeout(*first_bytes_timeout, tcp.readable()).await {
                Ok(Ok(())) => {}
                _ => return,
            }
        }
        let arrivals = Arrivals::new(accepted_at);
        let io = TokioIo::new(LingeringClose::new(ArrivalStamped::new(
            tcp,
            arrivals.clone(),
        )));
        // Only a refused HTTP/2 connection waits for its answer, to close after it.
        let answered =
            matches!(http, Builder::Http2 { once: true, .. }).then(|| Arc::new(Notify::new()));
        let answered_in_service = answered.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            if let Some(past_limit) = past_limit {
                request.extensions_mut().insert(past_limit);
            }
            let arrived = Arrived {
                peer,
                at: arrivals.latest(),
            };
            let answering = arrived.during(|| service.clone().call(request));
            let answered = answered_in_service.clone();
            async move {
                let response = answering.await;
                if let Some(answered) = answered {
                    answered.notify_one();
                }
                response
            }
        });
        let served = match http {
            Builder::Http1(http) => graceful.watch(http.serve_connection(io, service)).await,
            Builder::Http2 {
                builder,
                once: false,
                ..
            } => graceful.watch(builder.serve_connection(io, service)).await,
            Builder::Http2 {
                builder,
                once: true,
                ..
            } => {
                // Refused: the one answer, then GOAWAY (HTTP/1.1 says `Connection: close`).
                let connection = builder.serve_connection(io, service);
                tokio::pin!(connection);
                tokio::select! {
                    served = connection.as_mut() => served,
                    () = answered.as_ref().expect("a refused connection is waited for").notified() => {
                        connection.as_mut().graceful_shutdown();
                        connection.await
                    }
                }
            }
        };
        if let Err(e) = served {
            // Clients vanishing and header deadlines passing are routine, not faults.
            tracing::debug!(error = %e, "connection ended with an error");
        }
    }
}

/// How long a connection past the limit may take to send the request it will see refused.
const REFUSAL_HEADER_TIMEOUT: Duration = Duration::from_secs(1);

/// Connections the kernel completes before the accept loop takes them. The usual default (128)
/// overflows in a connection storm, and clients then wait a second for a SYN retry; the kernel
/// caps this at `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 1024;

/// A listening socket on `addr` (port 0 picks a free port), with [`LISTEN_BACKLOG`].
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // A restarted server can bind while the old one's connections linger in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// After a failed accept: connection-level errors concern one client and are skipped; anything
/// else (typically out of file descriptors) is logged, and accepting pauses so that closing
/// connections can free descriptors instead of the loop spinning.
async fn pause_after_accept_error(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept connections; pausing for 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrived(port: u16) -> Arrived {
        Arrived {
            peer: SocketAddr::from(([127, 0, 0, 1], port)),
            at: Instant::now(),
        }
    }

    #[test]
    fn an_arrival_is_current_only_while_the_call_takes_its_request() {
        let empty = Extensions::new();
        assert!(Arrived::of(&empty).is_none());
        let seen = arrived(1).during(|| {
            let inner = arrived(2).during(|| Arrived::of(&empty).map(|a| a.peer.port()));
            (inner, Arrived::of(&empty).map(|a| a.peer.port()))
        });
        assert_eq!(seen, (Some(2), Some(1)));
        assert!(Arrived::of(&empty).is_none());

        // A call that panics leaves no arrival behind.
        let panicked = std::panic::catch_unwind(|| arrived(3).during(|| panic!("in the call")));
        assert!(panicked.is_err());
        assert!(Arrived::of(&empty).is_none());

        // Outside the transport, the request's own extension.
        let mut extensions = Extensions::new();
        extensions.insert(arrived(4));
        assert_eq!(Arrived::of(&extensions).map(|a| a.peer.port()), Some(4));
        let port = arrived(5).during(|| Arrived::of(&extensions).map(|a| a.peer.port()));
        assert_eq!(port, Some(5));
    }
}
