//! The front door: a thread of its own, with a small runtime, that accepts connections and
//! answers those past `--max-connections`; admitted connections go on to the runtime's workers.
//!
//! Shedding is only worth something if the refusal is fast, so that the client can back off or
//! go elsewhere at once. On the workers, the accept loop and every refused connection wait in
//! the run queue behind the admitted connections, which in a connection storm means hundreds
//! of ready tasks per worker: a 503 took 10–25 ms from the accept, more from the connect. A
//! thread that mostly sleeps is run by the operating system's scheduler as soon as it wakes,
//! so accepting and refusing wait only for that.

use std::future::Future;
use std::io;

use tokio::net::TcpStream;
use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A single-threaded runtime on a thread of its own, stopped when dropped.
pub struct FrontDoor {
    runtime: Handle,
    stop: Option<oneshot::Sender<()>>,
}

impl FrontDoor {
    pub fn start() -> io::Result<Self> {
        let runtime = Builder::new_current_thread()
            .enable_all()
            .thread_name("skserve-front-door")
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("skserve-front-door".into())
            .spawn(move || {
                // Whatever is still open when the door closes is dropped with the runtime:
                // the listener and refused connections, which are closed.
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })?;
        Ok(Self {
            runtime: handle,
            stop: Some(stop),
        })
    }

    /// Runs `task` on the front door's thread.
    pub fn spawn<T>(&self, task: T) -> JoinHandle<T::Output>
    where
        T: Future + Send + 'static,
        T::Output: Send + 'static,
    {
        self.runtime.spawn(task)
    }
}

/// Moves `tcp` to `runtime` and serves it there with `serve`. A socket belongs to the reactor
/// of the runtime that registered it: it is released here and registered again over there.
pub fn serve_on<F, Served>(runtime: &Handle, tcp: TcpStream, serve: F)
where
    F: FnOnce(TcpStream) -> Served + Send + 'static,
    Served: Future<Output = ()> + Send + 'static,
{
    let tcp = match tcp.into_std() {
        Ok(tcp) => tcp,
        Err(e) => {
            tracing::debug!(error = %e, "cannot release a connection from its runtime");
            return;
        }
    };
    runtime.spawn(async move {
        match TcpStream::from_std(tcp) {
            Ok(tcp) => serve(tcp).await,
            Err(e) => tracing::debug!(error = %e, "cannot register a connection with a runtime"),
        }
    });
}

impl Drop for FrontDoor {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn a_connection_moved_to_the_door_is_served_on_its_thread() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move {
            let mut client = TcpStream::connect(addr).await.unwrap();
            client.write_all(b"ping").await.unwrap();
            let mut answer = String::new();
            client.read_to_string(&mut answer).await.unwrap();
            answer
        });
        let (tcp, _) = listener.accept().await.unwrap();
        let door = FrontDoor::start().unwrap();
        serve_on(&door.runtime, tcp, |mut tcp| async move {
            let mut ping = [0; 4];
            tcp.read_exact(&mut ping).await.unwrap();
            let thread = std::thread::current().name().unwrap_or("").to_owned();
            tcp.write_all(format!("{} on {thread}", String::from_utf8_lossy(&ping)).as_bytes())
                .await
                .unwrap();
        });
        assert_eq!(client.await.unwrap(), "ping on skserve-front-door");
    }

    #[tokio::test]
    async fn connections_left_on_a_closed_door_are_closed() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (tcp, _) = listener.accept().await.unwrap();
        let door = FrontDoor::start().unwrap();
        serve_on(&door.runtime, tcp, |tcp| async move {
            let _held = tcp;
            std::future::pending::<()>().await;
        });
        drop(door);
        let mut rest = Vec::new();
        assert_eq!(client.read_to_end(&mut rest).await.unwrap(), 0);
    }
}
