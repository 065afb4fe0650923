//! The command line: subcommands and flags, each flag readable from an environment variable
//! (shown in `--help`). Parsing only; what the commands do lives in `commands`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Serve scikit-learn models over HTTP, loaded without executing them.
#[derive(Debug, Parser)]
#[command(name = "skserve", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once at start: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Predict every row of a CSV file (numbers, no header) and print `LABEL,SCORE` per row.
    Predict(PredictArgs),
    /// Describe a model file as JSON, with an audit of every global it references.
    Inspect(InspectArgs),
    /// Serve a model over HTTP: the seed's form API, the V2 (Open Inference) protocol and a
    /// KServe V1 endpoint with named features.
    Serve(ServeArgs),
    /// Service level objectives (monitoring/slos.yaml).
    #[command(subcommand)]
    Slo(SloCommand),
    /// Profile a model's training data: run the model over a CSV (as `predict --input` reads
    /// it) and write the distribution of every column and of the predictions, as JSON, the
    /// reference model health measures drift against.
    Profile(ProfileArgs),
}

#[derive(Debug, clap::Args)]
pub struct ProfileArgs {
    /// Model: a pickle or joblib file (any compression), or `gs://bucket/object`.
    #[arg(long, env = "SKSERVE_MODEL")]
    pub model: PathBuf,
    /// CSV of rows like the model's training data, read as `skserve predict --input` reads
    /// them (a header row of names when the model has them; empty or `nan` is missing); `-`
    /// reads standard input.
    #[arg(long, env = "SKSERVE_PROFILE_DATA")]
    pub data: PathBuf,
    /// Where to write the profile [default: the model's path with its extension replaced by
    /// `.profile.json`, where `skserve serve` finds it].
    #[arg(long, env = "SKSERVE_PROFILE_OUT")]
    pub out: Option<PathBuf>,
    /// Quantile bins of a numeric column (deciles by default); a column of at most 20
    /// distinct values gets a bin per value.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(2..=64))]
    pub bins: u16,
}

/// Whether model health is measured (`--health`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum HealthMode {
    On,
    Off,
}

#[derive(Debug, Subcommand)]
pub enum SloCommand {
    /// Print the Prometheus recording and alerting rules for the SLOs (as Sloth structures
    /// them): `skserve slo rules > monitoring/prometheus/skserve-slos.yaml`.
    Rules(SloRulesArgs),
}

