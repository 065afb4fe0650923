//! `skserve slo rules`: the Prometheus rules for the SLOs of `slos.yaml` (the built-in one,
//! or `--config`), printed to standard output.

use std::io::Write;
use std::path::Path;

use crate::metrics::LATENCY_BUCKETS;
use crate::slo::{SloSpec, prometheus_rules};

use super::CommandError;

pub fn slo_rules(config: Option<&Path>, out: &mut impl Write) -> Result<(), CommandError> {
    let spec = match config {
        Some(path) => SloSpec::read(path, LATENCY_BUCKETS),
        None => Ok(SloSpec::embedded(LATENCY_BUCKETS)),
    }
    .map_err(|e| CommandError::Other(e.to_string()))?;
    out.write_all(prometheus_rules(&spec).as_bytes())
        .map_err(|e| CommandError::Other(format!("cannot write the rules: {e}")))
}
