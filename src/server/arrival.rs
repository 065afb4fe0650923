//! When a request reached the server, as opposed to when its handler started.
//!
//! Between the two lies the wait in the runtime's run queue: under overload, a connection whose
//! bytes have arrived waits behind every other ready connection before hyper even reads them.
//! That wait is invisible to a timer started in the handler, yet it is what the client feels and
//! what shedding must act on. [`ArrivalStamped`] wraps a connection's socket and the waker the
//! socket is registered with: the moment the I/O driver reports the socket readable is stamped,
//! and when the read that follows returns bytes, that stamp becomes the arrival time of the
//! request being read ([`Arrivals::latest`]).
//!
//! Only reads are watched: a response waiting on a full send buffer is not queueing in the server.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::io::write_through;

/// The process-wide origin of the stamps, so that an `Instant` fits an atomic. A minute before
/// first use, so that an instant taken just before it (an accept) still fits.
fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(|| {
        let now = Instant::now();
        now.checked_sub(Duration::from_secs(60)).unwrap_or(now)
    })
}

/// Nanoseconds since [`origin`], plus one so that 0 can mean "no stamp" (u64 lasts 584 years).
fn stamp(at: Instant) -> u64 {
    at.saturating_duration_since(origin()).as_nanos() as u64 + 1
}

fn instant_of(stamp: u64) -> Instant {
    origin() + Duration::from_nanos(stamp.saturating_sub(1))
}

/// The arrival clock of one connection, shared by its socket wrapper and its request service.
#[derive(Debug)]
pub struct Arrivals {
    /// When the socket last became readable while the connection waited for bytes; 0 when the
    /// connection has not waited since the last read.
    readable_at: AtomicU64,
    /// The arrival of the bytes most recently read: the request hyper is parsing now.
    latest: AtomicU64,
    /// The connection task's own waker, woken after the stamp is taken.
    task: Mutex<Option<Waker>>,
}

impl Arrivals {
    /// A clock for a connection accepted at `accepted_at`: its first request waited from then.
    pub fn new(accepted_at: Instant) -> Arc<Self> {
        let accepted = stamp(accepted_at);
        Arc::new(Self {
            readable_at: AtomicU64::new(accepted),
            latest: AtomicU64::new(accepted),
            task: Mutex::new(None),
        })
    }

    /// When the request being handled on this connection reached the server.
    pub fn latest(&self) -> Instant {
        instant_of(self.latest.load(Ordering::Relaxed))
    }
}

impl Wake for Arrivals {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Keep the first stamp: a second wake before the read does not make the bytes newer.
        let _ = self.readable_at.compare_exchange(
            0,
            stamp(Instant::now()),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            task.wake();
        }
    }
}

/// A socket whose reads record when their bytes arrived (see the module docs).
#[derive(Debug)]
pub struct ArrivalStamped<S> {
    inner: S,
    arrivals: Arc<Arrivals>,
    /// `arrivals` as a waker, made once per connection.
    stamping_waker: Waker,
}

impl<S> ArrivalStamped<S> {
    pub fn new(inner: S, arrivals: Arc<Arrivals>) -> Self {
        Self {
            inner,
            stamping_waker: Waker::from(arrivals.clone()),
            arrivals,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ArrivalStamped<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        {
            let mut task = this.arrivals.task.lock().unwrap_or_else(|e| e.into_inner());
            if !task.as_ref().is_some_and(|t| t.will_wake(cx.waker())) {
                *task = Some(cx.waker().clone());
            }
        }
        let filled_before = buf.filled().len();
        let stamped_before = this.arrivals.readable_at.load(Ordering::Relaxed);
        let mut stamping = Context::from_waker(&this.stamping_waker);
        let polled = Pin::new(&mut this.inner).poll_read(&mut stamping, buf);
        match &polled {
            Poll::Ready(Ok(())) if buf.filled().len() > filled_before => {
                // Bytes already waiting when the task asked (pipelining, or a request that came
                // while the last answer was written) arrived no later than now.
                let readable_at = this.arrivals.readable_at.swap(0, Ordering::Relaxed);
                let arrived = match readable_at {
                    0 => stamp(Instant::now()),
                    at => at,
                };
                this.arrivals.latest.store(arrived, Ordering::Relaxed);
            }
            Poll::Pending => {
                // A stamp that brought no bytes (the accept, a spurious wake) is stale: the
                // bytes still to come will be stamped when they wake the task.
                if stamped_before != 0 {
                    let _ = this.arrivals.readable_at.compare_exchange(
                        stamped_before,
                        0,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                }
            }
            Poll::Ready(_) => {
                this.arrivals.readable_at.store(0, Ordering::Relaxed);
            }
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ArrivalStamped<S> {
    write_through!(inner);

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;

    /// A socket whose bytes come when the test says, waking its reader as the I/O driver would.
    #[derive(Default)]
    struct Scripted {
        has_bytes: Arc<AtomicBool>,
        reader: Arc<Mutex<Option<Waker>>>,
    }

    impl AsyncRead for Scripted {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            if self.has_bytes.swap(false, Ordering::SeqCst) {
                buf.put_slice(b"GET / HTTP/1.1\r\n");
                Poll::Ready(Ok(()))
            } else {
                *self.reader.lock().unwrap() = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    fn read(stream: &mut ArrivalStamped<Scripted>) -> Poll<io::Result<()>> {
        let mut bytes = [0u8; 64];
        let mut buf = ReadBuf::new(&mut bytes);
        Pin::new(stream).poll_read(&mut Context::from_waker(Waker::noop()), &mut buf)
    }

    #[test]
    fn a_request_arrives_when_its_socket_became_readable_not_when_it_was_read() {
        let arrivals = Arrivals::new(Instant::now());
        let socket = Scripted::default();
        let (has_bytes, reader) = (socket.has_bytes.clone(), socket.reader.clone());
        let mut stream = ArrivalStamped::new(socket, arrivals.clone());
        assert!(read(&mut stream).is_pending());

        // Bytes come and the driver wakes the task, which then waits its turn to run.
        has_bytes.store(true, Ordering::SeqCst);
        let before_wake = Instant::now();
        reader.lock().unwrap().take().unwrap().wake();
        let after_wake = Instant::now();
        std::thread::sleep(Duration::from_millis(30));
        assert!(read(&mut stream).is_ready());

        let arrived = arrivals.latest();
        assert!(before_wake <= arrived && arrived <= after_wake);
    }

    #[test]
    fn the_first_request_arrives_no_later_than_its_connection_was_accepted() {
        let accepted = Instant::now() - Duration::from_millis(10);
        let arrivals = Arrivals::new(accepted);
        let socket = Scripted::default();
        socket.has_bytes.store(true, Ordering::SeqCst);
        let mut stream = ArrivalStamped::new(socket, arrivals.clone());

        assert!(read(&mut stream).is_ready());

        assert!(arrivals.latest().duration_since(accepted) < Duration::from_micros(1));
    }

    #[test]
    fn bytes_already_waiting_arrive_when_read() {
        let arrivals = Arrivals::new(Instant::now() - Duration::from_secs(1));
        let socket = Scripted::default();
        let has_bytes = socket.has_bytes.clone();
        let mut stream = ArrivalStamped::new(socket, arrivals.clone());
        has_bytes.store(true, Ordering::SeqCst);
        assert!(read(&mut stream).is_ready());

        // A second request already buffered, read without the task ever waiting.
        has_bytes.store(true, Ordering::SeqCst);
        let before = Instant::now();
        assert!(read(&mut stream).is_ready());

        assert!(arrivals.latest() >= before);
    }
}
