//! Blobs in an S3-compatible object store (tested against Garage), through
//! object_store rather than hand-written requests.
//!
//! A writer holds up to one part in memory. A blob that ends before that is
//! sent with one PUT at `finish`; a larger one becomes a multipart upload
//! with at most `max_parts_in_flight` parts of `part_size` being sent, so a
//! write holds at most about `part_size × (max_parts_in_flight + 1)` bytes.
//! Neither shows an object before `finish`: a PUT appears whole, a
//! multipart upload on completion. A writer dropped unfinished aborts its
//! multipart upload.
//!
//! A crash leaves an incomplete multipart upload. S3 stores never show one
//! as an object, and object_store cannot list them, so `sweep_staging` has
//! nothing to do: give the bucket a lifecycle rule with
//! `AbortIncompleteMultipartUpload` to reclaim the space.

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, PutPayload, WriteMultipart};
use serde::{Deserialize, Serialize};

use crate::{BlobError, BlobStore, BlobWriter, ByteStream, ResponseHeaders, check_key, new_key};

/// Where and how to reach the bucket: `[storage.s3]` in the server's file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    /// The store's URL, e.g. `http://127.0.0.1:3900` for Garage; path-style
    /// requests. Unset: AWS itself (virtual-hosted style).
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Prepended to every object name (e.g. `intake/`), so a bucket can be
    /// shared.
    pub prefix: String,
    /// Bytes per multipart part (at least 5 MiB, S3's minimum) and the most
    /// a blob may have before it is sent as a multipart upload.
    pub part_size: usize,
    /// Parts of one blob being sent at once.
    pub max_parts_in_flight: usize,
}

impl Default for S3Config {
    fn default() -> S3Config {
        S3Config {
            endpoint: None,
            bucket: String::new(),
            region: "us-east-1".into(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            prefix: String::new(),
            part_size: 8 << 20,
            max_parts_in_flight: 4,
        }
    }
}

#[derive(Debug, Clone)]
pub struct S3Store {
    config: S3Config,
    store: Arc<dyn ObjectStore>,
    prefix: String,
    part_size: usize,
    in_flight: usize,
}

impl S3Store {
    /// Connects lazily: the first request finds out whether the bucket is
    /// reachable (see [`S3Store::check`]).
    pub fn open(config: &S3Config) -> Result<S3Store, BlobError> {
        const MIN_PART: usize = 5 << 20;
        if config.bucket.is_empty() {
            return Err(config_error("storage.s3.bucket is not set"));
        }
        if config.part_size < MIN_PART {
            return Err(config_error("storage.s3.part_size must be at least 5 MiB"));
        }
        if config.max_parts_in_flight == 0 {
            return Err(config_error(
                "storage.s3.max_parts_in_flight must be at least 1",
            ));
        }
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(&config.secret_access_key);
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        let store = builder.build().map_err(io_error)?;
        Ok(S3Store {
            config: config.clone(),
            store: Arc::new(store),
            prefix: config.prefix.clone(),
            part_size: config.part_size,
            in_flight: config.max_parts_in_flight,
        })
    }

    /// Lists one object name, so a wrong endpoint, bucket or key is found at
    /// start-up rather than at the first upload.
    pub async fn check(&self) -> Result<(), BlobError> {
        let prefix = self.blobs_dir();
        let mut listing = self.store.list(Some(&prefix));
        listing.next().await.transpose().map_err(io_error)?;
        Ok(())
    }

    /// Where the bucket is and how to sign for it: browsers POST signed
    /// forms straight to the store (upload intents).
    pub fn config(&self) -> &S3Config {
        &self.config
    }

    /// The bucket as a SigV4 signing target, with the store's own key:
    /// forms and URLs signed for it are checked by the store itself.
    pub fn signing_target(&self) -> intake_sigv4::Target {
        let c = &self.config;
        intake_sigv4::Target {
            endpoint: c
                .endpoint
                .clone()
                .unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", c.region)),
            bucket: c.bucket.clone(),
            region: c.region.clone(),
            access_key: c.access_key_id.clone(),
            secret: c.secret_access_key.clone(),
        }
    }

    /// The size of an object that is not a blob (a browser's direct
    /// upload, `name` under the prefix), or None when there is none.
    pub async fn object_size(&self, name: &str) -> Result<Option<u64>, BlobError> {
        match self.store.head(&self.object(name)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(io_error(e)),
        }
    }

    /// Reads such an object.
    pub async fn read_object(&self, name: &str) -> Result<ByteStream, BlobError> {
        let result = self
            .store
            .get(&self.object(name)?)
            .await
            .map_err(io_error)?;
        Ok(result.into_stream().map_err(std::io::Error::other).boxed())
    }

    /// Removes such an object; a missing one is not an error.
    pub async fn delete_object(&self, name: &str) -> Result<(), BlobError> {
        match self.store.delete(&self.object(name)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io_error(e)),
        }
    }

