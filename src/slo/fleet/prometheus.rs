//! Prometheus' HTTP query API (`/api/v1/query`, `/api/v1/query_range`) behind [`PromQl`], the
//! one trait the fleet view asks; a self-hosted Prometheus and Cloud Monitoring's PromQL
//! endpoint both speak it. Against `*.googleapis.com` every request carries an OAuth access
//! token from Application Default Credentials (`google-cloud-auth`: the metadata server on
//! Cloud Run, `GOOGLE_APPLICATION_CREDENTIALS` or `gcloud auth application-default login`
//! elsewhere), behind [`AccessTokens`] so that tests can stand in for Google.
//!
//! What must not live here: which PromQL to ask (`figures`), caching and staleness (`fleet`).
//! Errors are sentences naming the source, for the dashboard to show as they are; they never
//! hold a token.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::Deserialize;

/// A future of the fleet's queries.
pub type Answer<'a, T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send + 'a>>;

/// One element of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// One series of a range query: `(unix seconds, value)`, oldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub points: Vec<(f64, f64)>,
}

/// The span and resolution of a range query, in unix seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    pub start: f64,
    pub end: f64,
    pub step_seconds: u64,
}

/// A PromQL query API.
pub trait PromQl: Send + Sync + 'static {
    /// An instant query evaluated now.
    fn instant<'a>(&'a self, promql: &'a str) -> Answer<'a, Vec<Sample>>;
    /// A range query.
    fn range<'a>(&'a self, promql: &'a str, span: Span) -> Answer<'a, Vec<Series>>;
}

/// Where bearer tokens come from.
pub trait AccessTokens: Send + Sync + 'static {
    fn token(&self) -> Answer<'_, String>;
}

/// The scope Cloud Monitoring's PromQL API needs to read metrics.
const MONITORING_READ: &str = "https://www.googleapis.com/auth/monitoring.read";
/// The most of an answer read: the fleet's answers are a few kilobytes; a backend sending more
/// is not one to trust with memory.
const MAX_ANSWER_BYTES: usize = 8 << 20;

/// Access tokens from Application Default Credentials, built on first use (inside the runtime)
/// and cached by `google-cloud-auth` until shortly before they expire.
#[derive(Default)]
pub struct GoogleAdc {
    credentials: tokio::sync::OnceCell<google_cloud_auth::credentials::AccessTokenCredentials>,
}

impl AccessTokens for GoogleAdc {
    fn token(&self) -> Answer<'_, String> {
        Box::pin(async move {
            let credentials = self
                .credentials
                .get_or_try_init(|| async {
                    google_cloud_auth::credentials::Builder::default()
                        .with_scopes([MONITORING_READ])
                        .build_access_token_credentials()
                        .map_err(|e| format!("no Application Default Credentials: {e}"))
                })
                .await?;
            credentials
                .access_token()
                .await
                .map(|t| t.token)
                .map_err(|e| format!("cannot get an access token from the credentials: {e}"))
        })
    }
}

/// A Prometheus-compatible query API at a base URL (`http://127.0.0.1:9090`,
/// `https://monitoring.googleapis.com/v1/projects/P/location/global/prometheus`).
pub struct HttpPrometheus {
    client: reqwest::Client,
    base: String,
    tokens: Option<Box<dyn AccessTokens>>,
    timeout: Duration,
}

