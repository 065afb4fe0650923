//! What `skserve inspect` reports of a file: its format and wrapping, what it holds when it
//! loads (estimator, chain, columns, classes, structure), and an audit of everything it
//! references, each allowed or refused. It works on refused and broken files too, and never
//! executes anything.

use super::format::{self, Audit};
use super::input::InputColumn;
use super::joblib::Container;
use super::pickle::GlobalRef;
use super::{Budget, LoadLimits, Model};

/// What `skserve inspect` reports of a file.
#[derive(Debug, serde::Serialize)]
pub struct Inspection {
    /// `pickle`, `joblib`, `zip`, `json`, `ubjson`, `lightgbm`, or `unknown`.
    pub format: &'static str,
    pub compression: Option<Container>,
    pub protocol: Option<u8>,
    pub loadable: bool,
    pub error: Option<String>,
    /// The class the file holds (`Pipeline`, `GridSearchCV`, `LogisticRegression`).
    pub estimator: Option<String>,
    /// Every class from the outside in: `ColumnTransformer>LogisticRegression`.
    pub chain: Option<String>,
    pub sklearn_version: Option<String>,
    pub n_features_in: Option<usize>,
    pub classes: Option<serde_json::Value>,
    pub feature_names: Option<Vec<String>>,
    /// The columns the model takes and what each accepts (numbers or strings).
    pub columns: Option<Vec<InputColumn>>,
    pub predict_proba: Option<bool>,
    /// What the model answers: `predict`, `predict_proba`, `decision_function`, …
    pub outputs: Option<Vec<&'static str>>,
    /// Every step with its columns, categories and settings.
    pub structure: Option<serde_json::Value>,
    /// Every global the file references, in order of first use, each allowed or refused.
    pub globals: Vec<GlobalRef>,
}

/// Audits `bytes` without executing anything; works on refused and broken files too.
pub fn inspect(bytes: &[u8], file: &str) -> Inspection {
    inspect_within(bytes, file, LoadLimits::default())
}

/// [`inspect`] with a loading budget: the audit, then the load, each within `limits`.
pub fn inspect_within(bytes: &[u8], file: &str, limits: LoadLimits) -> Inspection {
    let detected = format::detect(bytes).ok();
    let audit = detected
        .map(|f| {
            let budget = Budget::new(limits);
            match budget.charge(bytes.len(), || "the file".to_owned()) {
                Ok(()) => f.audit(bytes, &budget),
                Err(_) => Audit::default(),
            }
        })
        .unwrap_or_default();
    let loaded = Model::from_bytes_within(bytes, limits);
    let model = loaded.as_ref().ok();
    Inspection {
        format: audit
            .format
            .or(detected.map(|f| f.name()))
            .unwrap_or("unknown"),
        compression: audit.compression,
        protocol: audit.protocol,
        loadable: model.is_some(),
        error: loaded.as_ref().err().map(|e| e.explain(file)),
        estimator: model.map(|m| m.estimator().to_owned()),
        chain: model.map(|m| m.chain().to_owned()),
        sklearn_version: model.and_then(|m| m.sklearn_version().map(str::to_owned)),
        n_features_in: model.map(Model::n_features),
        classes: model.and_then(Model::classes_json),
        feature_names: model.and_then(Model::feature_names),
        columns: model.map(|m| m.input().columns.clone()),
        predict_proba: model.map(Model::has_predict_proba),
        outputs: model.map(|m| m.methods().iter().map(|m| m.name()).collect()),
        structure: model.map(|m| m.structure().clone()),
        globals: audit.globals,
    }
}
