//! Where a model comes from, as the command line names it: the built-in model, a file, or a
//! Cloud Storage object.

use std::path::PathBuf;

use super::EMBEDDED_MODEL_NAME;

/// Where the served model's bytes come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelSource {
    /// The challenge model compiled into the binary, with its `features.json`.
    Embedded,
    /// A pickle or joblib file; a `features.json` beside it names its columns.
    File(PathBuf),
    /// A Cloud Storage object, `gs://bucket/object`.
    Gcs { bucket: String, object: String },
}

impl ModelSource {
    /// `gs://bucket/object` or a path. A `gs://` URI without an object is kept as a path, so
    /// that reading it fails naming it.
    pub fn parse(uri: &str) -> Self {
        if let Some((bucket, object)) = uri
            .strip_prefix("gs://")
            .and_then(|rest| rest.split_once('/'))
            .filter(|(b, o)| !b.is_empty() && !o.is_empty())
        {
            return Self::Gcs {
                bucket: bucket.to_owned(),
                object: object.to_owned(),
            };
        }
        Self::File(PathBuf::from(uri))
    }

    /// The name a model is served under by default: the file or object's stem.
    pub fn default_name(&self) -> String {
        let stem = |path: &std::path::Path| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        match self {
            Self::Embedded => EMBEDDED_MODEL_NAME.into(),
            Self::File(path) => stem(path),
            Self::Gcs { object, .. } => stem(std::path::Path::new(object)),
        }
    }
}