impl HttpPrometheus {
    /// Queries go to `base` (without a trailing `/api/v1`); with `tokens`, each carries
    /// `Authorization: Bearer`. `timeout` bounds each request, connection included.
    pub fn new(base: &str, tokens: Option<Box<dyn AccessTokens>>, timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .expect("the HTTP client's TLS backend initialises");
        Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            tokens,
            timeout,
        }
    }

    /// Google's API wants a token; any other source is asked as it is.
    pub fn for_url(base: &str, timeout: Duration) -> Self {
        let tokens: Option<Box<dyn AccessTokens>> =
            is_google_api(base).then(|| Box::new(GoogleAdc::default()) as Box<dyn AccessTokens>);
        Self::new(base, tokens, timeout)
    }

    /// POSTs the form to `path` and returns the `data` of a successful answer.
    async fn ask(&self, path: &str, form: &[(&str, String)]) -> Result<serde_json::Value, String> {
        let url = format!("{}{path}", self.base);
        let body = serde_urlencoded::to_string(form).map_err(|e| e.to_string())?;
        let mut request = self
            .client
            .post(&url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        if let Some(tokens) = &self.tokens {
            request = request.bearer_auth(tokens.token().await?);
        }
        let mut response = request.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(&e))?
        {
            if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(format!(
                    "{}: the answer is larger than {} MiB",
                    self.base,
                    MAX_ANSWER_BYTES >> 20
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        let answer: ApiAnswer = serde_json::from_slice(&bytes).map_err(|_| {
            format!(
                "{} answered {status} with a body that is not Prometheus' API JSON",
                self.base
            )
        })?;
        match answer {
            ApiAnswer {
                status: ref s,
                data: Some(data),
                ..
            } if s == "success" && status.is_success() => Ok(data),
            ApiAnswer {
                error, error_type, ..
            } => Err(format!(
                "{} answered {status}: {}{}",
                self.base,
                error_type.map_or_else(String::new, |t| format!("{t}: ")),
                error.unwrap_or_else(|| "no error message".into())
            )),
        }
    }
}

impl PromQl for HttpPrometheus {
    fn instant<'a>(&'a self, promql: &'a str) -> Answer<'a, Vec<Sample>> {
        Box::pin(async move {
            let data = self
                .ask("/api/v1/query", &[("query", promql.to_owned())])
                .await?;
            let vector: Vec<VectorElement> = self.result(data, "vector")?;
            Ok(vector
                .into_iter()
                .map(|e| Sample {
                    labels: e.metric,
                    value: number(&e.value.1),
                })
                .collect())
        })
    }

    fn range<'a>(&'a self, promql: &'a str, span: Span) -> Answer<'a, Vec<Series>> {
        Box::pin(async move {
            let form = [
                ("query", promql.to_owned()),
                ("start", format!("{:.3}", span.start)),
                ("end", format!("{:.3}", span.end)),
                ("step", span.step_seconds.to_string()),
            ];
            let data = self.ask("/api/v1/query_range", &form).await?;
            let matrix: Vec<MatrixElement> = self.result(data, "matrix")?;
            Ok(matrix
                .into_iter()
                .map(|e| Series {
                    labels: e.metric,
                    points: e.values.iter().map(|(t, v)| (*t, number(v))).collect(),
                })
                .collect())
        })
    }
}

impl HttpPrometheus {
    /// The `result` of an answer's `data`, which must be of `result_type`.
    fn result<T: serde::de::DeserializeOwned>(
        &self,
        data: serde_json::Value,
        result_type: &str,
    ) -> Result<Vec<T>, String> {
        match serde_json::from_value::<Data<T>>(data) {
            Ok(data) if data.result_type == result_type => Ok(data.result),
            _ => Err(format!("{}: the answer is not a {result_type}", self.base)),
        }
    }
}

/// Whether `url` is one of Google's APIs (`https://monitoring.googleapis.com/…`).
pub fn is_google_api(url: &str) -> bool {
    url.strip_prefix("https://")
        .and_then(|rest| rest.split(['/', ':']).next())
        .is_some_and(|host| host == "googleapis.com" || host.ends_with(".googleapis.com"))
}

impl HttpPrometheus {
    /// What went wrong on the way, in words: the innermost cause ("Connection refused") rather
    /// than reqwest's outer "error sending request".
    fn transport_error(&self, error: &reqwest::Error) -> String {
        if error.is_timeout() {
            return format!(
                "{}: no answer within {} s",
                self.base,
                self.timeout.as_secs_f64()
            );
        }
        let mut cause: &dyn std::error::Error = error;
        while let Some(inner) = cause.source() {
            cause = inner;
        }
        format!("{}: {cause}", self.base)
    }
}

/// A sample value as Prometheus writes it (`"1.5"`, `"NaN"`, `"+Inf"`).
fn number(text: &str) -> f64 {
    match text {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        _ => text.parse().unwrap_or(f64::NAN),
    }
}

#[derive(Deserialize)]
struct ApiAnswer {
    status: String,
    data: Option<serde_json::Value>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data<T> {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Vec<T>,
}

#[derive(Deserialize)]
struct VectorElement {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

#[derive(Deserialize)]
struct MatrixElement {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    values: Vec<(f64, String)>,
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode, Uri};
    use axum::routing::post;

    use super::*;

    /// What the test server saw: path, `Authorization`, form body.
    type Seen = Arc<Mutex<Vec<(String, Option<String>, String)>>>;

    /// A loopback server answering every query with `(status, body)`.
    async fn server(status: StatusCode, body: &'static str) -> (String, Seen) {
        let seen: Seen = Arc::default();
        let answer = move |State(seen): State<Seen>, uri: Uri, headers: HeaderMap, form: String| async move {
            let auth = headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned());
            seen.lock()
                .unwrap()
                .push((uri.path().to_owned(), auth, form));
            (status, body)
        };
        let app = Router::new()
            .route("/prom/api/v1/query", post(answer))
            .route("/prom/api/v1/query_range", post(answer))
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/prom/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (base, seen)
    }

    struct FixedToken;

    impl AccessTokens for FixedToken {
        fn token(&self) -> Answer<'_, String> {
            Box::pin(async { Ok("ya29.test".to_owned()) })
        }
    }

    const SECOND: Duration = Duration::from_secs(1);

    #[tokio::test]
    async fn an_instant_vector_is_read_with_its_labels_and_the_token_is_sent() {
        let (base, seen) = server(
            StatusCode::OK,
            r#"{"status":"success","data":{"resultType":"vector","result":[
                {"metric":{"skserve_fleet":"instances"},"value":[1700000000.5,"2"]},
                {"metric":{},"value":[1700000000.5,"NaN"]}]}}"#,
        )
        .await;
        let source = HttpPrometheus::new(&base, Some(Box::new(FixedToken)), SECOND);

        let samples = source.instant("count(up)").await.unwrap();

        assert_eq!(samples.len(), 2);
        assert_eq!(samples[0].labels["skserve_fleet"], "instances");
        assert_eq!(samples[0].value, 2.0);
        assert!(samples[1].value.is_nan());
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0].0, "/prom/api/v1/query");
        assert_eq!(seen[0].1.as_deref(), Some("Bearer ya29.test"));
        assert_eq!(seen[0].2, "query=count%28up%29");
    }

    #[tokio::test]
    async fn a_range_matrix_is_read_oldest_first() {
        let (base, seen) = server(
            StatusCode::OK,
            r#"{"status":"success","data":{"resultType":"matrix","result":[
                {"metric":{"skserve_fleet":"a"},"values":[[10,"1"],[20,"+Inf"]]}]}}"#,
        )
        .await;
        let source = HttpPrometheus::new(&base, None, SECOND);
        let span = Span {
            start: 10.0,
            end: 20.0,
            step_seconds: 10,
        };

        let series = source.range("x", span).await.unwrap();

        assert_eq!(series[0].points, [(10.0, 1.0), (20.0, f64::INFINITY)]);
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0].0, "/prom/api/v1/query_range");
        assert_eq!(seen[0].1, None, "no token unless asked for");
        assert_eq!(seen[0].2, "query=x&start=10.000&end=20.000&step=10");
    }

    #[tokio::test]
    async fn refusals_and_outages_are_sentences_naming_the_source() {
        let (base, _) = server(
            StatusCode::BAD_REQUEST,
            r#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#,
        )
        .await;
        let refused = HttpPrometheus::new(&base, None, SECOND)
            .instant("x{")
            .await
            .unwrap_err();
        assert!(
            refused.ends_with("answered 400 Bad Request: bad_data: parse error at char 3"),
            "{refused}"
        );

        let (base, _) = server(StatusCode::OK, "<html>a proxy's page</html>").await;
        let garbled = HttpPrometheus::new(&base, None, SECOND)
            .instant("x")
            .await
            .unwrap_err();
        assert!(garbled.contains("not Prometheus' API JSON"), "{garbled}");

        // A port nobody listens on.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let down = HttpPrometheus::new(&closed, None, SECOND)
            .instant("x")
            .await
            .unwrap_err();
        assert!(down.starts_with(&closed), "{down}");
        assert!(down.to_lowercase().contains("refused"), "{down}");
    }

    #[test]
    fn only_googles_apis_get_a_google_token() {
        assert!(is_google_api(
            "https://monitoring.googleapis.com/v1/projects/p/location/global/prometheus"
        ));
        assert!(!is_google_api("http://monitoring.googleapis.com/v1"));
        assert!(!is_google_api("https://googleapis.com.example.org/"));
        assert!(!is_google_api("http://127.0.0.1:9090"));
    }
}
