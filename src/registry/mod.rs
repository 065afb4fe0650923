//! The models being served, by name. Each entry is an [`ArcSwap`] so that a later refresh can
//! replace a model atomically while requests keep using the one they started with; the hot
//! path takes a cheap `load()` and never a lock.
//!
//! What does not live here: pickles and scikit-learn (`model`), where bytes come from (`store`),
//! HTTP (`http`). This module turns bytes fetched by a `store` into a [`LoadedModel`], keeps
//! them by name, and keeps them current.
//!
//! # Layout
//! - [`features`]: named columns and the one-hot encoding of named instances.
//! - [`profile`]: a model's reference profile, checked against the model.
//! - [`refresh`]: the first load with retries, and the loop that polls a store, loads, checks
//!   and swaps.
//! - [`loader`]: the one thread loads run on, in turn.

pub mod features;
pub mod loader;
pub mod profile;
pub mod refresh;

use std::collections::BTreeMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::model::{LoadError, LoadLimits, Model};
use crate::store::{Fetched, StoreError, content_version};
pub use features::{EncodeError, FeatureSchema, FieldValue};
pub use profile::{Profile, ProfileStatus};
pub use refresh::{RefreshPolicy, Refresher, load_at_start, record_served};

/// A model ready to serve, with what the HTTP layer needs to describe it.
#[derive(Debug)]
pub struct LoadedModel {
    name: String,
    version: String,
    /// The content hash of the model's bytes (its version too, when read from a file).
    content_hash: String,
    model: Model,
    features: Option<FeatureSchema>,
    /// Its reference profile, read with it.
    profile: ProfileStatus,
}

/// Why a model could not be made ready to serve.
#[derive(Debug, thiserror::Error)]
pub enum ModelLoadError {
    /// The model file itself was refused or is unusable (`LoadError::explain`).
    #[error("{message}")]
    Model {
        message: String,
        /// `refused`, `malformed`, `unsupported` or `too_large`: the metrics' failure
        /// reason.
        reason: &'static str,
    },
    #[error("{path}: {message}")]
    Features { path: String, message: String },
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A replacement whose feature count differs from the served model's.
    #[error(
        "{file} has {new} features but the served model has {old}; keeping the served model \
         (--allow-shape-change accepts it)"
    )]
    Shape {
        file: String,
        old: usize,
        new: usize,
    },
}

impl ModelLoadError {
    /// A short, bounded label for `skserve_model_refresh_failures_total{reason}`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Store(_) => "download",
            Self::Model { reason, .. } => reason,
            Self::Features { .. } => "features",
            Self::Shape { .. } => "shape",
        }
    }
}

impl LoadedModel {
    /// Loads model bytes; `features_json` (a JSON array of column names) takes precedence over
    /// the feature names stored in the model. `file` names the model in error messages.
    pub fn from_bytes(
        name: &str,
        bytes: &[u8],
        file: &str,
        features_json: Option<&[u8]>,
    ) -> Result<Self, ModelLoadError> {
        Self::from_bytes_within(name, bytes, file, features_json, LoadLimits::default())
    }

    /// [`LoadedModel::from_bytes`] within a loading budget.
    pub fn from_bytes_within(
        name: &str,
        bytes: &[u8],
        file: &str,
        features_json: Option<&[u8]>,
        limits: LoadLimits,
    ) -> Result<Self, ModelLoadError> {
        let model = Model::from_bytes_within(bytes, limits).map_err(|e| ModelLoadError::Model {
            message: e.explain(file),
            reason: match e {
                LoadError::Refused(_) => "refused",
                LoadError::Malformed(_) => "malformed",
                LoadError::Unsupported(_) => "unsupported",
                LoadError::TooLarge(_) => "too_large",
            },
        })?;
        let names = match features_json {
            Some(json) => Some(parse_feature_names(json, model.n_features()).map_err(
                |message| ModelLoadError::Features {
                    path: "features.json".into(),
                    message,
                },
            )?),
            // A Pipeline encodes its own columns (`Model::frame_builder`); a bare estimator
            // fitted on a frame of one-hot columns is fed through its names.
            None if model.is_pipeline() => None,
            None => model.feature_names(),
        };
        let version = content_version(bytes);
        Ok(Self {
            name: name.to_owned(),
            content_hash: version.clone(),
            version,
            features: names.map(FeatureSchema::new),
            model,
            profile: ProfileStatus::Absent,
        })
    }

