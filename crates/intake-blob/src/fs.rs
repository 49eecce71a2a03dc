//! Blobs as files on local disk, written durably.
//!
//! A write goes to `staging/<key>.part` in batches on the blocking pool (so a
//! slow disk never stalls the socket reads, and no thread is held per
//! upload), then `finish` fsyncs the file, renames it to `blobs/<2 hex>/<key>`
//! and fsyncs that directory, because a rename is only durable once its
//! directory is (see the rename(2) and fsync(2) notes on directory entries;
//! Garage's `block/manager.rs` does the same). object_store's
//! `LocalFileSystem` renames without either fsync, which is why this store is
//! written here and not taken from a crate.
//!
//! Writeback starts every few MiB while the upload is still arriving, so the
//! final fsync only waits for the tail rather than the whole file.
//!
//! Staging and blob directories live under one root, on one file system, so
//! the rename is atomic: a reader sees the whole blob or nothing.

use crate::batch::Batch;
use crate::{BlobError, BlobStore, BlobWriter, ByteStream, check_key, new_key};
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use std::fs::File;
use std::io::{IoSlice, Write};
use std::num::NonZeroU64;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::task::JoinHandle;
use tokio_util::io::ReaderStream;

/// Writeback of what has been written is started every this many bytes.
const WRITEBACK_STEP: u64 = 8 << 20;
const READ_CHUNK: usize = 256 * 1024;

#[derive(Debug, Clone)]
pub struct FileStore {
    blobs: PathBuf,
    staging: PathBuf,
}

impl FileStore {
    /// Opens (creating when needed) a store under `root`.
    pub async fn open(root: impl Into<PathBuf>) -> Result<FileStore, BlobError> {
        let root = root.into();
        let store = FileStore {
            blobs: root.join("blobs"),
            staging: root.join("staging"),
        };
        let dirs = store.clone();
        tokio::task::spawn_blocking(move || dirs.create_dirs())
            .await
            .map_err(std::io::Error::other)??;
        Ok(store)
    }

