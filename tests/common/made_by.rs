//! The test data Python makes, shared by the test binaries (each includes this file): the
//! directory an environment variable names (`tests/run.sh` sets them), or else the one a
//! script under `tests/python/` makes and prints.

use std::path::PathBuf;

/// The directory `variable` names, or the one `script` (relative to the repository) makes and
/// prints. Failing to make it fails the test: it needs Python 3.11 and PyPI.
pub fn made_by(variable: &str, script: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os(variable) {
        return PathBuf::from(dir);
    }
    let out = std::process::Command::new("bash")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(script))
        .stderr(std::process::Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
    assert!(
        out.status.success(),
        "{script} failed: these tests need Python 3.11 and PyPI"
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}