#[derive(Debug, clap::Args)]
pub struct SloRulesArgs {
    /// slos.yaml to read instead of the one built into the binary.
    #[arg(long, env = "SKSERVE_SLO_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// Model: a pickle or joblib file (any compression), or `gs://bucket/object`.
    #[arg(long, env = "SKSERVE_MODEL")]
    pub model: PathBuf,
    /// CSV of feature rows, no header; `-` reads standard input.
    #[arg(long, env = "SKSERVE_INPUT")]
    pub input: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Model to describe, a file or `gs://bucket/object` (never executed, even when refused).
    #[arg(long, env = "SKSERVE_MODEL")]
    pub model: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Model to serve: a pickle or joblib file or `gs://bucket/object`, as `URI` or
    /// `NAME=URI`. Repeat it (or separate with commas) to serve several; the first is the
    /// default (the seed's `POST /`). Without it, the challenge model built into the binary.
    /// A `features.json` beside a file (a JSON array of column names) names its features.
    #[arg(long, env = "SKSERVE_MODEL", value_delimiter = ',')]
    pub model: Vec<String>,
    /// Name the first model is served under when it has no `NAME=` [default: the file stem,
    /// `pickle_model` for the built-in].
    #[arg(long, env = "SKSERVE_MODEL_NAME")]
    pub model_name: Option<String>,
    /// How often each model's file or object is checked for a new version (`60s`, `200ms`).
    #[arg(long, env = "SKSERVE_REFRESH_INTERVAL", default_value = "60s")]
    pub refresh_interval: String,
    /// Accept a new version whose feature count differs from the served one.
    #[arg(long, env = "SKSERVE_ALLOW_SHAPE_CHANGE")]
    pub allow_shape_change: bool,
    /// `true`: exit when a model cannot be loaded at start (download errors are retried a few
    /// times first). `false`: keep retrying; the server listens once every model is loaded.
    #[arg(long, env = "SKSERVE_REQUIRE_MODEL_AT_START", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub require_model_at_start: bool,
    /// SLO definitions (slos.yaml) to measure instead of the built-in monitoring/slos.yaml.
    #[arg(long, env = "SKSERVE_SLO_CONFIG")]
    pub slo_config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080, or 0.0.0.0:$PORT when PORT is set].
    #[arg(long, env = "SKSERVE_LISTEN")]
    pub listen: Option<String>,
    /// Address to serve V2 (Open Inference) over gRPC on, as HTTP/2 without TLS (h2c), e.g.
    /// `127.0.0.1:8081`; off unless given. Calls are checked, limited and measured as HTTP
    /// requests are.
    #[arg(long, env = "SKSERVE_GRPC_LISTEN")]
    pub grpc_listen: Option<String>,
    /// Allow a non-loopback --listen (or --grpc-listen) address although requests are not
    /// authenticated (and a non-loopback --admin-listen address, which never asks for a token).
    #[arg(long, env = "SKSERVE_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
    /// A second listener for operators and scrapers on the same machine (a Prometheus sidecar):
    /// `/metrics`, `/slo`, `/slo.json` and the health probes, without a token. `IP:PORT`, or
    /// `PORT` / `:PORT` for 127.0.0.1:PORT; a non-loopback address needs --insecure-no-auth.
    #[arg(long, env = "SKSERVE_ADMIN_LISTEN")]
    pub admin_listen: Option<String>,
    /// Base URL of a Prometheus-compatible query API holding every instance's metrics, for the
    /// fleet's SLOs on /slo: a Prometheus (`http://prometheus:9090`) or Cloud Monitoring's
    /// (`https://monitoring.googleapis.com/v1/projects/PROJECT/location/global/prometheus`,
    /// asked with an access token from Application Default Credentials).
    #[arg(long, env = "SKSERVE_FLEET_PROMETHEUS")]
    pub fleet_prometheus: Option<String>,
    /// How long the fleet's figures are kept before the query API is asked again.
    #[arg(long, env = "SKSERVE_FLEET_REFRESH_INTERVAL", default_value = "30s")]
    pub fleet_refresh_interval: String,
    /// Readiness (`/v2/health/ready`) waits until `/metrics` has been scraped once, for at
    /// most this long from start (`45s`): a Prometheus starts each counter from its first
    /// sample, so taken before traffic arrives it counts every request. `off` does not wait.
    /// The scraper must not itself wait for readiness (on Cloud Run: no `depends_on`).
    #[arg(long, env = "SKSERVE_READY_AFTER_FIRST_SCRAPE", default_value = "off")]
    pub ready_after_first_scrape: String,
    /// Model health: data quality and drift of every prediction against the model's reference
    /// (docs/operating.md#model-health). `off` counts nothing.
    #[arg(long, env = "SKSERVE_HEALTH", value_enum, default_value_t = HealthMode::On)]
    pub health: HealthMode,
    /// Without a profile, the first rows a model version serves become its reference; 0 uses
    /// none (then only what the model itself knows is checked).
    #[arg(long, env = "SKSERVE_HEALTH_REFERENCE_ROWS", default_value_t = 10_000)]
    pub health_reference_rows: usize,
    /// `NAME=PATH`: the reference profile of model NAME, a file or `gs://bucket/object`,
    /// instead of `NAME.profile.json` beside the model; repeatable.
    #[arg(long, env = "SKSERVE_PROFILE", value_delimiter = ',')]
    pub profile: Vec<String>,
    #[command(flatten)]
    pub auth: AuthArgs,
    /// Largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, env = "SKSERVE_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Most rows one request may ask to predict (more get 413).
    #[arg(long, env = "SKSERVE_MAX_BATCH_ROWS", default_value_t = 10_000)]
    pub max_batch_rows: usize,
    /// Most requests handled at once; beyond it a request is shed at once with 503 and
    /// `Retry-After` rather than queued (health probes are never shed) [default: 512 per CPU].
    #[arg(long, env = "SKSERVE_MAX_CONCURRENCY")]
    pub max_concurrency: Option<usize>,
    /// Queue wait (from a request's bytes reaching the server to its handler starting) beyond
    /// which requests are shed with 503 and `Retry-After`, once no request in a whole 100 ms
    /// interval waited less (a standing queue, not a burst); `off` never sheds on waiting.
    #[arg(long, env = "SKSERVE_MAX_QUEUE_WAIT", default_value = "25ms")]
    pub max_queue_wait: String,
    /// Most open connections, idle keep-alive ones included; a connection past it has its
    /// request answered 503 with `Retry-After` and is closed [default: 256 per CPU].
    #[arg(long, env = "SKSERVE_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Longest a client may take to send a request's headers (slowloris), or to start its next
    /// request on an idle keep-alive connection, before the connection is closed. Behind a proxy
    /// that reuses idle connections, set it above the proxy's idle timeout (Google's front end:
    /// 600 s).
    #[arg(long, env = "SKSERVE_HEADER_READ_TIMEOUT", default_value = "10s")]
    pub header_read_timeout: String,
    /// Longest a request may take before it is answered 503 (`30s`, `500ms`, `2m`).
    #[arg(long, env = "SKSERVE_REQUEST_TIMEOUT", default_value = "30s")]
    pub request_timeout: String,
    /// On SIGTERM or Ctrl-C, how long in-flight requests get to finish.
    #[arg(long, env = "SKSERVE_SHUTDOWN_GRACE", default_value = "10s")]
    pub shutdown_grace: String,
    /// Log format: `text` for people, `json` for Cloud Logging, `auto` picks text on a terminal.
    #[arg(long, env = "SKSERVE_LOG_FORMAT", default_value = "auto")]
    pub log_format: String,
    /// Log filter (tracing `EnvFilter` syntax). Access logs are at debug level:
    /// `info,skserve::access=debug` logs every request.
    #[arg(long, env = "SKSERVE_LOG", default_value = "info")]
    pub log_filter: String,
    /// Worker threads of the runtime [default: the number of CPUs].
    #[arg(long, env = "SKSERVE_WORKERS")]
    pub workers: Option<usize>,
}