    /// The 256 shard directories exist from the start, so a write never has
    /// to create (and fsync) a directory on the hot path.
    fn create_dirs(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.staging)?;
        std::fs::create_dir_all(&self.blobs)?;
        for shard in 0..=255u8 {
            let dir = self.blobs.join(format!("{shard:02x}"));
            if !dir.exists() {
                std::fs::create_dir(&dir)?;
            }
        }
        sync_dir(&self.blobs)?;
        sync_dir(&self.staging)?;
        if let Some(root) = self.blobs.parent() {
            sync_dir(root)?;
        }
        Ok(())
    }

    fn blob_path(&self, key: &str) -> Result<PathBuf, BlobError> {
        let key = check_key(key)?;
        Ok(self.blobs.join(&key[..2]).join(key))
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

fn older_than(path: &Path, age: Duration, now: SystemTime) -> bool {
    let modified = std::fs::metadata(path).and_then(|m| m.modified());
    match modified {
        Ok(t) => now.duration_since(t).is_ok_and(|d| d >= age),
        Err(_) => false,
    }
}

#[async_trait]
impl BlobStore for FileStore {
    async fn create(&self) -> Result<Box<dyn BlobWriter>, BlobError> {
        let key = new_key();
        let paths = Arc::new(Paths {
            staging: self.staging.join(format!("{key}.part")),
            target: self.blob_path(&key)?,
        });
        // The staging file is created by the first batch, so a small upload
        // costs one trip to the blocking pool in all.
        Ok(Box::new(FileWriter {
            key,
            paths,
            batch: Batch::default(),
            flight: None,
            finished: false,
        }))
    }

    async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream, BlobError> {
        let path = self.blob_path(key)?;
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(BlobError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let stream = match range {
            None => ReaderStream::with_capacity(file, READ_CHUNK).boxed(),
            Some(r) => {
                file.seek(std::io::SeekFrom::Start(r.start)).await?;
                let len = r.end.saturating_sub(r.start);
                ReaderStream::with_capacity(file.take(len), READ_CHUNK).boxed()
            }
        };
        Ok(stream)
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let path = self.blob_path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn keys_older_than(&self, age: Duration) -> Result<Vec<String>, BlobError> {
        let blobs = self.blobs.clone();
        let keys = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<String>> {
            let now = SystemTime::now();
            let mut keys = Vec::new();
            for shard in std::fs::read_dir(&blobs)? {
                let shard = shard?;
                if !shard.file_type()?.is_dir() {
                    continue;
                }
                for entry in std::fs::read_dir(shard.path())? {
                    let entry = entry?;
                    if older_than(&entry.path(), age, now) {
                        keys.push(entry.file_name().to_string_lossy().into_owned());
                    }
                }
            }
            Ok(keys)
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(keys)
    }

    async fn sweep_staging(&self, age: Duration) -> Result<usize, BlobError> {
        let staging = self.staging.clone();
        let removed = tokio::task::spawn_blocking(move || -> std::io::Result<usize> {
            let now = SystemTime::now();
            let mut removed = 0;
            for entry in std::fs::read_dir(&staging)? {
                let path = entry?.path();
                if older_than(&path, age, now) && std::fs::remove_file(&path).is_ok() {
                    removed += 1;
                }
            }
            Ok(removed)
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(removed)
    }
}

struct Paths {
    staging: PathBuf,
    target: PathBuf,
}

/// The staging file and how far it has been written.
struct Staged {
    file: File,
    written: u64,
    writeback_from: u64,
}

impl Staged {
    fn create(path: &Path) -> std::io::Result<Staged> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
        Ok(Staged {
            file,
            written: 0,
            writeback_from: 0,
        })
    }

    fn append(&mut self, chunks: &[Bytes]) -> std::io::Result<()> {
        let mut slices: Vec<IoSlice> = chunks.iter().map(|c| IoSlice::new(c)).collect();
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            let n = self.file.write_vectored(rest)?;
            if n == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            self.written += n as u64;
            IoSlice::advance_slices(&mut rest, n);
        }
        self.start_writeback();
        Ok(())
    }

    /// Asks the kernel to start writing back what was written since the
    /// last step. `POSIX_FADV_DONTNEED` starts writeback of dirty pages
    /// without waiting for it (as `sync_file_range(SYNC_FILE_RANGE_WRITE)`
    /// would, which has no safe binding), and pages still dirty or under
    /// writeback stay cached for the processing that reads them next.
    fn start_writeback(&mut self) {
        let len = self.written - self.writeback_from;
        if len < WRITEBACK_STEP {
            return;
        }
        let advice = rustix::fs::Advice::DontNeed;
        if let Err(e) = rustix::fs::fadvise(
            &self.file,
            self.writeback_from,
            NonZeroU64::new(len),
            advice,
        ) {
            tracing::debug!(error = %e, "fadvise");
        }
        self.writeback_from = self.written;
    }
}

/// A batch being written on the blocking pool; it hands the file back.
type Flight = JoinHandle<std::io::Result<Staged>>;

struct FileWriter {
    key: String,
    paths: Arc<Paths>,
    batch: Batch,
    /// At most one batch is written at a time, while the next one gathers.
    flight: Option<Flight>,
    finished: bool,
}

impl FileWriter {
    /// Starts writing the gathered batch, once the one before has landed.
    async fn hand_over(&mut self) -> std::io::Result<()> {
        let staged = self.land().await?;
        let chunks = self.batch.take();
        let paths = self.paths.clone();
        self.flight = Some(tokio::task::spawn_blocking(move || {
            append(staged, &paths, &chunks)
        }));
        Ok(())
    }

    /// Waits for the batch in flight; `None` before the first one.
    async fn land(&mut self) -> std::io::Result<Option<Staged>> {
        match self.flight.take() {
            Some(flight) => Ok(Some(flight.await.map_err(std::io::Error::other)??)),
            None => Ok(None),
        }
    }
}

/// Writes `chunks` to the staging file, creating it first if need be.
fn append(staged: Option<Staged>, paths: &Paths, chunks: &[Bytes]) -> std::io::Result<Staged> {
    let mut staged = match staged {
        Some(staged) => staged,
        None => Staged::create(&paths.staging)?,
    };
    staged.append(chunks)?;
    Ok(staged)
}

#[async_trait]
impl BlobWriter for FileWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<(), BlobError> {
        if self.batch.push(chunk) {
            self.hand_over().await?;
        }
        Ok(())
    }

    async fn idle(&mut self) -> Result<(), BlobError> {
        if !self.batch.is_empty() {
            self.hand_over().await?;
        }
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<String, BlobError> {
        let staged = self.land().await?;
        let chunks = self.batch.take();
        let paths = self.paths.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let staged = append(staged, &paths, &chunks)?;
            staged.file.sync_data()?;
            drop(staged);
            std::fs::rename(&paths.staging, &paths.target)?;
            sync_dir(paths.target.parent().unwrap_or(Path::new(".")))
        })
        .await
        .map_err(std::io::Error::other)??;
        self.finished = true;
        Ok(std::mem::take(&mut self.key))
    }
}

/// An unfinished writer (the request failed or was dropped) removes its
/// staging file once any batch in flight has landed, so an aborted upload
/// leaves nothing.
impl Drop for FileWriter {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let flight = self.flight.take();
        let paths = self.paths.clone();
        let remove = move || {
            if let Err(e) = std::fs::remove_file(&paths.staging)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(path = %paths.staging.display(), error = %e, "could not remove a staging file");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if let Some(flight) = flight {
                        let _ = flight.await;
                    }
                    let _ = tokio::task::spawn_blocking(remove).await;
                });
            }
            // Without a runtime nothing can be in flight.
            Err(_) => remove(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(store: &FileStore, key: &str, range: Option<Range<u64>>) -> Vec<u8> {
        let mut stream = store.get(key, range).await.unwrap();
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        out
    }

    fn staging_count(dir: &Path) -> usize {
        std::fs::read_dir(dir.join("staging")).unwrap().count()
    }

    #[tokio::test]
    async fn finished_blobs_round_trip_and_ranges_read_slices() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).await.unwrap();
        let mut w = store.create().await.unwrap();
        // Larger than a writeback step, in many batches.
        let data: Vec<u8> = (0..20_000_000u32).map(|i| (i % 251) as u8).collect();
        for chunk in data.chunks(65_536) {
            w.write(Bytes::copy_from_slice(chunk)).await.unwrap();
        }
        let key = w.finish().await.unwrap();
        assert_eq!(read_all(&store, &key, None).await, data);
        assert_eq!(read_all(&store, &key, Some(10..20)).await, &data[10..20]);
        assert_eq!(staging_count(dir.path()), 0);
        assert_eq!(
            store.keys_older_than(Duration::ZERO).await.unwrap(),
            vec![key.clone()]
        );
        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap();
        assert!(store.get(&key, None).await.is_err_and(|e| e.is_not_found()));
    }

    #[tokio::test]
    async fn a_dropped_writer_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).await.unwrap();
        let mut w = store.create().await.unwrap();
        // A full batch, so a staging file is being written when the writer goes.
        let half = Bytes::from(vec![7u8; crate::batch::BATCH_BYTES]);
        w.write(half).await.unwrap();
        drop(w);
        // The dropped writer removes its staging file once its batch in flight has landed.
        for _ in 0..200 {
            if staging_count(dir.path()) == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(staging_count(dir.path()), 0);
        assert!(
            store
                .keys_older_than(Duration::ZERO)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn keys_that_could_escape_the_store_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).await.unwrap();
        for key in ["../../etc/passwd", "", "ABCDEF0123456789abcdef0123456789"] {
            assert!(matches!(
                store.get(key, None).await,
                Err(BlobError::InvalidKey(_))
            ));
        }
    }

    #[tokio::test]
    async fn staging_sweep_removes_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).await.unwrap();
        std::fs::write(dir.path().join("staging/left.part"), b"x").unwrap();
        assert_eq!(
            store
                .sweep_staging(Duration::from_secs(3600))
                .await
                .unwrap(),
            0
        );
        assert_eq!(store.sweep_staging(Duration::ZERO).await.unwrap(), 1);
    }
}
