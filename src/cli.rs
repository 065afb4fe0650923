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
