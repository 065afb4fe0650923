//! A model in Cloud Storage, read with the official `google-cloud-storage` client over its
//! JSON API. Credentials are Application Default Credentials (the metadata server on Cloud
//! Run, `GOOGLE_APPLICATION_CREDENTIALS` locally); with `STORAGE_EMULATOR_HOST` set, requests
//! go to that host without credentials, as Google's own clients do.
//!
//! A change is a new object generation. It is read without downloading the object: a ranged
//! read of its first byte returns the object's metadata, generation included (the emulator
//! ignores `ifGenerationNotMatch`, and the metadata RPC is gRPC-only).

use std::time::Duration;

use google_cloud_gax::retry_policy::RetryPolicyExt;
use google_cloud_storage::client::Storage;
use google_cloud_storage::model_ext::ReadRange;
use google_cloud_storage::retry_policy::RetryableErrors;

use super::{Fetched, ModelStore, StoreError};

const RANGE_NOT_SATISFIABLE: u16 = 416;
const NOT_FOUND: u16 = 404;

#[derive(Clone, Debug)]
pub struct GcsStore {
    client: Storage,
    /// `projects/_/buckets/BUCKET`, as the client names buckets.
    bucket_path: String,
    bucket: String,
    object: String,
}

impl GcsStore {
    /// Builds the client. Retries inside one read are few and short: the refresh loop has its
    /// own backoff, and a read that hangs for minutes would delay noticing a recovery.
    pub async fn connect(
        bucket: &str,
        object: &str,
        emulator_host: Option<&str>,
    ) -> Result<Self, StoreError> {
        let mut builder = Storage::builder().with_retry_policy(
            RetryableErrors
                .with_attempt_limit(3)
                .with_time_limit(Duration::from_secs(10)),
        );
        if let Some(host) = emulator_host {
            let endpoint = if host.contains("://") {
                host.to_owned()
            } else {
                format!("http://{host}")
            };
            builder = builder.with_endpoint(endpoint).with_credentials(
                google_cloud_auth::credentials::anonymous::Builder::new().build(),
            );
        }
        let client = builder.build().await.map_err(|e| StoreError::Gcs {
            what: format!("gs://{bucket}/{object}"),
            message: format!("cannot create the Cloud Storage client: {e}"),
        })?;
        Ok(Self {
            client,
            bucket_path: format!("projects/_/buckets/{bucket}"),
            bucket: bucket.to_owned(),
            object: object.to_owned(),
        })
    }

    fn error(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Gcs {
            what: self.describe(),
            message: e.to_string(),
        }
    }
}

impl ModelStore for GcsStore {
    fn describe(&self) -> String {
        format!("gs://{}/{}", self.bucket, self.object)
    }

    async fn probe(&self) -> Result<Option<String>, StoreError> {
        let ranged = self
            .client
            .read_object(&self.bucket_path, &self.object)
            .set_read_range(ReadRange::head(1))
            .send()
            .await;
        let response = match ranged {
            Ok(response) => response,
            // An empty object has no first byte: the ranged read is refused (416). Reading it
            // whole costs nothing and names its generation, so that the refresh loads it, is
            // refused as malformed, and remembers it instead of retrying a "download" failure
            // with ever longer waits until the object is fixed.
            Err(e) if e.http_status_code() == Some(RANGE_NOT_SATISFIABLE) => self
                .client
                .read_object(&self.bucket_path, &self.object)
                .send()
                .await
                .map_err(|e| self.error(e))?,
            Err(e) => return Err(self.error(e)),
        };
        Ok(Some(response.object().generation.to_string()))
    }

    async fn fetch(&self) -> Result<Fetched, StoreError> {
        self.fetch_within(u64::MAX).await
    }

    /// Refuses an object whose declared size is over `max_bytes` before reading its content,
    /// and stops reading one that passes it anyway.
    async fn fetch_within(&self, max_bytes: u64) -> Result<Fetched, StoreError> {
        let mut response = self
            .client
            .read_object(&self.bucket_path, &self.object)
            .send()
            .await
            .map_err(|e| self.error(e))?;
        let object = response.object();
        let file = self
            .object
            .rsplit('/')
            .next()
            .unwrap_or(&self.object)
            .to_owned();
        let declared = u64::try_from(object.size).unwrap_or(0);
        super::within(&file, declared, max_bytes)?;
        // The declared size is only a hint: never reserve more than 64 MiB up front.
        let hint = usize::try_from(declared).unwrap_or(0).min(64 << 20);
        let mut bytes = Vec::with_capacity(hint);
        while let Some(chunk) = response.next().await {
            let chunk = chunk.map_err(|e| self.error(e))?;
            super::within(&file, (bytes.len() + chunk.len()) as u64, max_bytes)?;
            bytes.extend_from_slice(&chunk);
        }
        let generation = object.generation.to_string();
        let sibling = super::profile::beside_object(&self.object);
        let profile = match self.read_limited(&sibling).await {
            Ok(None) => None,
            read => Some(super::FetchedProfile {
                location: format!("gs://{}/{sibling}", self.bucket),
                bytes: read.map(Option::unwrap_or_default),
            }),
        };
        Ok(Fetched {
            token: generation.clone(),
            version: generation,
            bytes,
            features: None,
            profile,
            file,
        })
    }
}

impl GcsStore {
    /// Reads `object` of this store's bucket, at most `profile::MAX_PROFILE_BYTES` of it;
    /// `None` when there is no such object.
    pub async fn read_limited(&self, object: &str) -> Result<Option<Vec<u8>>, String> {
        let location = format!("gs://{}/{object}", self.bucket);
        let mut response = match self
            .client
            .read_object(&self.bucket_path, object)
            .send()
            .await
        {
            Ok(response) => response,
            Err(e) if e.http_status_code() == Some(NOT_FOUND) => return Ok(None),
            Err(e) => return Err(format!("cannot read {location}: {e}")),
        };
        let size = u64::try_from(response.object().size).unwrap_or(0);
        if size > super::profile::MAX_PROFILE_BYTES {
            return Err(super::profile::too_large(&location, size));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        while let Some(chunk) = response.next().await {
            bytes.extend_from_slice(&chunk.map_err(|e| format!("cannot read {location}: {e}"))?);
            if bytes.len() as u64 > super::profile::MAX_PROFILE_BYTES {
                return Err(super::profile::too_large(&location, bytes.len() as u64));
            }
        }
        Ok(Some(bytes))
    }
}
