//! Load for tests that need traffic throughout a fault: clients sending requests back to back,
//! every answer kept with what it met.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde_json::Value;
use tokio::task::JoinHandle;

/// What one client request met: the status (`None`: no answer at all), `X-Model-Version`,
/// the body unless it was a 200 (or the transport error), and when it ended.
#[derive(Debug)]
pub struct Answer {
    pub status: Option<u16>,
    pub version: Option<String>,
    pub body: String,
    pub ended: Instant,
}

impl Answer {
    pub async fn of(sent: reqwest::Result<reqwest::Response>) -> Self {
        let response = match sent {
            Ok(response) => response,
            Err(e) => return Self::failed(e),
        };
        let status = response.status().as_u16();
        let version = response
            .headers()
            .get("x-model-version")
            .map(|v| v.to_str().unwrap().to_owned());
        match response.text().await {
            Ok(text) => Self {
                status: Some(status),
                version,
                body: if status == 200 { String::new() } else { text },
                ended: Instant::now(),
            },
            Err(e) => Self::failed(e),
        }
    }

    pub fn failed(error: reqwest::Error) -> Self {
        Self {
            status: None,
            version: None,
            body: format!("{error:?}"),
            ended: Instant::now(),
        }
    }

    /// The `{"error": …}` body of a refusal, which must be JSON with a non-empty message.
    pub fn error(&self) -> Value {
        let body: Value = serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "a {:?} answer is not JSON ({e}): {}",
                self.status, self.body
            )
        });
        assert!(
            body["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        body
    }
}

/// Clients sending requests back to back until stopped, every answer kept.
pub struct Load {
    stop: Arc<AtomicBool>,
    clients: Vec<JoinHandle<Vec<Answer>>>,
}

impl Load {
    /// `clients` tasks, each with its own connection pool, each sending `request` in a loop.
    pub fn start(
        clients: usize,
        request: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync + 'static,
    ) -> Self {
        let request = Arc::new(request);
        let stop = Arc::new(AtomicBool::new(false));
        let clients = (0..clients)
            .map(|_| {
                let (request, stop) = (request.clone(), stop.clone());
                tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    let mut answers = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        answers.push(Answer::of(request(&client).send().await).await);
                    }
                    answers
                })
            })
            .collect();
        Self { stop, clients }
    }

    pub async fn stop(self) -> Vec<Answer> {
        self.stop.store(true, Ordering::Relaxed);
        let mut answers = Vec::new();
        for client in self.clients {
            answers.extend(client.await.unwrap());
        }
        answers
    }
}
