//! The models being served, by name. Each entry is an [`ArcSwap`] so that a later refresh can
//! replace a model atomically while requests keep using the one they started with; the hot
//! path takes a cheap `load()` and never a lock.
//!
//! What does not live here: pickles and scikit-learn (`model`), HTTP (`http`). This module only
//! turns bytes from a [`ModelSource`] into a [`LoadedModel`] and keeps them by name.
//!
//! # Layout
//! - [`features`]: named columns and the one-hot encoding of named instances.

pub mod features;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::config::{EMBEDDED_FEATURES, EMBEDDED_MODEL, ModelSource};
use crate::model::Model;
pub use features::{EncodeError, FeatureSchema};

/// A model ready to serve, with what the HTTP layer needs to describe it.
#[derive(Debug)]
pub struct LoadedModel {
    name: String,
    version: String,
    model: Model,
    features: Option<FeatureSchema>,
}

/// Why a model could not be made ready to serve.
#[derive(Debug, thiserror::Error)]
pub enum ModelLoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// The model file itself was refused or is unusable (`LoadError::explain`).
    #[error("{0}")]
    Model(String),
    #[error("{path}: {message}")]
    Features { path: String, message: String },
}

impl LoadedModel {
    /// Reads and loads a model from its source; a `features.json` beside a file names its columns.
    pub fn load(source: &ModelSource, name: &str) -> Result<Self, ModelLoadError> {
        match source {
            ModelSource::Embedded => Self::from_bytes(
                name,
                EMBEDDED_MODEL,
                "pickle_model.pkl",
                Some(EMBEDDED_FEATURES),
            ),
            ModelSource::File(path) => {
                let bytes = std::fs::read(path).map_err(|source| ModelLoadError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                let features_path = path
                    .parent()
                    .unwrap_or(Path::new("."))
                    .join("features.json");
                let features = match std::fs::read(&features_path) {
                    Ok(bytes) => Some(bytes),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(source) => {
                        return Err(ModelLoadError::Read {
                            path: features_path.display().to_string(),
                            source,
                        });
                    }
                };
                let file = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                Self::from_bytes(name, &bytes, &file, features.as_deref()).map_err(|e| match e {
                    ModelLoadError::Features { message, .. } => ModelLoadError::Features {
                        path: features_path.display().to_string(),
                        message,
                    },
                    other => other,
                })
            }
        }
    }

    /// Loads model bytes; `features_json` (a JSON array of column names) takes precedence over
    /// the feature names stored in the model. `file` names the model in error messages.
    pub fn from_bytes(
        name: &str,
        bytes: &[u8],
        file: &str,
        features_json: Option<&[u8]>,
    ) -> Result<Self, ModelLoadError> {
        let model = Model::from_bytes(bytes).map_err(|e| ModelLoadError::Model(e.explain(file)))?;
        let names = match features_json {
            Some(json) => Some(parse_feature_names(json, model.n_features()).map_err(
                |message| ModelLoadError::Features {
                    path: "features.json".into(),
                    message,
                },
            )?),
            None => model.feature_names().map(<[String]>::to_vec),
        };
        Ok(Self {
            name: name.to_owned(),
            version: content_version(bytes),
            features: names.map(FeatureSchema::new),
            model,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A short hash of the model file's bytes: the same file always has the same version.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The model's named columns, when it has names (a `features.json` or stored names).
    pub fn features(&self) -> Option<&FeatureSchema> {
        self.features.as_ref()
    }

    /// The name of column `i`: its feature name, or `x[i]` when the model has none.
    pub fn feature_name(&self, i: usize) -> std::borrow::Cow<'_, str> {
        match &self.features {
            Some(f) => f.names()[i].as_str().into(),
            None => format!("x[{i}]").into(),
        }
    }
}

fn parse_feature_names(json: &[u8], n_features: usize) -> Result<Vec<String>, String> {
    let names: Vec<String> = serde_json::from_slice(json)
        .map_err(|e| format!("not a JSON array of column names: {e}"))?;
    if names.len() != n_features {
        return Err(format!(
            "names {} columns but the model has {n_features} features",
            names.len()
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = names.iter().find(|n| !seen.insert(n.as_str())) {
        return Err(format!("names the column '{dup}' twice"));
    }
    Ok(names)
}

/// 64-bit FNV-1a of the bytes, as 12 hex digits. It identifies content (is this the same
/// file?); it is not a defence against someone forging a file.
fn content_version(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", hash >> 16)
}

/// Models by name. The set of names is fixed at start; each model can be swapped in place.
#[derive(Debug)]
pub struct Registry {
    default: String,
    models: HashMap<String, ArcSwap<LoadedModel>>,
}

impl Registry {
    /// A registry serving one model, which is also the default (the seed's `POST /`).
    pub fn single(model: LoadedModel) -> Self {
        let name = model.name().to_owned();
        let mut models = HashMap::new();
        models.insert(name.clone(), ArcSwap::from_pointee(model));
        Self {
            default: name,
            models,
        }
    }

    pub fn get(&self, name: &str) -> Option<&ArcSwap<LoadedModel>> {
        self.models.get(name)
    }

    /// The model the seed-compatible route serves.
    pub fn default_model(&self) -> &ArcSwap<LoadedModel> {
        &self.models[&self.default]
    }

    /// Served model names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.models.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Replaces a served model; requests already holding the old one finish with it. A model
    /// whose name is not served is handed back.
    pub fn swap(&self, model: Arc<LoadedModel>) -> Result<(), Arc<LoadedModel>> {
        match self.models.get(model.name()) {
            Some(slot) => {
                slot.store(model);
                Ok(())
            }
            None => Err(model),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_model_has_named_features_and_a_stable_version() {
        let a = LoadedModel::load(&ModelSource::Embedded, "m").unwrap();
        let b = LoadedModel::load(&ModelSource::Embedded, "m").unwrap();
        assert_eq!(a.version(), b.version());
        assert_eq!(a.version().len(), 12);
        assert_eq!(a.feature_name(12), "OPERA_Grupo LATAM");
    }

    #[test]
    fn features_json_must_match_the_model() {
        let err = LoadedModel::from_bytes("m", EMBEDDED_MODEL, "m.pkl", Some(b"[\"a\"]"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("names 1 columns but the model has 37"),
            "{err}"
        );
    }
}