/// Who may call `skserve serve`: ID tokens, allowed accounts, client address ranges.
#[derive(Debug, Clone, clap::Args)]
pub struct AuthArgs {
    /// How requests are authenticated: `google` (a Google-signed ID token in `Authorization:
    /// Bearer`) or `none` [default: google when --listen is not loopback, else none].
    #[arg(long = "auth", env = "SKSERVE_AUTH")]
    pub mode: Option<String>,
    /// Accepted `aud` of ID tokens; repeatable, required with --auth google. On Cloud Run:
    /// the service's URL.
    #[arg(
        long = "auth-audience",
        env = "SKSERVE_AUTH_AUDIENCE",
        value_delimiter = ','
    )]
    pub audiences: Vec<String>,
    /// Who may call, repeatable: an email, `*@DOMAIN` or `hd=DOMAIN` (Workspace domain); the
    /// email must be verified. Without it, any valid token for the audience.
    #[arg(long = "auth-allow", env = "SKSERVE_AUTH_ALLOW", value_delimiter = ',')]
    pub allow: Vec<String>,
    /// Clock skew tolerated on the tokens' `exp`, `iat` and `nbf`.
    #[arg(
        long = "auth-leeway",
        env = "SKSERVE_AUTH_LEEWAY",
        default_value = "60s"
    )]
    pub leeway: String,
    /// Where the token issuer publishes its signing keys (JWKS).
    #[arg(long = "auth-jwks-url", env = "SKSERVE_AUTH_JWKS_URL",
          default_value = crate::auth::GOOGLE_JWKS_URL)]
    pub jwks_url: String,
    /// Accepted `iss` of tokens, repeatable [default: accounts.google.com and
    /// https://accounts.google.com].
    #[arg(
        long = "auth-issuer",
        env = "SKSERVE_AUTH_ISSUER",
        value_delimiter = ','
    )]
    pub issuers: Vec<String>,
    /// Client address ranges let in, repeatable, IPv4 or IPv6 (`10.0.0.0/8`,
    /// `2001:db8::/32`); others get 403. Without it, any address.
    #[arg(long = "allow-cidr", env = "SKSERVE_ALLOW_CIDR", value_delimiter = ',')]
    pub allow_cidr: Vec<String>,
    /// Proxies in front of skserve that append the client address to `X-Forwarded-For`
    /// (1 on Cloud Run); the client is that many entries from the right. 0: the socket's peer.
    #[arg(long, env = "SKSERVE_TRUST_PROXY_HOPS", default_value_t = 0)]
    pub trust_proxy_hops: usize,
}
