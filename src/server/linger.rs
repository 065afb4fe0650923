//! Lingering close: after its last response, a connection is shut for writing, then read and
//! the bytes thrown away until the client closes its side too, for a short while at most.
//!
//! Closing a socket that still has unread bytes makes the kernel send a reset instead of a FIN,
//! and a reset destroys what the client has not read yet: the response. That is the case
//! whenever the server answers before the whole request has arrived: a 503 to a connection past
//! `--max-connections` (answered as soon as its headers are read), a 413 to a body too large, a
//! shed whose body was never read. A client still sending its body would then see "connection
//! reset" instead of the answer it could act on. Web servers linger for this reason (Apache,
//! nginx's `lingering_close`); [`LingeringClose`] does it in `poll_shutdown`, which hyper awaits
//! before it drops the socket.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use super::io::write_through;

/// How long a closing connection waits for the client to close its side.
const LINGER_FOR: Duration = Duration::from_secs(2);

/// How many bytes a closing connection reads and throws away before it gives up on the client.
const LINGER_AT_MOST: usize = 1 << 20;

/// A socket whose shutdown lingers (see the module's documentation).
pub struct LingeringClose<S> {
    inner: S,
    closing: Option<Closing>,
}

struct Closing {
    write_side_shut: bool,
    deadline: Pin<Box<Sleep>>,
    thrown_away: usize,
}

impl<S> LingeringClose<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            closing: None,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for LingeringClose<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for LingeringClose<S> {
    write_through!(inner);

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let closing = this.closing.get_or_insert_with(|| Closing {
            write_side_shut: false,
            deadline: Box::pin(tokio::time::sleep(LINGER_FOR)),
            thrown_away: 0,
        });
        if !closing.write_side_shut {
            ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
            closing.write_side_shut = true;
        }
        let mut scratch = [0; 8192];
        while closing.thrown_away < LINGER_AT_MOST {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => closing.thrown_away += buf.filled().len(),
                // The client is gone: nothing left to protect.
                Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Pending => {
                    ready!(closing.deadline.as_mut().poll(cx));
                    return Poll::Ready(Ok(()));
                }
            }
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    async fn connected() -> (TcpStream, LingeringClose<TcpStream>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (client, LingeringClose::new(server))
    }

    #[tokio::test]
    async fn an_answer_sent_before_the_request_was_read_reaches_a_client_still_sending() {
        let (mut client, mut server) = connected().await;
        client.write_all(b"the head of a request").await.unwrap();
        server.write_all(b"refused").await.unwrap();
        let closing = tokio::spawn(async move { server.shutdown().await });
        let mut answer = [0; 7];
        client.read_exact(&mut answer).await.unwrap();
        // Bytes sent to a socket closed with unread ones would come back as a reset.
        client.write_all(b" and its body").await.unwrap();
        client.shutdown().await.unwrap();
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.unwrap();
        assert_eq!((&answer, rest.len()), (b"refused", 0));
        closing.await.unwrap().unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_never_closes_is_waited_for_only_so_long() {
        let (_client, mut server) = connected().await;
        server.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn a_client_that_keeps_sending_is_read_only_so_far() {
        let (mut client, mut server) = connected().await;
        let sending = tokio::spawn(async move {
            let chunk = vec![0; 64 * 1024];
            while client.write_all(&chunk).await.is_ok() {}
        });
        server.shutdown().await.unwrap();
        let thrown_away = server.closing.as_ref().unwrap().thrown_away;
        assert!((LINGER_AT_MOST..LINGER_AT_MOST + 8192).contains(&thrown_away));
        drop(server);
        sending.await.unwrap();
    }
}
