//! `skserve inspect`: a model file described as JSON, with the audit of its globals. It reports
//! refused and broken files too (exit 2 after printing), since that is when an audit matters.

use std::io::Write;
use std::path::Path;

use super::{CommandError, read_model_file};

pub fn inspect(path: &Path, out: &mut impl Write) -> Result<(), CommandError> {
    let (name, bytes) = read_model_file(path)?;
    let report = crate::model::inspect(&bytes, &name);
    let json = serde_json::to_string_pretty(&report).expect("an inspection always serialises");
    writeln!(out, "{json}")
        .map_err(|e| CommandError::Other(format!("cannot write the report: {e}")))?;
    match report.error {
        Some(error) => Err(CommandError::Model(error)),
        None => Ok(()),
    }
}
