//! Blob stores move bytes; they decide nothing. The ingest layer enforces
//! limits and hashes; the catalog decides what is visible. A store only
//! promises that a finished blob is durable, and that an unfinished one is
//! never found under a key.
//!
//! Stores choose their own keys, so no client-supplied name ever becomes a
//! path or an object name.

pub mod batch;
mod fs;
mod s3;

pub use fs::FileStore;
pub use s3::{S3Config, S3Store};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use std::ops::Range;
use std::time::Duration;

/// A blob's bytes as a stream of chunks.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob not found")]
    NotFound,
    #[error("invalid blob key {0:?}")]
    InvalidKey(String),
    #[error("blob store I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl BlobError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, BlobError::NotFound)
    }
}

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Starts a new blob under a fresh key the store chooses. Nothing is
    /// visible until [`BlobWriter::finish`] returns; dropping the writer
    /// instead discards what was written.
    async fn create(&self) -> Result<Box<dyn BlobWriter>, BlobError>;

    /// Reads a blob, or the `range` of it (clamped to its end by the caller,
    /// who knows the size from the catalog).
    async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream, BlobError>;

    /// Removes a blob. Removing a missing blob is not an error, so deletes
    /// can be retried.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;

    /// Keys of finished blobs older than `age`, for the sweep that removes
    /// blobs no catalog row refers to (left by a crash between a finished
    /// write and the catalog commit).
    async fn keys_older_than(&self, age: Duration) -> Result<Vec<String>, BlobError>;

    /// Removes unfinished writes older than `age` (all of them for
    /// `Duration::ZERO`, at start-up). Returns how many were removed.
    async fn sweep_staging(&self, age: Duration) -> Result<usize, BlobError>;

    /// A URL at which the store itself serves the blob for `expires_in`,
    /// answering with `headers`; None for a store without such URLs (local
    /// disk: intake serves the bytes).
    fn presigned_get(
        &self,
        key: &str,
        expires_in: Duration,
        headers: &ResponseHeaders,
    ) -> Result<Option<String>, BlobError> {
        let _ = (key, expires_in, headers);
        Ok(None)
    }
}

/// What a presigned GET answers with, whatever the object's own metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHeaders {
    pub content_type: String,
    pub content_disposition: String,
}

/// A fresh key: 128 random bits in lowercase hex.
fn new_key() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Keys come from the catalog, but are checked anyway: one that is not a
/// key this crate made never reaches a path or an object name.
fn check_key(key: &str) -> Result<&str, BlobError> {
    let valid = key.len() == 32
        && key
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    if valid {
        Ok(key)
    } else {
        Err(BlobError::InvalidKey(key.to_owned()))
    }
}

/// An unfinished blob. Chunks are written in order; `finish` makes them
/// durable and visible.
#[async_trait]
pub trait BlobWriter: Send {
    async fn write(&mut self, chunk: Bytes) -> Result<(), BlobError>;

    /// The source has nothing more for now: a store that gathers chunks
    /// hands them over instead of holding them through the wait.
    async fn idle(&mut self) -> Result<(), BlobError> {
        Ok(())
    }

    /// Makes the blob durable (it survives a power cut once this returns) and
    /// returns its key.
    async fn finish(self: Box<Self>) -> Result<String, BlobError>;
}