    /// The object `name` under the prefix, as it is: `Path::from` would
    /// percent-encode a browser's `ü` or `#` into another object's name.
    fn object(&self, name: &str) -> Result<Path, BlobError> {
        let full = format!("{}{name}", self.prefix);
        Path::parse(&full).map_err(|_| BlobError::InvalidKey(full))
    }

    fn blobs_dir(&self) -> Path {
        Path::from(format!("{}blobs", self.prefix))
    }

    fn path(&self, key: &str) -> Result<Path, BlobError> {
        let key = check_key(key)?;
        Ok(Path::from(format!("{}blobs/{key}", self.prefix)))
    }
}

fn config_error(message: &str) -> BlobError {
    BlobError::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        message.to_owned(),
    ))
}

fn io_error(error: object_store::Error) -> BlobError {
    match error {
        object_store::Error::NotFound { .. } => BlobError::NotFound,
        other => BlobError::Io(std::io::Error::other(other)),
    }
}

#[async_trait]
impl BlobStore for S3Store {
    async fn create(&self) -> Result<Box<dyn BlobWriter>, BlobError> {
        let key = new_key();
        Ok(Box::new(S3Writer {
            store: self.store.clone(),
            path: self.path(&key)?,
            key,
            part_size: self.part_size,
            in_flight: self.in_flight,
            state: State::Buffering(Vec::new(), 0),
        }))
    }

    async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream, BlobError> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = self
            .store
            .get_opts(&self.path(key)?, options)
            .await
            .map_err(io_error)?;
        Ok(result.into_stream().map_err(std::io::Error::other).boxed())
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self.store.delete(&self.path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io_error(e)),
        }
    }

    async fn keys_older_than(&self, age: Duration) -> Result<Vec<String>, BlobError> {
        let cutoff = chrono::Utc::now() - age;
        let dir = self.blobs_dir();
        let objects: Vec<_> = self
            .store
            .list(Some(&dir))
            .try_collect()
            .await
            .map_err(io_error)?;
        Ok(objects
            .into_iter()
            .filter(|meta| meta.last_modified < cutoff)
            .filter_map(|meta| meta.location.filename().map(str::to_owned))
            .filter(|key| check_key(key).is_ok())
            .collect())
    }

    async fn sweep_staging(&self, _age: Duration) -> Result<usize, BlobError> {
        // See the module notes: incomplete uploads are never visible, and
        // the bucket's lifecycle rule removes their parts.
        Ok(0)
    }

    fn presigned_get(
        &self,
        key: &str,
        expires_in: Duration,
        headers: &ResponseHeaders,
    ) -> Result<Option<String>, BlobError> {
        let object = self.path(key)?;
        let extra = [
            (
                "response-content-disposition".to_owned(),
                headers.content_disposition.clone(),
            ),
            (
                "response-content-type".to_owned(),
                headers.content_type.clone(),
            ),
        ];
        let expires_in = chrono::Duration::from_std(expires_in).unwrap_or(chrono::Duration::MAX);
        Ok(Some(self.signing_target().presign_get_with(
            object.as_ref(),
            &extra,
            chrono::Utc::now(),
            expires_in,
        )))
    }
}

enum State {
    /// Chunks so far and their total length, below one part.
    Buffering(Vec<Bytes>, usize),
    Multipart(WriteMultipart),
    Finished,
}

struct S3Writer {
    store: Arc<dyn ObjectStore>,
    path: Path,
    key: String,
    part_size: usize,
    in_flight: usize,
    state: State,
}

#[async_trait]
impl BlobWriter for S3Writer {
    async fn write(&mut self, chunk: Bytes) -> Result<(), BlobError> {
        match &mut self.state {
            State::Buffering(chunks, len) => {
                *len += chunk.len();
                chunks.push(chunk);
                if *len >= self.part_size {
                    let upload = self
                        .store
                        .put_multipart(&self.path)
                        .await
                        .map_err(io_error)?;
                    let mut parts = WriteMultipart::new_with_chunk_size(upload, self.part_size);
                    for chunk in chunks.drain(..) {
                        parts.write(&chunk);
                    }
                    self.state = State::Multipart(parts);
                }
            }
            State::Multipart(parts) => {
                parts
                    .wait_for_capacity(self.in_flight)
                    .await
                    .map_err(io_error)?;
                parts.write(&chunk);
            }
            State::Finished => unreachable!("write after finish"),
        }
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<String, BlobError> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Buffering(chunks, _) => {
                let payload: PutPayload = chunks.into_iter().collect();
                self.store
                    .put(&self.path, payload)
                    .await
                    .map_err(io_error)?;
            }
            State::Multipart(parts) => {
                parts.finish().await.map_err(io_error)?;
            }
            State::Finished => unreachable!("finish twice"),
        }
        Ok(std::mem::take(&mut self.key))
    }
}

impl Drop for S3Writer {
    fn drop(&mut self) {
        if let State::Multipart(parts) = std::mem::replace(&mut self.state, State::Finished)
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let path = self.path.clone();
            runtime.spawn(async move {
                if let Err(error) = parts.abort().await {
                    tracing::warn!(%path, %error, "could not abort an unfinished multipart upload");
                }
            });
        }
    }
}
