//! Typed settings for `skserve serve`, built once from the command line and the environment.
//! Every validation error names the flag (and so its `SKSERVE_*` variable) that caused it.
//! Nothing here opens sockets or model files: loading models and binding happen in `startup`.
//! The one file read here is `--slo-config`, which is configuration.

use std::net::SocketAddr;
use std::time::Duration;

use crate::auth::{AllowList, AuthSettings, GOOGLE_ISSUERS, TokenRules, TokenSettings};
use crate::cli::{AuthArgs, AuthMode, ServeArgs};
use crate::model::LoadLimits;
use crate::store::{EMBEDDED_MODEL_NAME, ModelSource};
use crate::telemetry::LogFormat;

/// Everything `skserve serve` needs, validated.
#[derive(Clone, Debug)]
pub struct ServeSettings {
    /// The default model (the seed's `POST /`) and its name.
    pub model: ModelSource,
    pub model_name: String,
    /// More models served by name (`--model NAME=URI` after the first).
    pub extra_models: Vec<(String, ModelSource)>,
    /// How often files and objects are checked for a new version.
    pub refresh_interval: Duration,
    /// `--max-model-bytes`: the memory one load of a model may take, at start and on refresh.
    pub load_limits: LoadLimits,
    pub allow_shape_change: bool,
    /// Exit when a model cannot be loaded at start, rather than retrying until it can.
    pub require_model_at_start: bool,
    /// `STORAGE_EMULATOR_HOST`: Cloud Storage requests go there, without credentials.
    pub storage_emulator_host: Option<String>,
    pub listen: SocketAddr,
    /// `--grpc-listen`: where V2 over gRPC is served; `None` serves no gRPC.
    pub grpc_listen: Option<SocketAddr>,
    /// `--admin-listen`: where `/metrics`, `/slo`, `/slo.json` and the probes are also served,
    /// without a token.
    pub admin_listen: Option<SocketAddr>,
    /// `--fleet-prometheus`: the fleet's SLOs from a query API.
    pub fleet: Option<crate::slo::fleet::FleetSettings>,
    /// `--ready-after-first-scrape`: how long readiness waits for the first scrape of
    /// `/metrics`; `None` does not wait.
    pub first_scrape_wait: Option<Duration>,
    pub max_body_bytes: usize,
    pub max_batch_rows: usize,
    pub request_timeout: Duration,
    /// Requests handled at once before the rest are shed (503 + `Retry-After`).
    pub max_concurrency: usize,
    /// While a queue stands, a request that waited longer than this is shed; `None` never sheds
    /// on waiting (`server::standing_queue`).
    pub max_queue_wait: Option<Duration>,
    /// Open connections before further ones are answered 503 and closed.
    pub max_connections: usize,
    /// Connections being answered that 503 at once, past which one is closed unread: a
    /// refusal holds a task and a descriptor for at most a second, and every one refused with
    /// a 503 is a client told to back off. [`refusals_for`] of `max_connections`.
    pub max_refusals: usize,
    /// Deadline for a request's headers (slowloris).
    pub header_read_timeout: Duration,
    pub shutdown_grace: Duration,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub workers: usize,
    /// `GOOGLE_CLOUD_PROJECT`: when set, log lines link to Cloud Trace as
    /// `projects/PROJECT/traces/TRACE`.
    pub gcp_project: Option<String>,
    /// `--auth*`, `--allow-cidr`, `--trust-proxy-hops`: who may call.
    pub auth: AuthSettings,
    /// The SLOs measured: `--slo-config`, else the built-in `monitoring/slos.yaml`.
    pub slos: crate::slo::SloSpec,
    /// `--health`, `--health-reference-rows`, `--profile`: model health.
    pub health: crate::health::HealthSettings,
}

