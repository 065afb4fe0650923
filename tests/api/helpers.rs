//! Shared test fixtures: `spawn_app()` runs the real service in-process on 127.0.0.1:0 and
//! returns a [`TestApp`] with one method per endpoint; the scikit-learn reference data
//! (`model-files/x_test.csv`, `expected_test.csv`); float comparison. Logs stay quiet unless
//! `TEST_LOG` is set.

use std::path::{Path, PathBuf};
use std::sync::Once;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use reqwest::Response;
use serde_json::Value;
use skserve::config::{LogFormat, ModelSource, ServeSettings};
use skserve::http::Application;

/// The README's request: the seed's example row.
pub const README_X: &str =
    "[0,1,0,0,0,1,0,1,0,0,0,1,0,0,0,1,0,1,0,1,0,1,0,0,0,1,0,0,0,1,0,0,0,1,0,0,0]";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A model of the scikit-learn 1.3.2 fixture set, by file name.
pub fn fixture_model(file: &str) -> PathBuf {
    let path = repo()
        .join("tests/fixtures/legacy/sk1.3.2-np1.26/models")
        .join(file);
    assert!(path.exists(), "missing fixture {}", path.display());
    path
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
}

/// The built-in model with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(ServeSettings::default()).await
}

/// A model file served under its file stem.
pub async fn spawn_app_with_model(path: &Path) -> TestApp {
    spawn_app_with(ServeSettings {
        model: ModelSource::File(path.to_owned()),
        model_name: path.file_stem().unwrap().to_string_lossy().into_owned(),
        ..ServeSettings::default()
    })
    .await
}

pub async fn spawn_app_with(settings: ServeSettings) -> TestApp {
    static LOG: Once = Once::new();
    LOG.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            skserve::telemetry::init(LogFormat::Text, "debug").unwrap();
        }
    });
    let settings = ServeSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..settings
    };
    let app = Application::build(&settings)
        .await
        .expect("the application builds");
    let port = app.port();
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: reqwest::Client::new(),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// Any method, body and Content-Type (`None`: no header).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        let mut request = self
            .client
            .request(method.parse().unwrap(), self.url(path))
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request.send().await.expect("request")
    }

    /// `POST /` with a raw form body, as `curl -d` sends it.
    pub async fn post_seed_form(&self, body: &str) -> Response {
        self.send(
            "POST",
            "/",
            Some("application/x-www-form-urlencoded"),
            body.to_owned(),
        )
        .await
    }

    pub async fn server_metadata(&self) -> Response {
        self.get("/v2").await
    }

    pub async fn live(&self) -> Response {
        self.get("/v2/health/live").await
    }

    pub async fn ready(&self) -> Response {
        self.get("/v2/health/ready").await
    }

    pub async fn model_metadata(&self, name: &str) -> Response {
        self.get(&format!("/v2/models/{name}")).await
    }

    pub async fn model_ready(&self, name: &str) -> Response {
        self.get(&format!("/v2/models/{name}/ready")).await
    }

    pub async fn infer(&self, name: &str, request: &Value) -> Response {
        self.post_json(&format!("/v2/models/{name}/infer"), request)
            .await
    }

    pub async fn infer_version(&self, name: &str, version: &str, request: &Value) -> Response {
        self.post_json(
            &format!("/v2/models/{name}/versions/{version}/infer"),
            request,
        )
        .await
    }

    /// `POST /v1/models/{name}:predict` with a query string (`""` for none).
    pub async fn v1_predict(&self, name: &str, query: &str, request: &Value) -> Response {
        self.post_json(&format!("/v1/models/{name}:predict{query}"), request)
            .await
    }

    pub async fn metrics(&self) -> String {
        let response = self.get("/metrics").await;
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// `GET /slo.json`, parsed.
    pub async fn slo_json(&self) -> Value {
        let (status, body) = json(self.get("/slo.json").await).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn post_json(&self, path: &str, request: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(request)
            .send()
            .await
            .expect("POST")
    }
}

/// The status and the JSON body of a response.
pub async fn json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, value)
}

