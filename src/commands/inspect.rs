//! `skserve inspect`: a model file described as JSON, with the audit of its globals. It reports
//! refused and broken files too (exit 2 after printing), since that is when an audit matters.

use std::io::Write;
use std::path::Path;

use super::{CommandError, read_model_file};
use crate::model::LoadLimits;

pub fn inspect(path: &Path, limits: LoadLimits, out: &mut impl Write) -> Result<(), CommandError> {
    let (name, bytes) = read_model_file(path, limits)?;
    let report = crate::model::inspect_within(&bytes, &name, limits);
    let json = serde_json::to_string_pretty(&report).expect("an inspection always serialises");
    writeln!(out, "{json}")
        .map_err(|e| CommandError::Other(format!("cannot write the report: {e}")))?;
    match report.error {
        Some(error) => Err(CommandError::Model(error)),
        None => Ok(()),
    }
}