impl Default for ServeSettings {
    /// The built-in model on an ephemeral loopback port, with the command line's defaults.
    fn default() -> Self {
        Self {
            model: ModelSource::Embedded,
            model_name: EMBEDDED_MODEL_NAME.into(),
            extra_models: Vec::new(),
            refresh_interval: Duration::from_secs(60),
            load_limits: LoadLimits::default(),
            allow_shape_change: false,
            require_model_at_start: true,
            storage_emulator_host: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            grpc_listen: None,
            admin_listen: None,
            fleet: None,
            first_scrape_wait: None,
            max_body_bytes: 1024 * 1024,
            max_batch_rows: 10_000,
            request_timeout: Duration::from_secs(30),
            max_concurrency: default_max_concurrency(),
            max_queue_wait: Some(DEFAULT_MAX_QUEUE_WAIT),
            max_connections: default_max_connections(),
            max_refusals: refusals_for(default_max_connections()),
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            log_format: LogFormat::Auto,
            log_filter: "info".into(),
            workers: default_workers(),
            gcp_project: None,
            auth: AuthSettings::default(),
            slos: crate::slo::SloSpec::embedded(crate::metrics::LATENCY_BUCKETS),
            health: crate::health::HealthSettings::default(),
        }
    }
}

/// A setting that cannot be used, naming its flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{flag}: {message}")]
pub struct ConfigError {
    pub flag: &'static str,
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(flag: &'static str, message: impl Into<String>) -> Self {
        Self {
            flag,
            message: message.into(),
        }
    }
}

