//! Blobs as files on local disk, written durably.
//!
//! A write goes to `staging/<key>.part` on a blocking thread of its own (so a
//! slow disk never stalls the socket reads), then `finish` fsyncs the file,
//! renames it to `blobs/<2 hex>/<key>` and fsyncs that directory, because a
//! rename is only durable once its directory is (see the rename(2) and
//! fsync(2) notes on directory entries; Garage's `block/manager.rs` does the
//! same). object_store's `LocalFileSystem` renames without either fsync,
//! which is why this store is written here and not taken from a crate.
//!
//! Staging and blob directories live under one root, on one file system, so
//! the rename is atomic: a reader sees the whole blob or nothing.

use crate::{BlobError, BlobStore, BlobWriter, ByteStream, check_key, new_key};
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::mpsc;
use tokio_util::io::ReaderStream;

/// Chunks buffered between the request task and the writer thread.
const CHANNEL_DEPTH: usize = 16;
/// Small chunks are gathered into writes of this size. Every upload in
/// flight holds one such buffer, so it stays small: with 1 MiB, a thousand
/// slow uploads held a gigabyte (bench workload 3); chunks this large or
/// larger go to the kernel directly anyway.
const WRITE_BUFFER: usize = 64 << 10;
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
        let staging = self.staging.join(format!("{key}.part"));
        let target = self.blob_path(&key)?;
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&staging)
            .await?
            .into_std()
            .await;
        let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
        let thread = tokio::task::spawn_blocking(move || write_blob(file, rx, &staging, &target));
        Ok(Box::new(FileWriter { key, tx, thread }))
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

enum Message {
    Chunk(Bytes),
    Finish,
}

struct FileWriter {
    key: String,
    tx: mpsc::Sender<Message>,
    thread: tokio::task::JoinHandle<std::io::Result<()>>,
}

#[async_trait]
impl BlobWriter for FileWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<(), BlobError> {
        if self.tx.send(Message::Chunk(chunk)).await.is_err() {
            // The thread stopped early: its result says why.
            return Err(thread_error(&mut self.thread).await);
        }
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<String, BlobError> {
        if self.tx.send(Message::Finish).await.is_err() {
            return Err(thread_error(&mut self.thread).await);
        }
        drop(self.tx);
        self.thread.await.map_err(std::io::Error::other)??;
        Ok(self.key)
    }
}

async fn thread_error(thread: &mut tokio::task::JoinHandle<std::io::Result<()>>) -> BlobError {
    match thread.await {
        Ok(Err(e)) => BlobError::Io(e),
        Ok(Ok(())) => BlobError::Io(std::io::Error::other("blob writer stopped")),
        Err(e) => BlobError::Io(std::io::Error::other(e)),
    }
}

/// The writer thread. Without a `Finish` message (the request failed or was
/// dropped) the staging file is removed, so an aborted upload leaves nothing.
fn write_blob(
    file: File,
    mut rx: mpsc::Receiver<Message>,
    staging: &Path,
    target: &Path,
) -> std::io::Result<()> {
    let result = (|| {
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
        loop {
            match rx.blocking_recv() {
                Some(Message::Chunk(chunk)) => out.write_all(&chunk)?,
                Some(Message::Finish) => break,
                None => return Err(std::io::Error::other("blob write aborted")),
            }
        }
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(staging, target)?;
        sync_dir(target.parent().unwrap_or(Path::new(".")))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(staging);
    }
    result
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
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
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
        w.write(Bytes::from_static(b"half a file")).await.unwrap();
        drop(w);
        // The writer thread removes its staging file once it sees the channel close.
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
