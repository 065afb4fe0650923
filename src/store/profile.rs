//! Where a model's reference profile comes from: `NAME.profile.json` beside the model (the
//! model's path or object with its extension replaced), read with the model whenever the model
//! is read, so that a new generation brings its own; or a place named with `--profile
//! NAME=PATH` ([`ProfileAt`]). Only bytes: what a profile says is `crate::registry::profile`'s.
//!
//! A profile that cannot be read never fails the model's read: its error travels in
//! [`FetchedProfile::bytes`], and the model serves without it.

use std::path::{Path, PathBuf};

use super::{Fetched, ModelSource, ModelStore, StoreError};

/// The largest profile read: far more than a profile of thousands of columns needs, and a
/// bound on what a wrong file can make the service hold.
pub const MAX_PROFILE_BYTES: u64 = 16 << 20;

/// A profile's bytes as read, or why they could not be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedProfile {
    /// The file or `gs://` object, for messages and `/slo.json`.
    pub location: String,
    pub bytes: Result<Vec<u8>, String>,
}

/// The profile beside a model at `path`: the same path with its extension replaced.
pub fn beside(path: &Path) -> PathBuf {
    path.with_extension("profile.json")
}

/// The profile object beside a model object (`models/m.pkl` → `models/m.profile.json`).
pub fn beside_object(object: &str) -> String {
    let (folder, file) = object
        .rsplit_once('/')
        .map_or(("", object), |(d, f)| (d, f));
    let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    let stem = if stem.is_empty() { file } else { stem };
    if folder.is_empty() {
        format!("{stem}.profile.json")
    } else {
        format!("{folder}/{stem}.profile.json")
    }
}

/// Reads a profile file; `None` when it does not exist and was not asked for by name
/// (`required`).
pub async fn read_file(path: &Path, required: bool) -> Option<FetchedProfile> {
    let location = path.display().to_string();
    let bytes = match tokio::fs::metadata(path).await {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return None,
        Err(e) => Err(format!("cannot read {location}: {e}")),
        Ok(meta) if meta.len() > MAX_PROFILE_BYTES => Err(too_large(&location, meta.len())),
        Ok(_) => tokio::fs::read(path)
            .await
            .map_err(|e| format!("cannot read {location}: {e}")),
    };
    Some(FetchedProfile { location, bytes })
}

pub(super) fn too_large(location: &str, size: u64) -> String {
    format!("{location} holds {size} bytes, more than a profile may ({MAX_PROFILE_BYTES} bytes)")
}

/// A store whose models' profile is read from one named place (`--profile NAME=PATH`, a file
/// or `gs://bucket/object`) instead of beside each model, at every read of the model.
#[derive(Debug, Clone)]
pub struct ProfileAt<S> {
    inner: S,
    /// `None`: the profile beside the model, as the store reads it.
    profile: Option<ModelSource>,
    /// `STORAGE_EMULATOR_HOST`, for a profile in Cloud Storage.
    emulator_host: Option<String>,
}

impl<S> ProfileAt<S> {
    pub fn new(inner: S, profile: Option<ModelSource>, emulator_host: Option<String>) -> Self {
        Self {
            inner,
            profile,
            emulator_host,
        }
    }

    /// The store of the model itself.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: ModelStore> ModelStore for ProfileAt<S> {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    async fn probe(&self) -> Result<Option<String>, StoreError> {
        self.inner.probe().await
    }

    async fn fetch(&self) -> Result<Fetched, StoreError> {
        let mut fetched = self.inner.fetch().await?;
        match &self.profile {
            None => {}
            Some(ModelSource::File(path)) => fetched.profile = read_file(path, true).await,
            Some(ModelSource::Gcs { bucket, object }) => {
                let location = format!("gs://{bucket}/{object}");
                let bytes =
                    match super::GcsStore::connect(bucket, object, self.emulator_host.as_deref())
                        .await
                    {
                        Ok(store) => match store.read_limited(object).await {
                            Ok(Some(bytes)) => Ok(bytes),
                            Ok(None) => Err(format!("cannot read {location}: no such object")),
                            Err(message) => Err(message),
                        },
                        Err(e) => Err(e.to_string()),
                    };
                fetched.profile = Some(FetchedProfile { location, bytes });
            }
            Some(ModelSource::Embedded) => fetched.profile = None,
        }
        Ok(fetched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_sits_beside_its_model_with_the_extension_replaced() {
        assert_eq!(
            beside(Path::new("/models/flights.pkl")),
            Path::new("/models/flights.profile.json")
        );
        assert_eq!(
            beside(Path::new("model.joblib")),
            Path::new("model.profile.json")
        );
        assert_eq!(beside_object("models/m.pkl"), "models/m.profile.json");
        assert_eq!(beside_object("m"), "m.profile.json");
        assert_eq!(beside_object("a.b/m.tar.gz"), "a.b/m.tar.profile.json");
    }

    #[tokio::test]
    async fn a_missing_file_is_no_profile_unless_named() {
        let path = std::env::temp_dir().join("skserve-no-such-profile.profile.json");
        assert_eq!(read_file(&path, false).await, None);
        let named = read_file(&path, true).await.unwrap();
        assert!(named.bytes.unwrap_err().starts_with("cannot read "));
    }
}