impl ServeSettings {
    /// Builds settings from parsed flags; `env` reads the variables that are not flags
    /// (`PORT` from Cloud Run, `GOOGLE_CLOUD_PROJECT`).
    pub fn from_args(
        args: ServeArgs,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut models = Vec::new();
        for (i, spec) in args.model.iter().map(|s| s.trim()).enumerate() {
            let (name, source) = parse_model_spec(spec);
            // The flag that carried the name: --model-name, or --model's NAME= or file stem.
            let (name, flag) = match (name, &args.model_name) {
                (Some(name), _) => (name.to_owned(), "--model"),
                (None, Some(given)) if i == 0 => (given.clone(), "--model-name"),
                (None, _) => (source.default_name(), "--model"),
            };
            validate_model_name(flag, &name).map_err(|e| match flag {
                "--model" => ConfigError::new(
                    flag,
                    format!(
                        "{}; it is the file name of {spec}: name the model with NAME={spec}",
                        e.message
                    ),
                ),
                _ => e,
            })?;
            if models.iter().any(|(n, _)| *n == name) {
                return Err(ConfigError::new(
                    "--model",
                    format!("two models are named '{name}'; name them with NAME=URI"),
                ));
            }
            models.push((name, source));
        }
        if models.is_empty() {
            let name = args
                .model_name
                .clone()
                .unwrap_or_else(|| EMBEDDED_MODEL_NAME.into());
            validate_model_name("--model-name", &name)?;
            models.push((name, ModelSource::Embedded));
        }
        let (model_name, model) = models.remove(0);
        let refresh_interval = args.refresh_interval;
        if refresh_interval < Duration::from_millis(10) {
            return Err(ConfigError::new(
                "--refresh-interval",
                "must be at least 10ms",
            ));
        }

        let listen = match (args.listen, env("PORT")) {
            (Some(listen), _) => parse_listen(&listen)?,
            (None, Some(port)) => {
                let port: u16 = port.trim().parse().map_err(|_| {
                    ConfigError::new("PORT", format!("'{port}' is not a port number"))
                })?;
                SocketAddr::from(([0, 0, 0, 0], port))
            }
            (None, None) => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let grpc_listen = args
            .grpc_listen
            .as_deref()
            .map(|value| parse_address("--grpc-listen", value, "127.0.0.1:8081"))
            .transpose()?;
        if grpc_listen == Some(listen) && listen.port() != 0 {
            return Err(ConfigError::new(
                "--grpc-listen",
                format!("{listen} is --listen's address too; gRPC needs a port of its own"),
            ));
        }
        // Secure by default: a non-loopback address needs authentication or
        // --insecure-no-auth. The gRPC port counts as much as the HTTP one.
        let exposed = grpc_listen
            .filter(|grpc| !grpc.ip().is_loopback())
            .filter(|_| listen.ip().is_loopback())
            .unwrap_or(listen);
        let auth = auth_settings(args.auth, exposed, args.insecure_no_auth)?;
        let admin_listen = args
            .admin_listen
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| admin_address(a, listen, args.insecure_no_auth))
            .transpose()?;
        let fleet_refresh_interval = args.fleet_refresh_interval;
        let fleet = args
            .fleet_prometheus
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|url| fleet_source(url, fleet_refresh_interval))
            .transpose()?;
        let first_scrape_wait = args.ready_after_first_scrape.duration();
        let slos = match &args.slo_config {
            Some(path) => crate::slo::SloSpec::read(path, crate::metrics::LATENCY_BUCKETS)
                .map_err(|e| ConfigError::new("--slo-config", e.to_string()))?,
            None => crate::slo::SloSpec::embedded(crate::metrics::LATENCY_BUCKETS),
        };
        if args.max_body_bytes == 0 {
            return Err(ConfigError::new("--max-body-bytes", "must be at least 1"));
        }
        if args.max_batch_rows == 0 {
            return Err(ConfigError::new("--max-batch-rows", "must be at least 1"));
        }
        let request_timeout = args.request_timeout;
        let max_concurrency = count_flag(
            "--max-concurrency",
            args.max_concurrency,
            default_max_concurrency,
        )?;
        let max_queue_wait = args.max_queue_wait.duration();
        let max_connections = count_flag(
            "--max-connections",
            args.max_connections,
            default_max_connections,
        )?;
        let header_read_timeout = args.header_read_timeout;
        let shutdown_grace = args.shutdown_grace;
        let log_format = args.log_format;
        let workers = count_flag("--workers", args.workers, default_workers)?;
        let served: Vec<&str> = std::iter::once(model_name.as_str())
            .chain(models.iter().map(|(n, _)| n.as_str()))
            .collect();
        let health = crate::health::HealthSettings {
            enabled: args.health == crate::cli::HealthMode::On,
            reference_rows: args.health_reference_rows,
            profiles: crate::health::settings::named_profiles(&args.profile, &served)
                .map_err(|m| ConfigError::new("--profile", m))?,
        };
        Ok(Self {
            model,
            model_name,
            extra_models: models,
            refresh_interval,
            load_limits: args.load.limits(),
            allow_shape_change: args.allow_shape_change,
            require_model_at_start: args.require_model_at_start,
            storage_emulator_host: env("STORAGE_EMULATOR_HOST").filter(|h| !h.is_empty()),
            listen,
            grpc_listen,
            admin_listen,
            fleet,
            first_scrape_wait,
            max_body_bytes: args.max_body_bytes,
            max_batch_rows: args.max_batch_rows,
            request_timeout,
            max_concurrency,
            max_queue_wait,
            max_connections,
            max_refusals: refusals_for(max_connections),
            header_read_timeout,
            shutdown_grace,
            log_format,
            log_filter: args.log_filter,
            workers,
            gcp_project: env("GOOGLE_CLOUD_PROJECT").filter(|p| !p.is_empty()),
            auth,
            slos,
            health,
        })
    }
}