    /// Loads what a store fetched; the version is the store's (generation or content hash).
    /// The profile read with it is checked against it; a refused one is logged, and the model
    /// loads all the same.
    pub fn from_fetched(
        name: &str,
        fetched: &Fetched,
        limits: LoadLimits,
    ) -> Result<Self, ModelLoadError> {
        let mut loaded = Self::from_bytes_within(
            name,
            &fetched.bytes,
            &fetched.file,
            fetched.features.as_deref(),
            limits,
        )?;
        loaded.version.clone_from(&fetched.version);
        loaded.profile = ProfileStatus::of(
            fetched.profile.as_ref(),
            name,
            &loaded.model,
            &loaded.column_names(),
            &loaded.content_hash,
        );
        Ok(loaded)
    }

    /// With `profile` as its reference profile.
    pub fn with_profile(mut self, profile: ProfileStatus) -> Self {
        self.profile = profile;
        self
    }

    /// The content hash of the model's bytes, whatever its version (a Cloud Storage object's is
    /// its generation): what a profile records of the model it was made with.
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    /// Its reference profile, as read with it.
    pub fn profile(&self) -> &ProfileStatus {
        &self.profile
    }

    /// The names of the columns it takes, as model health and profiles name them: the
    /// `features.json` names of a bare estimator that has them, else the model's own.
    pub fn column_names(&self) -> Vec<String> {
        match &self.features {
            Some(f) if f.names().len() == self.model.n_features() => f.names().to_vec(),
            _ => self
                .model
                .input()
                .columns
                .iter()
                .map(|c| c.name.clone())
                .collect(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Cloud Storage generation it was read at, or a short hash of a file's bytes (the same
    /// file always has the same version).
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The named columns of a bare estimator (a `features.json`, or stored names), whose
    /// named instances are one-hot encoded by name. A Pipeline has none: it encodes its own.
    pub fn features(&self) -> Option<&FeatureSchema> {
        self.features.as_ref()
    }

    /// The name of feature `i` as the final estimator sees it: from `features.json`, the
    /// model's own names (`cat__OPERA_Grupo LATAM` after a ColumnTransformer), or `x[i]` when
    /// the model has none.
    pub fn feature_name(&self, i: usize) -> std::borrow::Cow<'_, str> {
        match &self.features {
            Some(f) => f.names()[i].as_str().into(),
            None if self.model.is_pipeline() || self.model.input().named => {
                self.model.estimator_feature_names()[i].as_str().into()
            }
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

/// Models by name. The set of names is fixed at start; each model can be swapped in place.
/// Ordered rather than hashed: comparing a few names costs less than hashing one with SipHash,
/// and every request looks one up.
#[derive(Debug)]
pub struct Registry {
    default: String,
    models: BTreeMap<String, ArcSwap<LoadedModel>>,
}

impl Registry {
    /// A registry serving one model, which is also the default (the seed's `POST /`).
    pub fn single(model: LoadedModel) -> Self {
        let name = model.name().to_owned();
        let mut models = BTreeMap::new();
        models.insert(name.clone(), ArcSwap::from_pointee(model));
        Self {
            default: name,
            models,
        }
    }

    /// A registry of models; the first is the default (the seed's `POST /`).
    pub fn new(models: Vec<LoadedModel>) -> Self {
        let default = models
            .first()
            .map(|m| m.name().to_owned())
            .expect("a registry serves at least one model");
        let models = models
            .into_iter()
            .map(|m| (m.name().to_owned(), ArcSwap::from_pointee(m)))
            .collect();
        Self { default, models }
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
    use crate::store::{EMBEDDED_FEATURES, EMBEDDED_MODEL};

    #[test]
    fn embedded_model_has_named_features_and_a_stable_version() {
        let load = || {
            LoadedModel::from_bytes("m", EMBEDDED_MODEL, "m.pkl", Some(EMBEDDED_FEATURES)).unwrap()
        };
        let (a, b) = (load(), load());
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
