//! The accept loop: one task per connection, served by hyper's HTTP/1.1 (what Cloud Run's front
//! end and the V2 clients speak), with three guards a bare `axum::serve` lacks:
//! - a deadline on request headers (`--header-read-timeout`), so a client trickling a header a
//!   byte at a time (slowloris) is cut off instead of holding a connection for ever;
//! - a bound on open connections (`--max-connections`): a connection past it is still read, but
//!   marked [`PastConnectionLimit`] for the service to answer 503 with `Retry-After`, and closed
//!   after that one request, on the thread that accepts, not behind admitted work, so that the
//!   answer is fast (`front_door`);
//! - a graceful stop: no new connections, idle ones closed, requests in flight finished.
//!
//! Each socket is [`ArrivalStamped`], so the service knows when its request reached the server,
//! and its close lingers ([`LingeringClose`]), so that an answer sent before the whole request
//! was read still reaches the client.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use hyper::body::{Body, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::Service;

use super::arrival::{ArrivalStamped, Arrivals};
use super::front_door::{FrontDoor, serve_on};
use super::linger::LingeringClose;

/// How connections are accepted and bounded.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionPolicy {
    pub max_connections: usize,
    /// Connections being refused at once (see [`serve`]).
    pub max_refusals: usize,
    pub header_read_timeout: Duration,
}

/// A request extension: when the request reached the server (see `arrival`).
#[derive(Clone, Copy, Debug)]
pub struct Arrived(pub Instant);

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
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(policy.header_read_timeout);
    let mut http_once = http.clone();
    http_once
        .keep_alive(false)
        .header_read_timeout(REFUSAL_HEADER_TIMEOUT.min(policy.header_read_timeout));
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

/// One accepted connection, before it is served.
struct Connection<S> {
    peer: SocketAddr,
    accepted_at: Instant,
    past_limit: Option<PastConnectionLimit>,
    service: S,
    http: hyper::server::conn::http1::Builder,
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
        let arrivals = Arrivals::new(accepted_at);
        let io = TokioIo::new(LingeringClose::new(ArrivalStamped::new(
            tcp,
            arrivals.clone(),
        )));
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            let extensions = request.extensions_mut();
            extensions.insert(ConnectInfo(peer));
            extensions.insert(Arrived(arrivals.latest()));
            if let Some(past_limit) = past_limit {
                extensions.insert(past_limit);
            }
            service.clone().call(request)
        });
        if let Err(e) = graceful.watch(http.serve_connection(io, service)).await {
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
