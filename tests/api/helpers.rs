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
