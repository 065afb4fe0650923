//! What each subcommand does. Every command reports errors on stderr and returns the exit
//! status: 0 on success, 2 when the model is refused, unsupported or too large to load, 1 for anything else.

mod inspect;
mod predict;
mod profile;
mod serve;
mod slo;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::model::{LoadError, LoadLimits};
use crate::registry::{LoadedModel, ModelLoadError};
use crate::store::StoreError;

pub use inspect::inspect;
pub use predict::{parse_csv, predict, predict_observed};
pub use profile::profile;
pub use serve::serve;
pub use slo::slo_rules;

/// A command's failure, carrying its exit status.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The model file was refused, malformed, unsupported or too large to load (exit 2).
    #[error("{0}")]
    Model(String),
    /// Anything else: unreadable files, bad input (exit 1).
    #[error("{0}")]
    Other(String),
}

impl CommandError {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Model(_) => 2,
            Self::Other(_) => 1,
        }
    }

    pub fn model(file: &str, e: &LoadError) -> Self {
        Self::Model(e.explain(file))
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Predict(args) => predict(
            &args.model,
            &args.input,
            args.load.limits(),
            &mut std::io::stdout().lock(),
        ),
        Command::Inspect(args) => inspect(
            &args.model,
            args.load.limits(),
            &mut std::io::stdout().lock(),
        ),
        Command::Serve(args) => serve(args),
        Command::Slo(crate::cli::SloCommand::Rules(args)) => {
            slo_rules(args.config.as_deref(), &mut std::io::stdout().lock())
        }
        Command::Profile(args) => profile(
            &args.model,
            &args.data,
            args.out.as_deref(),
            usize::from(args.bins),
            args.load.limits(),
            &mut std::io::stderr().lock(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("skserve: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Reads a model's bytes from a file or `gs://bucket/object`, refusing one larger than the
/// loading budget (exit 2) before reading it; the name used in messages is the file name.
pub(crate) fn read_model_file(
    path: &std::path::Path,
    limits: LoadLimits,
) -> Result<(String, Vec<u8>), CommandError> {
    crate::store::read_once(&path.to_string_lossy(), limits.max_model_bytes).map_err(|e| match e {
        StoreError::TooLarge { .. } => CommandError::Model(e.to_string()),
        other => CommandError::Other(other.to_string()),
    })
}

/// Reads and loads a model file within the loading budget, named after its file stem.
pub(crate) fn load_model_file(
    path: &std::path::Path,
    limits: LoadLimits,
) -> Result<LoadedModel, CommandError> {
    let (file, bytes) = read_model_file(path, limits)?;
    let name = path
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    LoadedModel::from_bytes_within(&name, &bytes, &file, None, limits).map_err(|e| match e {
        ModelLoadError::Model { message, .. } => CommandError::Model(message),
        other => CommandError::Other(other.to_string()),
    })
}
