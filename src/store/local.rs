//! A model in a local file. A change is noticed by the file's modification time and size (a
//! `stat` per interval, no inotify: it also works on network and container-mounted volumes).
//! A `features.json` beside the file names the model's columns; `NAME.profile.json` beside it
//! (`super::profile`) is its reference profile.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::{Fetched, ModelStore, StoreError, content_version};

#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    fn io(&self, path: &Path, source: std::io::Error) -> StoreError {
        let _ = self;
        StoreError::Io {
            what: path.display().to_string(),
            source,
        }
    }

    async fn token(&self) -> Result<String, StoreError> {
        let meta = tokio::fs::metadata(&self.path)
            .await
            .map_err(|e| self.io(&self.path, e))?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Ok(format!("{modified}-{}", meta.len()))
    }
}

impl ModelStore for FileStore {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    async fn probe(&self) -> Result<Option<String>, StoreError> {
        self.token().await.map(Some)
    }

    async fn fetch(&self) -> Result<Fetched, StoreError> {
        self.fetch_within(u64::MAX).await
    }

    async fn fetch_within(&self, max_bytes: u64) -> Result<Fetched, StoreError> {
        let token = self.token().await?;
        let path = self.path.clone();
        let bytes = tokio::task::spawn_blocking(move || read_within(&path, max_bytes))
            .await
            .map_err(|e| self.io(&self.path, std::io::Error::other(e)))??;
        let features_path = self
            .path
            .parent()
            .unwrap_or(Path::new("."))
            .join("features.json");
        let features = match tokio::fs::read(&features_path).await {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(self.io(&features_path, e)),
        };
        let profile = super::profile::read_file(&super::profile::beside(&self.path), false).await;
        Ok(Fetched {
            token,
            version: content_version(&bytes),
            bytes,
            features,
            profile,
            file: file_name(&self.path),
        })
    }
}

/// Reads a file of at most `max_bytes`, refusing a larger one from its size before reading
/// it (and, should it grow meanwhile, as soon as it passes the limit).
pub(super) fn read_within(path: &Path, max_bytes: u64) -> Result<Vec<u8>, StoreError> {
    use std::io::Read;
    let io = |source| StoreError::Io {
        what: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    super::within(&file_name(path), size, max_bytes)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    super::within(&file_name(path), bytes.len() as u64, max_bytes)?;
    Ok(bytes)
}

/// The file name of a path, for messages.
pub(super) fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