/// The value of one sample (`name{labels}`) in a Prometheus text exposition; 0 when absent.
pub fn sample(metrics: &str, sample: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' '))
        .map_or(0.0, |v| v.parse().unwrap())
}

/// Rows of `model-files/x_test.csv`.
pub fn x_test(n: usize) -> Vec<Vec<f64>> {
    read_csv("model-files/x_test.csv", n)
}

/// `(label, predict_proba[:, 1])` per row, as scikit-learn answered (`expected_test.csv`).
pub fn expected_test(n: usize) -> Vec<(i64, f64)> {
    read_csv("model-files/expected_test.csv", n)
        .into_iter()
        .map(|row| (row[0] as i64, row[1]))
        .collect()
}

fn read_csv(path: &str, n: usize) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(repo().join(path)).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .take(n)
        .map(|line| {
            line.trim_end_matches('\r')
                .split(',')
                .map(|v| v.parse().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), n, "{path} has fewer than {n} rows");
    rows
}

/// Relative closeness, for probabilities compared with scikit-learn's.
pub fn assert_close(actual: f64, expected: f64, what: &str) {
    let tolerance = 1e-12 * expected.abs().max(f64::MIN_POSITIVE);
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual} differs from scikit-learn's {expected}"
    );
}

/// A V2 inference request for rows, shape `[N, F]`.
pub fn v2_request(rows: &[Vec<f64>]) -> Value {
    serde_json::json!({
        "inputs": [{
            "name": "x",
            "shape": [rows.len(), rows[0].len()],
            "datatype": "FP64",
            "data": rows,
        }]
    })
}

/// Sends a seed request's headers with `Expect: 100-continue` and waits for `100 Continue`: from then on
/// the handler is running and waiting for the body, so the request is known to be in flight
/// without any timing.
pub async fn start_request(port: u16, body_len: usize) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {body_len}\r\nExpect: 100-continue\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).await.unwrap();
        assert_eq!(n, 1, "connection closed before 100 Continue");
        seen.push(byte[0]);
    }
    assert!(
        seen.starts_with(b"HTTP/1.1 100 Continue"),
        "{}",
        String::from_utf8_lossy(&seen)
    );
    stream
}

/// The built binary running `skserve serve` on a free loopback port. Its log (stderr) is read
/// all along, so the pipe never fills, and kept for assertions; with `TEST_LOG` set it is also
/// echoed. Killed if dropped while running.
pub struct ServerProcess {
    child: tokio::process::Child,
    pub port: u16,
    log: tokio::task::JoinHandle<Vec<String>>,
}

/// Starts `skserve serve --listen 127.0.0.1:0 --log-format json ARGS` with `env` added, and
/// waits for its "listening on" line.
pub async fn spawn_binary(args: &[&str], env: &[(&str, &str)]) -> ServerProcess {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_skserve"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(args)
        .envs(env.iter().copied())
        .env_remove("PORT")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the skserve binary starts");
    let echo = std::env::var_os("TEST_LOG").is_some();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let port = loop {
        let Some(line) = lines.next_line().await.unwrap() else {
            panic!("skserve exited before listening:\n{}", seen.join("\n"));
        };
        if echo {
            eprintln!("{line}");
        }
        let port = line
            .split("listening on http://127.0.0.1:")
            .nth(1)
            .map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next().unwrap());
        seen.push(line.clone());
        if let Some(port) = port {
            break port.parse().unwrap();
        }
    };
    let log = tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            if echo {
                eprintln!("{line}");
            }
            seen.push(line);
        }
        seen
    });
    ServerProcess { child, port, log }
}

impl ServerProcess {
    pub fn pid(&self) -> u32 {
        self.child.id().expect("skserve is still running")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn sigterm(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits (at most a minute) for the process to exit; returns its status and whole log.
    pub async fn exit(mut self) -> (std::process::ExitStatus, String) {
        let status = tokio::time::timeout(std::time::Duration::from_secs(60), self.child.wait())
            .await
            .expect("skserve did not exit")
            .unwrap();
        (status, self.log.await.unwrap().join("\n"))
    }
}