/// Validates the auth flags for a server listening on `listen`. Secure by default: a
/// non-loopback address means `--auth google` unless `--insecure-no-auth` is given.
fn auth_settings(
    args: AuthArgs,
    listen: SocketAddr,
    insecure_no_auth: bool,
) -> Result<AuthSettings, ConfigError> {
    let error = |flag: &'static str, message: String| ConfigError { flag, message };
    let exposed = !listen.ip().is_loopback();
    let google = match args.mode {
        Some(AuthMode::Google) => true,
        Some(AuthMode::None) => false,
        None => exposed && !insecure_no_auth,
    };
    if !google && exposed && !insecure_no_auth {
        return Err(error(
            "--auth",
            format!(
                "refusing to listen on {listen} without authentication: it is reachable \
                 from other machines; use --auth google --auth-audience AUDIENCE, listen \
                 on 127.0.0.1, or pass --insecure-no-auth (SKSERVE_INSECURE_NO_AUTH=true) \
                 to serve anyone who can reach it"
            ),
        ));
    }
    let allow = AllowList::parse(&args.allow).map_err(|m| error("--auth-allow", m))?;
    let tokens = if google {
        let audiences: Vec<String> = nonempty(args.audiences);
        if audiences.is_empty() {
            return Err(error(
                "--auth-audience",
                format!(
                    "required with --auth google (the default when listening on a \
                     non-loopback address such as {listen}): the audience the ID tokens \
                     are minted for, on Cloud Run the service's URL; or pass \
                     --insecure-no-auth (SKSERVE_INSECURE_NO_AUTH=true) to serve anyone \
                     who can reach it"
                ),
            ));
        }
        let issuers = nonempty(args.issuers);
        let issuers = if issuers.is_empty() {
            GOOGLE_ISSUERS.iter().map(|i| (*i).to_owned()).collect()
        } else {
            issuers
        };
        let leeway = args.leeway;
        if !(args.jwks_url.starts_with("https://") || args.jwks_url.starts_with("http://")) {
            return Err(error(
                "--auth-jwks-url",
                format!("'{}' is not an http(s) URL", args.jwks_url),
            ));
        }
        Some(TokenSettings {
            rules: TokenRules {
                audiences,
                issuers,
                leeway,
            },
            jwks_url: args.jwks_url,
            allow,
            refetch_interval: Duration::from_secs(60),
            keys_wait_at_start: crate::auth::KEYS_WAIT_AT_START,
        })
    } else {
        if !allow.is_empty() {
            return Err(error(
                "--auth-allow",
                "needs --auth google: without tokens there is no account to allow".into(),
            ));
        }
        None
    };
    let allow_cidr = args
        .allow_cidr
        .iter()
        .filter(|c| !c.trim().is_empty())
        .map(|c| c.parse())
        .collect::<Result<_, _>>()
        .map_err(|m| error("--allow-cidr", m))?;
    Ok(AuthSettings {
        tokens,
        allow_cidr,
        trust_proxy_hops: args.trust_proxy_hops,
    })
}

/// `--admin-listen`: `IP:PORT`, or a port alone (`9091`, `:9091`) on loopback. It serves
/// without a token, so an address other machines can reach needs --insecure-no-auth, as an
/// unauthenticated --listen does; and it cannot be the serving address.
fn admin_address(
    value: &str,
    listen: SocketAddr,
    insecure_no_auth: bool,
) -> Result<SocketAddr, ConfigError> {
    let flag = "--admin-listen";
    let port_only = value.strip_prefix(':').unwrap_or(value);
    let address = match port_only.parse::<u16>() {
        Ok(port) => SocketAddr::from(([127, 0, 0, 1], port)),
        Err(_) => match value.strip_prefix("localhost:").map(str::parse::<u16>) {
            Some(Ok(port)) => SocketAddr::from(([127, 0, 0, 1], port)),
            _ => value.parse().map_err(|_| {
                ConfigError::new(
                    flag,
                    format!(
                        "'{value}' is not an IP:PORT address or a port (e.g. 127.0.0.1:9091 \
                         or 9091)"
                    ),
                )
            })?,
        },
    };
    if !address.ip().is_loopback() && !insecure_no_auth {
        return Err(ConfigError::new(
            flag,
            format!(
                "refusing to serve /metrics, /slo and /slo.json without a token on {address}: \
                 it is reachable from other machines; give a loopback address (127.0.0.1:PORT, \
                 or the port alone) for a scraper on the same machine, or pass \
                 --insecure-no-auth (SKSERVE_INSECURE_NO_AUTH=true) to serve anyone who can \
                 reach it"
            ),
        ));
    }
    let overlaps = address.ip() == listen.ip()
        || address.ip().is_unspecified()
        || listen.ip().is_unspecified();
    if address.port() != 0 && address.port() == listen.port() && overlaps {
        return Err(ConfigError::new(
            flag,
            format!(
                "{address} is where requests are served (--listen {listen}); give the admin endpoints another port"
            ),
        ));
    }
    Ok(address)
}

