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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Predict every row of a CSV file (numbers, no header) and print `LABEL,SCORE` per row.
    Predict(PredictArgs),
    /// Describe a model file as JSON, with an audit of every global it references.
    Inspect(InspectArgs),
    /// Serve a model over HTTP: the seed's form API, the V2 (Open Inference) protocol and a
    /// KServe V1 endpoint with named features.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// Model file: a pickle or joblib file (any compression).
    #[arg(long, env = "SKSERVE_MODEL")]
    pub model: PathBuf,
    /// CSV of feature rows, no header; `-` reads standard input.
    #[arg(long, env = "SKSERVE_INPUT")]
    pub input: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Model file to describe (it is never executed, even when refused).
    #[arg(long, env = "SKSERVE_MODEL")]
    pub model: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Model file (pickle or joblib). Without it, the challenge model built into the binary.
    /// A `features.json` beside the file (a JSON array of column names) names its features.
    #[arg(long, env = "SKSERVE_MODEL")]
    pub model: Option<PathBuf>,
    /// Name the model is served under [default: the file stem, `pickle_model` for the built-in].
    #[arg(long, env = "SKSERVE_MODEL_NAME")]
    pub model_name: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8080, or 0.0.0.0:$PORT when PORT is set].
    #[arg(long, env = "SKSERVE_LISTEN")]
    pub listen: Option<String>,
    /// Allow a non-loopback --listen address although requests are not authenticated.
    #[arg(long, env = "SKSERVE_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
    /// Largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, env = "SKSERVE_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Most rows one request may ask to predict (more get 413).
    #[arg(long, env = "SKSERVE_MAX_BATCH_ROWS", default_value_t = 10_000)]
    pub max_batch_rows: usize,
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
