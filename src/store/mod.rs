//! Where model bytes come from. A [`Store`] is the
//! built-in model, a local file or a Cloud Storage object, behind one interface
//! ([`ModelStore`]): a cheap [`ModelStore::probe`] that says whether the content changed
//! without reading it, and [`ModelStore::fetch`] that reads it.
//!
//! What does not live here: pickles (`model`), the served set of models and keeping them current
//! (`registry`), HTTP. A store supplies bytes and their version, nothing more.
//!
//! # Layout
//! - `source`: where a model comes from, as the command line names it.
//! - `local`: files, changes noticed by modification time and size.
//! - `gcs`: Cloud Storage objects through the official client, changes by generation.
//! - `profile`: the reference profile read with a model, beside it or from a named place.

mod gcs;
mod local;
pub mod profile;
mod source;

use std::future::Future;

use crate::model::budget::bytes;

pub use gcs::GcsStore;
pub use local::FileStore;
pub use profile::{FetchedProfile, ProfileAt};
pub use source::ModelSource;

/// The challenge model, built into the binary so that `skserve serve` works from any folder.
pub const EMBEDDED_MODEL: &[u8] = include_bytes!("../../model-files/pickle_model.pkl");
/// The column names of [`EMBEDDED_MODEL`].
pub const EMBEDDED_FEATURES: &[u8] = include_bytes!("../../model-files/features.json");
/// The name the built-in model is served under.
pub const EMBEDDED_MODEL_NAME: &str = "pickle_model";

/// A model's bytes as read, with what identifies them.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// What [`ModelStore::probe`] returns for this content (generation, mtime and size).
    pub token: String,
    /// The version the model is served as: the object generation for Cloud Storage, a hash of
    /// the bytes for a file.
    pub version: String,
    pub bytes: Vec<u8>,
    /// Column names (`features.json` beside a file), when there are some.
    pub features: Option<Vec<u8>>,
    /// The reference profile beside the model (or named by `--profile`), when there is one.
    pub profile: Option<FetchedProfile>,
    /// The model's file name, for messages.
    pub file: String,
}

/// Why bytes could not be read. Always about the store, never about the model's content.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot read {what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("cannot read {what}: {message}")]
    Gcs { what: String, message: String },
    /// Content larger than a load may hold, refused before it is read.
    #[error(
        "refusing to load {what}: too large: the file is {}, beyond the {} that \
         --max-model-bytes (SKSERVE_MAX_MODEL_BYTES) allows a load",
        bytes(*size),
        bytes(*limit)
    )]
    TooLarge { what: String, size: u64, limit: u64 },
}

/// One source of model bytes. Implementations must be cheap to probe: the refresh loop calls
/// [`probe`](Self::probe) every interval and [`fetch`](Self::fetch) only when it changed.
pub trait ModelStore: Send + Sync + 'static {
    /// `gs://bucket/object` or the file's path, for logs.
    fn describe(&self) -> String;
    /// A token that changes when the content does, read without downloading the content.
    /// `None` when the content can never change (the built-in model).
    fn probe(&self) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    /// The content and its token.
    fn fetch(&self) -> impl Future<Output = Result<Fetched, StoreError>> + Send;
    /// [`fetch`](Self::fetch), refusing content larger than `max_bytes`: a store that knows
    /// the size first refuses it before reading it.
    fn fetch_within(
        &self,
        max_bytes: u64,
    ) -> impl Future<Output = Result<Fetched, StoreError>> + Send {
        async move {
            let fetched = self.fetch().await?;
            within(&fetched.file, fetched.bytes.len() as u64, max_bytes)?;
            Ok(fetched)
        }
    }
}

/// Refuses `size` bytes of `what` beyond `limit`.
fn within(what: &str, size: u64, limit: u64) -> Result<(), StoreError> {
    if size > limit {
        return Err(StoreError::TooLarge {
            what: what.to_owned(),
            size,
            limit,
        });
    }
    Ok(())
}

/// Every kind of store skserve reads models from.
#[derive(Debug, Clone)]
pub enum Store {
    Embedded,
    File(FileStore),
    Gcs(Box<GcsStore>),
}

impl Store {
    /// Opens a source; for Cloud Storage, builds the client (credentials are resolved here,
    /// not on the first read). `emulator_host` is `STORAGE_EMULATOR_HOST`.
    pub async fn open(
        source: &ModelSource,
        emulator_host: Option<&str>,
    ) -> Result<Self, StoreError> {
        Ok(match source {
            ModelSource::Embedded => Self::Embedded,
            ModelSource::File(path) => Self::File(FileStore::new(path.clone())),
            ModelSource::Gcs { bucket, object } => Self::Gcs(Box::new(
                GcsStore::connect(bucket, object, emulator_host).await?,
            )),
        })
    }
}

impl ModelStore for Store {
    fn describe(&self) -> String {
        match self {
            Self::Embedded => "the built-in model".into(),
            Self::File(s) => s.describe(),
            Self::Gcs(s) => s.describe(),
        }
    }

    async fn probe(&self) -> Result<Option<String>, StoreError> {
        match self {
            Self::Embedded => Ok(None),
            Self::File(s) => s.probe().await,
            Self::Gcs(s) => s.probe().await,
        }
    }

    async fn fetch(&self) -> Result<Fetched, StoreError> {
        match self {
            Self::Embedded => Ok(Fetched {
                token: String::new(),
                version: content_version(EMBEDDED_MODEL),
                bytes: EMBEDDED_MODEL.to_vec(),
                features: Some(EMBEDDED_FEATURES.to_vec()),
                profile: None,
                file: "pickle_model.pkl".into(),
            }),
            Self::File(s) => s.fetch().await,
            Self::Gcs(s) => s.fetch().await,
        }
    }

    async fn fetch_within(&self, max_bytes: u64) -> Result<Fetched, StoreError> {
        match self {
            Self::Embedded => {
                let fetched = self.fetch().await?;
                within(&fetched.file, fetched.bytes.len() as u64, max_bytes)?;
                Ok(fetched)
            }
            Self::File(s) => s.fetch_within(max_bytes).await,
            Self::Gcs(s) => s.fetch_within(max_bytes).await,
        }
    }
}

/// Reads a model's bytes once, for `predict` and `inspect`: a path or `gs://bucket/object`
/// (honouring `STORAGE_EMULATOR_HOST`), refusing one larger than `max_bytes` before reading
/// it. Returns the file name for messages and the bytes.
pub fn read_once(location: &str, max_bytes: u64) -> Result<(String, Vec<u8>), StoreError> {
    let source = ModelSource::parse(location);
    if let ModelSource::File(path) = &source {
        let bytes = local::read_within(path, max_bytes)?;
        return Ok((local::file_name(path), bytes));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| StoreError::Io {
            what: location.to_owned(),
            source,
        })?;
    let emulator = std::env::var("STORAGE_EMULATOR_HOST")
        .ok()
        .filter(|h| !h.is_empty());
    runtime.block_on(async {
        let store = Store::open(&source, emulator.as_deref()).await?;
        let fetched = store.fetch_within(max_bytes).await?;
        Ok((fetched.file, fetched.bytes))
    })
}

/// 64-bit FNV-1a of the bytes, as 12 hex digits. It identifies content (is this the same
/// file?); it is not a defence against someone forging a file.
pub fn content_version(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", hash >> 16)
}