/// `--fleet-prometheus`: an http(s) base URL of a Prometheus query API.
fn fleet_source(
    url: &str,
    refresh_interval: Duration,
) -> Result<crate::slo::fleet::FleetSettings, ConfigError> {
    let flag = "--fleet-prometheus";
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            ConfigError::new(
                flag,
                format!(
                    "'{url}' is not an http(s) URL (e.g. http://prometheus:9090, or \
                     https://monitoring.googleapis.com/v1/projects/PROJECT/location/global/prometheus)"
                ),
            )
        })?;
    if rest.is_empty() || rest.starts_with('/') || url.contains(['?', '#', ' ']) {
        return Err(ConfigError::new(
            flag,
            format!("'{url}' must be a base URL with a host, no query or fragment"),
        ));
    }
    let base = url.trim_end_matches('/');
    if base.ends_with("/api/v1") {
        return Err(ConfigError::new(
            flag,
            format!("'{url}' ends in /api/v1: give the base URL, to which /api/v1/query is added"),
        ));
    }
    Ok(crate::slo::fleet::FleetSettings::new(
        base,
        refresh_interval,
    ))
}

fn nonempty(values: Vec<String>) -> Vec<String> {
    values
        .into_iter()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// A count flag given as `value`, at least 1, or `default()` when not given.
fn count_flag(
    flag: &'static str,
    value: Option<usize>,
    default: fn() -> usize,
) -> Result<usize, ConfigError> {
    match value {
        Some(0) => Err(ConfigError::new(flag, "must be at least 1")),
        Some(n) => Ok(n),
        None => Ok(default()),
    }
}

/// How long a request may wait to be handled before it is shed. Half the tightest latency
/// objective (50 ms): a request admitted after waiting this long still answers within it.
pub const DEFAULT_MAX_QUEUE_WAIT: Duration = Duration::from_millis(25);

/// Requests in flight before shedding: 512 per CPU. A seed request costs about 10 µs of CPU,
/// so a full queue drains in about 5 ms, far inside the 50 ms latency objective, while a burst
/// beyond it is refused in microseconds instead of waiting without bound.
fn default_max_concurrency() -> usize {
    512 * default_workers()
}

/// Open connections before shedding: 256 per CPU. Every connection with a request waiting
/// shares the same run queue, and on 2 CPUs 256 busy connections already wait about 5 ms at
/// p99 (512 p99 about 20 ms, 1,280 over 50 ms: `load-tests/overload.sh`); past that, refusing
/// a connection outright keeps the admitted ones inside the 50 ms objective.
fn default_max_connections() -> usize {
    256 * default_workers()
}

/// Refusals under way at once: as many as connections, and at least 4,096.
pub fn refusals_for(max_connections: usize) -> usize {
    max_connections.max(4096)
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

/// `NAME=URI` or `URI`; a prefix that is not a valid model name belongs to the URI.
fn parse_model_spec(spec: &str) -> (Option<&str>, ModelSource) {
    match spec.split_once('=') {
        Some((name, uri)) if validate_model_name("--model", name).is_ok() => {
            (Some(name), ModelSource::parse(uri))
        }
        _ => (None, ModelSource::parse(spec)),
    }
}

/// A model name as `flag` gave it (`--model-name`, or `--model`'s `NAME=` or file stem).
fn validate_model_name(flag: &'static str, name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::new(
            flag,
            format!(
                "the model name '{name}' must be non-empty ASCII letters, digits, '_', '-' or '.'"
            ),
        ))
    }
}

fn parse_listen(value: &str) -> Result<SocketAddr, ConfigError> {
    parse_address("--listen", value, "127.0.0.1:8080")
}

