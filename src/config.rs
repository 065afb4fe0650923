//! Typed settings for `skserve serve`, built once from the command line and the environment.
//! Every validation error names the flag (and so its `SKSERVE_*` variable) that caused it.
//! Nothing here opens files or sockets: loading the model and binding happen in `http`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::cli::ServeArgs;

/// The challenge model, built into the binary so that `skserve serve` works from any folder.
pub const EMBEDDED_MODEL: &[u8] = include_bytes!("../model-files/pickle_model.pkl");
/// The column names of [`EMBEDDED_MODEL`].
pub const EMBEDDED_FEATURES: &[u8] = include_bytes!("../model-files/features.json");
/// The name the built-in model is served under.
pub const EMBEDDED_MODEL_NAME: &str = "pickle_model";

/// Where the served model's bytes come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelSource {
    /// The challenge model compiled into the binary, with its `features.json`.
    Embedded,
    /// A pickle or joblib file; a `features.json` beside it names its columns.
    File(PathBuf),
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line in Cloud Logging's structured format.
    Json,
    /// Text on a terminal, JSON otherwise.
    Auto,
}

/// Everything `skserve serve` needs, validated.
#[derive(Clone, Debug)]
pub struct ServeSettings {
    pub model: ModelSource,
    pub model_name: String,
    pub listen: SocketAddr,
    pub max_body_bytes: usize,
    pub max_batch_rows: usize,
    pub request_timeout: Duration,
    pub shutdown_grace: Duration,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub workers: usize,
    /// `GOOGLE_CLOUD_PROJECT`: when set, log lines link to Cloud Trace as
    /// `projects/PROJECT/traces/TRACE`.
    pub gcp_project: Option<String>,
}

impl Default for ServeSettings {
    /// The built-in model on an ephemeral loopback port, with the command line's defaults.
    fn default() -> Self {
        Self {
            model: ModelSource::Embedded,
            model_name: EMBEDDED_MODEL_NAME.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            max_body_bytes: 1024 * 1024,
            max_batch_rows: 10_000,
            request_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            log_format: LogFormat::Auto,
            log_filter: "info".into(),
            workers: default_workers(),
            gcp_project: None,
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
    fn new(flag: &'static str, message: impl Into<String>) -> Self {
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
        let model = match args.model {
            Some(path) => ModelSource::File(path),
            None => ModelSource::Embedded,
        };
        let model_name = match (args.model_name, &model) {
            (Some(name), _) => name,
            (None, ModelSource::Embedded) => EMBEDDED_MODEL_NAME.into(),
            (None, ModelSource::File(path)) => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        validate_model_name(&model_name)?;

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
        if !listen.ip().is_loopback() && !args.insecure_no_auth {
            return Err(ConfigError::new(
                "--listen",
                format!(
                    "refusing to listen on {listen}: it is reachable from other machines and \
                     requests are not authenticated yet; listen on 127.0.0.1, or pass \
                     --insecure-no-auth (SKSERVE_INSECURE_NO_AUTH=true) to serve anyone who can \
                     reach it"
                ),
            ));
        }
        if args.max_body_bytes == 0 {
            return Err(ConfigError::new("--max-body-bytes", "must be at least 1"));
        }
        if args.max_batch_rows == 0 {
            return Err(ConfigError::new("--max-batch-rows", "must be at least 1"));
        }
        let request_timeout = parse_duration(&args.request_timeout)
            .map_err(|m| ConfigError::new("--request-timeout", m))?;
        if request_timeout.is_zero() {
            return Err(ConfigError::new(
                "--request-timeout",
                "must be longer than 0",
            ));
        }
        let shutdown_grace = parse_duration(&args.shutdown_grace)
            .map_err(|m| ConfigError::new("--shutdown-grace", m))?;
        let log_format = match args.log_format.as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            "auto" => LogFormat::Auto,
            other => {
                return Err(ConfigError::new(
                    "--log-format",
                    format!("'{other}' is not one of auto, json, text"),
                ));
            }
        };
        let workers = match args.workers {
            Some(0) => return Err(ConfigError::new("--workers", "must be at least 1")),
            Some(n) => n,
            None => default_workers(),
        };
        Ok(Self {
            model,
            model_name,
            listen,
            max_body_bytes: args.max_body_bytes,
            max_batch_rows: args.max_batch_rows,
            request_timeout,
            shutdown_grace,
            log_format,
            log_filter: args.log_filter,
            workers,
            gcp_project: env("GOOGLE_CLOUD_PROJECT").filter(|p| !p.is_empty()),
        })
    }
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

fn validate_model_name(name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::new(
            "--model-name",
            format!("'{name}' must be non-empty ASCII letters, digits, '_', '-' or '.'"),
        ))
    }
}

fn parse_listen(value: &str) -> Result<SocketAddr, ConfigError> {
    value.parse().map_err(|_| {
        ConfigError::new(
            "--listen",
            format!("'{value}' is not an IP:PORT address (e.g. 127.0.0.1:8080)"),
        )
    })
}

/// Parses `30s`, `500ms`, `2m`, `1h`, or a bare number of seconds.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn settings(flags: &[&str], env: &[(&str, &str)]) -> Result<ServeSettings, ConfigError> {
        let mut argv = vec!["skserve", "serve"];
        argv.extend_from_slice(flags);
        let cli = crate::cli::Cli::try_parse_from(argv).unwrap();
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
        assert_eq!(err.flag, "--listen");
        assert!(err.message.contains("--insecure-no-auth"), "{err}");
        let s = settings(&["--insecure-no-auth"], &[("PORT", "9000")]).unwrap();
        assert_eq!(s.listen, "0.0.0.0:9000".parse().unwrap());
    }

    #[test]
    fn model_name_defaults_to_the_file_stem() {
        let s = settings(&["--model", "/models/delays.joblib"], &[]).unwrap();
        assert_eq!(s.model_name, "delays");
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
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }
}
