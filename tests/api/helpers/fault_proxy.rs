//! A TCP proxy on 127.0.0.1 that puts network faults between skserve and a dependency (the
//! Cloud Storage emulator, the JWKS server): added latency, stalls, cut connections. The fault
//! in force when a connection is accepted is the one it meets. Changing the fault resets every
//! connection open through the proxy, so pooled keep-alive connections meet the new fault too,
//! and a stall ends the way a recovering network ends one: with a reset.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Forward untouched.
    None,
    /// Wait this long before forwarding a new connection.
    Latency(Duration),
    /// Accept and never answer, until the fault changes or the client gives up.
    Stall,
    /// Close every connection at once, unanswered: the dependency looks down.
    Cut,
}

/// A running proxy; stops accepting when dropped.
pub struct FaultProxy {
    pub port: u16,
    fault: watch::Sender<Fault>,
    accepted: Arc<AtomicUsize>,
    accept_loop: JoinHandle<()>,
}

impl FaultProxy {
    /// Forwards to `127.0.0.1:upstream_port`, without a fault.
    pub async fn start(upstream_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (fault, faults) = watch::channel(Fault::None);
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        let accept_loop = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(forward(client, upstream_port, faults.clone()));
            }
        });
        Self {
            port,
            fault,
            accepted,
            accept_loop,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set(&self, fault: Fault) {
        self.fault.send_replace(fault);
    }

    /// Connections accepted so far, whatever became of them.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

async fn forward(mut client: TcpStream, upstream_port: u16, mut faults: watch::Receiver<Fault>) {
    let fault = *faults.borrow_and_update();
    match fault {
        Fault::Cut => return,
        Fault::Stall => {
            // Read and drop what the client sends, so it sees a live but silent peer.
            let mut sink = [0u8; 4096];
            loop {
                tokio::select! {
                    read = client.read(&mut sink) => if !matches!(read, Ok(n) if n > 0) { return },
                    _ = faults.changed() => return,
                }
            }
        }
        Fault::Latency(latency) => tokio::time::sleep(latency).await,
        Fault::None => {}
    }
    let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", upstream_port)).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
        _ = faults.changed() => {}
    }
}