fn parse_address(
    flag: &'static str,
    value: &str,
    example: &str,
) -> Result<SocketAddr, ConfigError> {
    value.trim().parse().map_err(|_| {
        ConfigError::new(
            flag,
            format!("'{value}' is not an IP:PORT address (e.g. {example})"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::GOOGLE_JWKS_URL;
    use clap::Parser;

    /// The flag a refusal by clap names (`--request-timeout <REQUEST_TIMEOUT>` →
    /// `--request-timeout`), so that its refusals read like `config`'s own.
    fn clap_refusal(error: &clap::Error) -> ConfigError {
        let argument = match error.get(clap::error::ContextKind::InvalidArg) {
            Some(clap::error::ContextValue::String(argument)) => argument.clone(),
            other => panic!("clap refused without naming an argument: {other:?}: {error}"),
        };
        let flag = argument.split_whitespace().next().unwrap_or_default();
        ConfigError::new(String::leak(flag.to_owned()), error.to_string())
    }

    fn settings(flags: &[&str], env: &[(&str, &str)]) -> Result<ServeSettings, ConfigError> {
        let mut argv = vec!["skserve", "serve"];
        argv.extend_from_slice(flags);
        let cli = crate::cli::Cli::try_parse_from(argv).map_err(|e| clap_refusal(&e))?;
        let crate::cli::Command::Serve(args) = cli.command else {
            unreachable!()
        };
        ServeSettings::from_args(args, |k| {
            env.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_listen_on_loopback_8080_with_the_built_in_model() {
        let s = settings(&[], &[]).unwrap();
        assert_eq!(s.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(s.model, ModelSource::Embedded);
        assert_eq!(s.model_name, "pickle_model");
        assert_eq!(s.request_timeout, Duration::from_secs(30));
    }

    #[test]
    fn port_moves_to_all_interfaces_and_needs_the_insecure_flag() {
        let err = settings(&[], &[("PORT", "9000")]).unwrap_err();
        assert_eq!(err.flag, "--auth-audience");
        assert!(err.message.contains("--insecure-no-auth"), "{err}");
        let s = settings(&["--insecure-no-auth"], &[("PORT", "9000")]).unwrap();
        assert_eq!(s.listen, "0.0.0.0:9000".parse().unwrap());
    }

    #[test]
    fn readiness_waits_for_the_first_scrape_only_when_asked_and_never_for_nothing() {
        assert_eq!(settings(&[], &[]).unwrap().first_scrape_wait, None);
        let s = settings(&["--ready-after-first-scrape", "45s"], &[]).unwrap();
        assert_eq!(s.first_scrape_wait, Some(Duration::from_secs(45)));
        let off = settings(&["--ready-after-first-scrape", "off"], &[]).unwrap();
        assert_eq!(off.first_scrape_wait, None);
        for bad in ["0s", "soon"] {
            let err = settings(&["--ready-after-first-scrape", bad], &[]).unwrap_err();
            assert_eq!(err.flag, "--ready-after-first-scrape", "{bad}: {err}");
        }
    }

    #[test]
    fn model_name_defaults_to_the_file_stem() {
        let s = settings(&["--model", "/models/delays.joblib"], &[]).unwrap();
        assert_eq!(s.model_name, "delays");
    }

    #[test]
    fn several_models_by_name_from_files_and_cloud_storage() {
        let s = settings(
            &[
                "--model",
                "gs://bucket/dir/delays.joblib",
                "--model",
                "other=/m/x.pkl",
                "--refresh-interval",
                "200ms",
            ],
            &[("STORAGE_EMULATOR_HOST", "127.0.0.1:4443")],
        )
        .unwrap();
        assert_eq!(s.model_name, "delays");
        assert_eq!(
            s.model,
            ModelSource::Gcs {
                bucket: "bucket".into(),
                object: "dir/delays.joblib".into()
            }
        );
        assert_eq!(
            s.extra_models,
            vec![("other".into(), ModelSource::File("/m/x.pkl".into()))]
        );
        assert_eq!(s.refresh_interval, Duration::from_millis(200));
        assert_eq!(s.storage_emulator_host.as_deref(), Some("127.0.0.1:4443"));
        assert!(s.require_model_at_start);
        let err = settings(&["--model", "a=x.pkl", "--model", "a=y.pkl"], &[]).unwrap_err();
        assert_eq!(err.flag, "--model");
    }

    #[test]
    fn grpc_is_off_unless_given_and_an_exposed_grpc_port_needs_auth() {
        assert_eq!(settings(&[], &[]).unwrap().grpc_listen, None);
        let s = settings(&["--grpc-listen", "127.0.0.1:8081"], &[]).unwrap();
        assert_eq!(s.grpc_listen, Some("127.0.0.1:8081".parse().unwrap()));
        // Secure by default: an exposed gRPC port means ID tokens, so an audience is needed.
        let exposed = settings(&["--grpc-listen", "0.0.0.0:8081"], &[]).unwrap_err();
        assert_eq!(exposed.flag, "--auth-audience");
        assert!(
            exposed.message.contains("0.0.0.0:8081"),
            "{}",
            exposed.message
        );
        let insecure = settings(&["--grpc-listen", "0.0.0.0:8081", "--auth", "none"], &[]);
        assert_eq!(insecure.unwrap_err().flag, "--auth");
        let same = settings(
            &[
                "--listen",
                "127.0.0.1:9000",
                "--grpc-listen",
                "127.0.0.1:9000",
            ],
            &[],
        );
        assert_eq!(same.unwrap_err().flag, "--grpc-listen");
        assert_eq!(
            settings(&["--grpc-listen", "8081"], &[]).unwrap_err().flag,
            "--grpc-listen"
        );
    }

    #[test]
    fn errors_name_the_flag() {
        assert_eq!(
            settings(&["--request-timeout", "soon"], &[])
                .unwrap_err()
                .flag,
            "--request-timeout"
        );
        assert_eq!(
            settings(&["--log-format", "xml"], &[]).unwrap_err().flag,
            "--log-format"
        );
        assert_eq!(
            settings(&["--listen", "localhost"], &[]).unwrap_err().flag,
            "--listen"
        );
        assert_eq!(
            settings(&["--model-name", "a/b"], &[]).unwrap_err().flag,
            "--model-name"
        );
        // A name taken from --model's file is --model's to fix.
        let stem = settings(&["--model", "/models/two words.pkl"], &[]).unwrap_err();
        assert_eq!(stem.flag, "--model");
        assert!(
            stem.message.contains("NAME=/models/two words.pkl"),
            "{stem}"
        );
    }

    #[test]
    fn the_admin_listener_is_loopback_unless_told_otherwise() {
        let port_only = settings(&["--admin-listen", "9091"], &[]).unwrap();
        assert_eq!(
            port_only.admin_listen,
            Some("127.0.0.1:9091".parse().unwrap())
        );
        let colon = settings(&["--admin-listen", ":9091"], &[]).unwrap();
        assert_eq!(colon.admin_listen, port_only.admin_listen);
        let named = settings(&["--admin-listen", "localhost:9091"], &[]).unwrap();
        assert_eq!(named.admin_listen, port_only.admin_listen);
        // Terraform's: the serving port on every interface, the admin port on loopback.
        let cloud_run = settings(
            &[
                "--admin-listen",
                "127.0.0.1:9091",
                "--auth-audience",
                "https://svc",
            ],
            &[("PORT", "8080")],
        )
        .unwrap();
        assert_eq!(
            cloud_run.admin_listen,
            Some("127.0.0.1:9091".parse().unwrap())
        );
        assert!(settings(&[], &[]).unwrap().admin_listen.is_none());

        let exposed = settings(&["--admin-listen", "0.0.0.0:9091"], &[]).unwrap_err();
        assert_eq!(exposed.flag, "--admin-listen");
        assert!(exposed.message.contains("--insecure-no-auth"), "{exposed}");
        let allowed = settings(
            &["--admin-listen", "0.0.0.0:9091", "--insecure-no-auth"],
            &[],
        );
        assert_eq!(
            allowed.unwrap().admin_listen,
            Some("0.0.0.0:9091".parse().unwrap())
        );
        let same = settings(
            &["--listen", "127.0.0.1:8080", "--admin-listen", "8080"],
            &[],
        );
        assert_eq!(same.unwrap_err().flag, "--admin-listen");
        let garbled = settings(&["--admin-listen", "admin"], &[]).unwrap_err();
        assert_eq!(garbled.flag, "--admin-listen");
    }

    #[test]
    fn the_fleet_source_is_a_base_url() {
        let gmp = "https://monitoring.googleapis.com/v1/projects/p/location/global/prometheus";
        let s = settings(&["--fleet-prometheus", gmp], &[]).unwrap();
        let fleet = s.fleet.unwrap();
        assert_eq!(fleet.url, gmp);
        assert_eq!(fleet.refresh_interval, Duration::from_secs(30));
        let s = settings(
            &[
                "--fleet-prometheus",
                "http://127.0.0.1:9090/",
                "--fleet-refresh-interval",
                "2s",
            ],
            &[],
        )
        .unwrap();
        let fleet = s.fleet.unwrap();
        assert_eq!(fleet.url, "http://127.0.0.1:9090");
        assert_eq!(fleet.refresh_interval, Duration::from_secs(2));
        assert!(
            settings(&["--fleet-prometheus", ""], &[])
                .unwrap()
                .fleet
                .is_none()
        );
        for wrong in [
            "prometheus:9090",
            "http://",
            "http://p:9090/api/v1",
            "http://p/?x=1",
        ] {
            let err = settings(&["--fleet-prometheus", wrong], &[]).unwrap_err();
            assert_eq!(err.flag, "--fleet-prometheus", "{wrong}");
        }
        let err = settings(&["--fleet-refresh-interval", "0s"], &[]).unwrap_err();
        assert_eq!(err.flag, "--fleet-refresh-interval");
    }

    fn auth(flags: &[&str], listen: &str) -> Result<AuthSettings, ConfigError> {
        let mut argv = vec!["skserve", "serve"];
        argv.extend_from_slice(flags);
        let cli = crate::cli::Cli::try_parse_from(argv).map_err(|e| clap_refusal(&e))?;
        let crate::cli::Command::Serve(args) = cli.command else {
            unreachable!()
        };
        auth_settings(args.auth, listen.parse().unwrap(), args.insecure_no_auth)
    }

    #[test]
    fn loopback_defaults_to_no_auth() {
        let s = auth(&[], "127.0.0.1:8080").unwrap();
        assert!(s.tokens.is_none());
    }

    #[test]
    fn other_addresses_need_an_audience_or_the_insecure_flag() {
        let err = auth(&[], "0.0.0.0:8080").unwrap_err();
        assert_eq!(err.flag, "--auth-audience");
        let err = auth(&["--auth", "none"], "0.0.0.0:8080").unwrap_err();
        assert_eq!(err.flag, "--auth");
        assert!(err.message.contains("--insecure-no-auth"), "{err}");
        let s = auth(&["--insecure-no-auth"], "0.0.0.0:8080").unwrap();
        assert!(s.tokens.is_none());
        let s = auth(
            &[
                "--auth-audience",
                "https://svc.run.app",
                "--auth-allow",
                "*@example.com",
            ],
            "0.0.0.0:8080",
        )
        .unwrap();
        let tokens = s.tokens.unwrap();
        assert_eq!(tokens.rules.issuers, GOOGLE_ISSUERS);
        assert_eq!(tokens.rules.leeway, Duration::from_secs(60));
        assert_eq!(tokens.jwks_url, GOOGLE_JWKS_URL);
    }

    #[test]
    fn auth_errors_name_the_flag() {
        let flag = |flags: &[&str]| auth(flags, "127.0.0.1:8080").unwrap_err().flag;
        assert_eq!(flag(&["--auth", "magic"]), "--auth");
        assert_eq!(flag(&["--auth-allow", "*@example.com"]), "--auth-allow");
        assert_eq!(flag(&["--allow-cidr", "10.0.0.0/99"]), "--allow-cidr");
        let google = |flag: &'static str, value: &'static str| {
            ["--auth", "google", "--auth-audience", "a", flag, value]
        };
        assert_eq!(flag(&google("--auth-leeway", "x")), "--auth-leeway");
        assert_eq!(
            flag(&google("--auth-jwks-url", "file:///k")),
            "--auth-jwks-url"
        );
    }
}
