//! The command line: subcommands and flags, each flag readable from an environment variable
//! (shown in `--help`). Parsing only, and typed: enums and durations are parsed here by clap,
//! so that a bad value is refused naming its flag before anything starts. What the commands do
//! lives in `commands`; how settings fit together is checked in `config`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::telemetry::LogFormat;

use crate::model::{LoadLimits, budget::DEFAULT_MAX_MODEL_BYTES};

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
    #[command(flatten)]
    pub load: LoadArgs,
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
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Model to describe, a file or `gs://bucket/object` (never executed, even when refused).
    #[arg(long, env = "SKSERVE_MODEL")]
    pub model: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
}

/// How large a model may be to load, for every command that loads one.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct LoadArgs {
    /// The most memory loading one model may take: the file, its decompressed stream, the
    /// values decoded from it and the model built from them (`256MiB`, `1GiB`, or bytes). A
    /// model that needs more is refused (exit 2; a refresh keeps the model it serves) [default:
    /// 256MiB, half the 512 MiB Cloud Run instance of terraform/].
    #[arg(long, env = "SKSERVE_MAX_MODEL_BYTES", value_parser = parse_byte_size,
          default_value_t = DEFAULT_MAX_MODEL_BYTES, hide_default_value = true)]
    pub max_model_bytes: u64,
}

impl LoadArgs {
    pub fn limits(&self) -> LoadLimits {
        LoadLimits {
            max_model_bytes: self.max_model_bytes,
        }
    }
}

/// A size in bytes: a plain number, or one with a binary unit (`512KiB`, `256MiB`, `1GiB`,
/// `1TiB`; `B` for bytes). Zero is refused: no model fits in it.
pub fn parse_byte_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let shift = match unit.trim() {
        "" | "B" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        "TiB" => 40,
        other => {
            return Err(format!(
                "'{other}' is not a size unit: write bytes, or a number with KiB, MiB, GiB or \
                 TiB (256MiB, 1GiB)"
            ));
        }
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a size: write bytes or 256MiB, 1GiB"))?;
    let bytes = number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("'{text}' is more than 2^64 bytes"))?;
    if bytes == 0 {
        return Err("must be more than 0 bytes".into());
    }
    Ok(bytes)
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
    #[arg(long, env = "SKSERVE_REFRESH_INTERVAL", default_value = "60s",
          value_parser = duration)]
    pub refresh_interval: Duration,
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
    #[arg(long, env = "SKSERVE_FLEET_REFRESH_INTERVAL", default_value = "30s",
          value_parser = positive_duration)]
    pub fleet_refresh_interval: Duration,
    /// Readiness (`/v2/health/ready`) waits until `/metrics` has been scraped once, for at
    /// most this long from start (`45s`): a Prometheus starts each counter from its first
    /// sample, so taken before traffic arrives it counts every request. `off` does not wait.
    /// The scraper must not itself wait for readiness (on Cloud Run: no `depends_on`).
    #[arg(long, env = "SKSERVE_READY_AFTER_FIRST_SCRAPE", default_value = "off",
          value_parser = wait)]
    pub ready_after_first_scrape: Wait,
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
    #[arg(long, env = "SKSERVE_MAX_QUEUE_WAIT", default_value = "25ms", value_parser = wait)]
    pub max_queue_wait: Wait,
    /// Most open connections, idle keep-alive ones included; a connection past it has its
    /// request answered 503 with `Retry-After` and is closed [default: 256 per CPU].
    #[arg(long, env = "SKSERVE_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Longest a client may take to send a request's headers (slowloris), or to start its next
    /// request on an idle keep-alive connection, before the connection is closed. Behind a proxy
    /// that reuses idle connections, set it above the proxy's idle timeout (Google's front end:
    /// 600 s).
    #[arg(long, env = "SKSERVE_HEADER_READ_TIMEOUT", default_value = "10s",
          value_parser = positive_duration)]
    pub header_read_timeout: Duration,
    /// Longest a request may take before it is answered 503 (`30s`, `500ms`, `2m`).
    #[arg(long, env = "SKSERVE_REQUEST_TIMEOUT", default_value = "30s",
          value_parser = positive_duration)]
    pub request_timeout: Duration,
    /// On SIGTERM or Ctrl-C, how long in-flight requests get to finish.
    #[arg(long, env = "SKSERVE_SHUTDOWN_GRACE", default_value = "10s", value_parser = duration)]
    pub shutdown_grace: Duration,
    /// Log format: `text` for people, `json` for Cloud Logging, `auto` picks text on a terminal.
    #[arg(long, env = "SKSERVE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
    /// Log filter (tracing `EnvFilter` syntax). Access logs are at debug level:
    /// `info,skserve::access=debug` logs every request.
    #[arg(long, env = "SKSERVE_LOG", default_value = "info")]
    pub log_filter: String,
    /// Worker threads of the runtime [default: the number of CPUs].
    #[arg(long, env = "SKSERVE_WORKERS")]
    pub workers: Option<usize>,
    #[command(flatten)]
    pub load: LoadArgs,
}

/// Who may call `skserve serve`: ID tokens, allowed accounts, client address ranges.
#[derive(Debug, Clone, clap::Args)]
pub struct AuthArgs {
    /// How requests are authenticated: `google` (a Google-signed ID token in `Authorization:
    /// Bearer`) or `none` [default: google when --listen is not loopback, else none].
    #[arg(long = "auth", env = "SKSERVE_AUTH", value_enum)]
    pub mode: Option<AuthMode>,
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
        default_value = "60s",
        value_parser = duration
    )]
    pub leeway: Duration,
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

/// How `skserve serve` authenticates requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// A Google-signed ID token in `Authorization: Bearer`.
    Google,
    /// None: anyone who can reach the address.
    None,
}

/// A wait that may be turned off: `off`, or a duration longer than 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    Off,
    For(Duration),
}

impl Wait {
    /// The duration, `None` when off.
    pub fn duration(self) -> Option<Duration> {
        match self {
            Self::Off => None,
            Self::For(d) => Some(d),
        }
    }
}

/// `30s`, `500ms`, `2m`, `1h`, or a bare number of seconds.
pub fn duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{value}' is not a duration (e.g. 30s, 500ms, 2m)"))?;
    let seconds = match unit.trim() {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{value}' (use ms, s, m or h)"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("'{value}' is out of range"))
}

/// A [`duration`] longer than 0.
pub fn positive_duration(value: &str) -> Result<Duration, String> {
    match duration(value)? {
        d if d.is_zero() => Err("must be longer than 0".into()),
        d => Ok(d),
    }
}

/// `off`, or a [`positive_duration`].
pub fn wait(value: &str) -> Result<Wait, String> {
    match value.trim() {
        "off" => Ok(Wait::Off),
        text => positive_duration(text)
            .map(Wait::For)
            .map_err(|e| format!("{e} (or `off`)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(duration("1.5").unwrap(), Duration::from_millis(1500));
        assert!(duration("-1s").is_err());
        assert!(duration("5 parsecs").is_err());
        assert!(positive_duration("0s").is_err());
        assert_eq!(wait("off").unwrap(), Wait::Off);
        assert_eq!(wait("25ms").unwrap(), Wait::For(Duration::from_millis(25)));
        assert!(wait("0ms").unwrap_err().contains("or `off`"));
    }
}
