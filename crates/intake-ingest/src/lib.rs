//! The streaming upload pipeline: a request body becomes durable blobs with
//! their size, SHA-256 and detected format, under every limit, without the
//! body ever being held whole in memory. It knows nothing of HTTP routes or
//! the catalog; front ends call [`read_form`] and then commit to the catalog.

mod body;
mod hash;
mod multipart;
mod pipeline;
pub mod sniff;

pub use body::Body;
pub use multipart::{
    Form, FormSpec, Gate, PartInfo, StagedFile, boundary, read_form, read_form_gated,
};
pub use pipeline::{StoredBlob, blob_error, store};

use intake_blob::BlobStore;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// Limits on one request, with safe defaults. Per-project policy may lower
/// the file size and count further.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest file in bytes (default 5 GiB).
    pub max_file_size: u64,
    /// Most files in one request (default 20).
    pub max_files: u32,
    /// Most parts of any kind in one request (default 100).
    pub max_parts: u32,
    /// Largest text field in bytes (default 64 KiB).
    pub max_field_bytes: u64,
    /// Most bytes a part's headers may take (default 16 KiB).
    pub max_part_header_bytes: u64,
    /// A client that sends nothing for this long is cut off (default 30 s).
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// How many leading bytes are sniffed for the format (default 8 KiB).
    pub sniff_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_size: 5 << 30,
            max_files: 20,
            max_parts: 100,
            max_field_bytes: 64 << 10,
            max_part_header_bytes: 16 << 10,
            idle_timeout: Duration::from_secs(30),
            sniff_bytes: sniff::SNIFF_BYTES,
        }
    }
}

/// The pipeline's error for multer failures inside a part's stream.
#[derive(Debug)]
pub struct MultipartError(intake_core::Error);

impl From<MultipartError> for intake_core::Error {
    fn from(e: MultipartError) -> intake_core::Error {
        e.0
    }
}

/// Deletes staged blobs that never made it into the catalog. Armed until
/// [`BlobGuard::disarm`]; a dropped armed guard deletes in the background.
pub struct BlobGuard {
    blobs: Arc<dyn BlobStore>,
    keys: Vec<String>,
}

impl std::fmt::Debug for BlobGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobGuard")
            .field("keys", &self.keys)
            .finish()
    }
}

impl BlobGuard {
    pub fn new(blobs: Arc<dyn BlobStore>) -> BlobGuard {
        BlobGuard {
            blobs,
            keys: Vec::new(),
        }
    }

    pub fn add(&mut self, key: String) {
        self.keys.push(key);
    }

    /// The blobs are now the catalog's: keep them.
    pub fn disarm(&mut self) {
        self.keys.clear();
    }

    /// Deletes the guarded blobs now rather than after the answer (on drop),
    /// so that a client that sees the answer sees the store as it is left.
    pub async fn release(mut self) {
        for key in std::mem::take(&mut self.keys) {
            if let Err(e) = self.blobs.delete(&key).await {
                // The orphan sweep will find it.
                tracing::warn!(%key, error = %e, "could not delete an unused blob");
            }
        }
    }
}

impl Drop for BlobGuard {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let keys = std::mem::take(&mut self.keys);
        let blobs = self.blobs.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                for key in keys {
                    if let Err(e) = blobs.delete(&key).await {
                        // The orphan sweep will find it.
                        tracing::warn!(%key, error = %e, "could not delete an unused blob");
                    }
                }
            });
        }
    }
}
