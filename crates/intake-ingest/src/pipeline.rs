//! One file part, streamed into the blob store: every chunk is counted
//! against the size limit (failing at the first byte over), hashed, and
//! handed to the store's writer; the first bytes are kept to sniff the
//! format, which is checked as soon as they are in, so a refused format is
//! refused before the rest of the file is read. Memory per part is the
//! sniff buffer plus a batch or two of the store's and the hasher's (shared
//! chunks), whatever the file size; a client that pauses has its batch
//! handed over rather than held through the pause.

use crate::hash::Hasher;
use crate::sniff::sniff;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use intake_blob::{BlobError, BlobStore};
use intake_core::{Error, Format};

/// A finished, durable blob not yet recorded in the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredBlob {
    pub key: String,
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
    /// What the bytes look like.
    pub detected: Format,
    /// What `check` decided to record.
    pub format: Format,
}

/// A client that sends nothing for this long is slow: what was gathered from
/// it is written and hashed now rather than held until more comes.
const IDLE: std::time::Duration = std::time::Duration::from_millis(20);

pub fn blob_error(e: BlobError) -> Error {
    tracing::error!(error = %e, "blob store");
    Error::internal()
}

/// Streams `chunks` into a new blob. `check` sees the sniffed format once
/// the head is in (or the part ended) and returns the format to record, or
/// the error that refuses the file. On any error the partial blob is
/// discarded by the store.
pub async fn store<S, E>(
    mut chunks: S,
    blobs: &dyn BlobStore,
    max_size: u64,
    sniff_bytes: usize,
    check: impl FnOnce(Format) -> Result<Format, Error>,
) -> Result<StoredBlob, Error>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    Error: From<E>,
{
    let mut writer = blobs.create().await.map_err(blob_error)?;
    let mut hasher = Hasher::default();
    let mut size = 0u64;
    let mut head = Vec::with_capacity(sniff_bytes.min(64 * 1024));
    let mut check = Some(check);
    let mut decided = None;
    loop {
        let next = match tokio::time::timeout(IDLE, chunks.next()).await {
            Ok(next) => next,
            Err(_) => {
                // A slow client: nothing is held while it sends the rest.
                writer.idle().await.map_err(blob_error)?;
                hasher.idle().await;
                chunks.next().await
            }
        };
        let Some(chunk) = next else { break };
        let chunk = chunk?;
        size += chunk.len() as u64;
        if size > max_size {
            return Err(Error::payload_too_large(max_size));
        }
        if decided.is_none() {
            let take = (sniff_bytes - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
            if head.len() == sniff_bytes {
                let detected = sniff(&head);
                decided = Some((
                    detected,
                    check.take().map_or(Ok(detected), |c| c(detected))?,
                ));
            }
        }
        hasher.update(chunk.clone()).await;
        writer.write(chunk).await.map_err(blob_error)?;
    }
    let (detected, format) = match decided {
        Some(d) => d,
        None => {
            let detected = sniff(&head);
            (
                detected,
                check.take().map_or(Ok(detected), |c| c(detected))?,
            )
        }
    };
    let key = writer.finish().await.map_err(blob_error)?;
    Ok(StoredBlob {
        key,
        size,
        sha256: hasher.finish().await,
        detected,
        format,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use intake_blob::FileStore;
    use sha2::{Digest, Sha256};

    fn chunks(data: &[u8], size: usize) -> impl Stream<Item = Result<Bytes, Error>> + Unpin {
        let parts: Vec<_> = data
            .chunks(size.max(1))
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        futures::stream::iter(parts)
    }

    async fn count_files(dir: &std::path::Path) -> usize {
        let mut n = 0;
        for sub in ["staging", "blobs"] {
            for entry in walk(&dir.join(sub)) {
                if entry.is_file() {
                    n += 1;
                }
            }
        }
        n
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }

    #[tokio::test]
    async fn hashes_counts_and_sniffs() {
        let dir = tempfile::tempdir().unwrap();
        let fs = FileStore::open(dir.path()).await.unwrap();
        let data = [b"%PDF-1.4\n".as_slice(), &[7u8; 100_000]].concat();
        let got = store_ok(&fs, &data, 1 << 20).await;
        assert_eq!(got.size, data.len() as u64);
        assert_eq!(got.sha256, hex::encode(Sha256::digest(&data)));
        assert_eq!((got.detected, got.format), (Format::Pdf, Format::Pdf));
        let empty = store_ok(&fs, b"", 10).await;
        assert_eq!(
            empty.sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    async fn store_ok(fs: &FileStore, data: &[u8], max: u64) -> StoredBlob {
        store(chunks(data, 4096), fs, max, 8192, Ok).await.unwrap()
    }

    #[tokio::test]
    async fn a_client_that_pauses_gets_the_same_blob() {
        let dir = tempfile::tempdir().unwrap();
        let fs = FileStore::open(dir.path()).await.unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 241) as u8).collect();
        // Pauses longer than IDLE, so what is gathered is handed over early.
        let paced = chunks(&data, 100_000).then(|c| async move {
            tokio::time::sleep(IDLE * 2).await;
            c
        });
        let got = store(Box::pin(paced), &fs, 1 << 20, 8192, Ok)
            .await
            .unwrap();
        assert_eq!(got.sha256, hex::encode(Sha256::digest(&data)));
        let path = dir.path().join("blobs").join(&got.key[..2]).join(&got.key);
        assert_eq!(std::fs::read(path).unwrap(), data);
    }

    #[tokio::test]
    async fn over_the_limit_fails_at_once_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let fs = FileStore::open(dir.path()).await.unwrap();
        let err = store(chunks(&[1u8; 10_001], 1000), &fs, 10_000, 8192, Ok)
            .await
            .unwrap_err();
        assert_eq!(err.code, "payload_too_large");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(count_files(dir.path()).await, 0);
        // Exactly at the limit is fine.
        store_ok(&fs, &[1u8; 10_000], 10_000).await;
    }

    #[tokio::test]
    async fn a_refused_format_stops_after_the_head() {
        let dir = tempfile::tempdir().unwrap();
        let fs = FileStore::open(dir.path()).await.unwrap();
        let data = [b"\x89PNG\r\n\x1a\n".as_slice(), &[0u8; 50_000]].concat();
        let mut seen = 0;
        let counted = chunks(&data, 1024).inspect(|_| seen += 1);
        let refuse = |f: Format| Err(Error::bad_request("format_not_allowed", format!("{f}")));
        let err = store(counted, &fs, 1 << 20, 8192, refuse)
            .await
            .unwrap_err();
        assert_eq!(err.message, "png");
        assert_eq!(seen, 8, "stopped once 8 KiB were in");
    }
}
