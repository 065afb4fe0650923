//! Shared fixtures: where the scikit-learn matrix lives (made on demand with the project's
//! Python venv), manifests, tolerant float comparison.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde::Deserialize;

#[path = "../common/made_by.rs"]
mod made_by;
use made_by::made_by;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The matrix of models trained by the live scikit-learn, made by
/// `tests/python/ensure_matrix.sh` (`tests/run.sh` runs it and sets `SKSERVE_MATRIX_DIR`).
/// Failing to make it fails the test: it needs Python and PyPI.
pub fn live_matrix() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(dir) = std::env::var_os("SKSERVE_MATRIX_DIR") {
            return PathBuf::from(dir);
        }
        let out = Command::new("bash")
            .arg(repo().join("tests/python/ensure_matrix.sh"))
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("cannot run tests/python/ensure_matrix.sh");
        assert!(
            out.status.success(),
            "tests/python/ensure_matrix.sh failed: the model tests need Python and PyPI"
        );
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
    .clone()
}

/// The Pipeline matrices, one per scikit-learn version, made by
/// `tests/python/pipelines/ensure_pipelines.sh` (`tests/run.sh` runs it and sets
/// `SKSERVE_PIPELINES_DIR`). Failing to make them fails the test: they need Python and PyPI.
pub fn pipeline_matrices() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        made_by(
            "SKSERVE_PIPELINES_DIR",
            "tests/python/pipelines/ensure_pipelines.sh",
        )
    })
    .clone()
}

/// The tree matrices, one per scikit-learn version, made by `tests/python/trees/ensure_trees.sh`
/// (`tests/run.sh` runs it and sets `SKSERVE_TREES_DIR`), as [`pipeline_matrices`] are.
pub fn tree_matrices() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| made_by("SKSERVE_TREES_DIR", "tests/python/trees/ensure_trees.sh"))
        .clone()
}

/// The estimator matrices, one per scikit-learn version, made by
/// `tests/python/estimators/ensure_estimators.sh` (`tests/run.sh` runs it and sets
/// `SKSERVE_ESTIMATORS_DIR`), as [`pipeline_matrices`] are.
pub fn estimator_matrices() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        made_by(
            "SKSERVE_ESTIMATORS_DIR",
            "tests/python/estimators/ensure_estimators.sh",
        )
    })
    .clone()
}

/// Two forests sized against the default loading budget, made by
/// `tests/python/trees/ensure_large_forests.sh` (scikit-learn 1.9), as [`tree_matrices`] are.
pub fn large_forests() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        made_by(
            "SKSERVE_LARGE_FORESTS_DIR",
            "tests/python/trees/ensure_large_forests.sh",
        )
    })
    .clone()
}

/// The census of scikit-learn 1.9's estimators, made by `tests/python/census/ensure_census.sh`
/// (`tests/run.sh` runs it and sets `SKSERVE_CENSUS_DIR`), as [`pipeline_matrices`] are.
pub fn census_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| made_by("SKSERVE_CENSUS_DIR", "tests/python/census/ensure_census.sh"))
        .clone()
}

#[derive(Debug, Deserialize)]
pub struct Manifest {
    pub sklearn_version: String,
    pub numpy_version: String,
    pub cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
pub struct Case {
    pub file: String,
    pub estimator: String,
    pub format: String,
    pub protocol: Option<u8>,
    pub input: String,
    pub expected: String,
    pub n_features: usize,
    pub has_predict_proba: bool,
}

#[derive(Debug, Deserialize)]
pub struct Expected {
    pub classes: serde_json::Value,
    pub predict: Vec<serde_json::Value>,
    pub predict_proba: Option<Vec<Vec<f64>>>,
    pub decision_function: serde_json::Value,
}

pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()))
}

/// Every directory under `root` that holds a manifest.json.
pub fn manifests_under(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("manifest.json").exists())
        .collect();
    dirs.sort();
    dirs
}

/// Scores agree when within `rel` of each other, relative to the larger; values whose
/// magnitude is below `floor` (decision values that cancel to about zero) compare absolutely.
pub fn close(a: f64, b: f64, rel: f64, floor: f64) -> bool {
    let scale = a.abs().max(b.abs()).max(floor);
    (a - b).abs() <= rel * scale
}

pub fn skserve() -> Command {
    Command::new(env!("CARGO_BIN_EXE_skserve"))
}
