//! The in-process harness: `spawn_app()` runs the real service in this process on 127.0.0.1:0
//! and returns a [`TestApp`], the client every test talks through. Logs stay quiet unless
//! `TEST_LOG` is set.

use std::path::Path;
use std::sync::Once;

use reqwest::Response;
use serde_json::Value;
use skserve::config::ServeSettings;
use skserve::startup::Application;
use skserve::store::ModelSource;
use skserve::telemetry::LogFormat;

/// A client of one running skserve, in-process or a binary, over its base URL: one method per
/// endpoint. Both harnesses return one ([`spawn_app`], and `ServerProcess` derefs to one).
pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// Where gRPC is served, when the server was started with `--grpc-listen`.
    pub grpc_port: Option<u16>,
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
    start(settings).await.0
}

/// The service with `--admin-listen 127.0.0.1:0` as well: a client of the serving address and
/// one of the admin address.
pub async fn spawn_app_with_admin(settings: ServeSettings) -> (TestApp, TestApp) {
    let (app, admin) = start(ServeSettings {
        admin_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..settings
    })
    .await;
    (app, admin.expect("an admin listener"))
}

/// The service with `observer` seeing every prediction.
pub async fn spawn_app_observed(
    settings: ServeSettings,
    observer: std::sync::Arc<dyn skserve::inference::Observer>,
) -> TestApp {
    start_observed(settings, Some(observer)).await.0
}

/// Builds and runs the service on 127.0.0.1:0; clients of its serving and admin addresses.
async fn start(settings: ServeSettings) -> (TestApp, Option<TestApp>) {
    start_observed(settings, None).await
}

async fn start_observed(
    settings: ServeSettings,
    observer: Option<std::sync::Arc<dyn skserve::inference::Observer>>,
) -> (TestApp, Option<TestApp>) {
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
    let app = match observer {
        Some(observer) => Application::build_observed(&settings, observer).await,
        None => Application::build(&settings).await,
    }
    .expect("the application builds");
    let port = app.port();
    let grpc_port = app.grpc_addr().map(|addr| addr.port());
    let admin = app.admin_addr().map(|a| TestApp::at(a.port()));
    tokio::spawn(app.run_until(std::future::pending()));
    let app = TestApp {
        grpc_port,
        ..TestApp::at(port)
    };
    (app, admin)
}

/// The built-in model with default settings, and gRPC on a free port too.
pub async fn spawn_app_with_grpc(settings: ServeSettings) -> TestApp {
    spawn_app_with(ServeSettings {
        grpc_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..settings
    })
    .await
}

impl TestApp {
    /// A client of the server at `127.0.0.1:port`.
    pub fn at(port: u16) -> Self {
        Self {
            address: format!("http://127.0.0.1:{port}"),
            port,
            grpc_port: None,
            client: reqwest::Client::new(),
        }
    }

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

    /// `POST /v2/models/{name}/infer` with a body of JSON and binary tensors; `header_length`
    /// is sent as `Inference-Header-Content-Length`.
    pub async fn infer_binary(
        &self,
        name: &str,
        body: Vec<u8>,
        header_length: Option<usize>,
    ) -> Response {
        let mut request = self
            .client
            .post(self.url(&format!("/v2/models/{name}/infer")))
            .header("content-type", "application/octet-stream")
            .body(body);
        if let Some(length) = header_length {
            request = request.header("inference-header-content-length", length.to_string());
        }
        request.send().await.expect("POST")
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

    /// `GET /metrics` with an ID token, for a server that checks them.
    pub async fn metrics_with_token(&self, token: &str) -> String {
        let response = self
            .client
            .get(self.url("/metrics"))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET /metrics");
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
