//! Group commit for SQLite.
//!
//! With `synchronous = FULL` every commit fsyncs the WAL on the one writer
//! connection, so commits queue behind each other's fsync (about five per
//! upload, which capped small uploads near 420/s). Instead the connection
//! runs with `synchronous = NORMAL`, where a commit only writes its frames
//! to the WAL file, and each writer waits for an fsync of the WAL file that
//! started after its commit. One fsync then covers every commit that landed
//! while the previous one ran, and the connection is free during it.
//!
//! This is as durable as FULL: a commit's frames are in the WAL (written, in
//! the page cache) when it returns, and the fsync makes them durable before
//! the caller hears of it. NORMAL keeps SQLite's consistency guarantees (the
//! WAL is synced before each checkpoint and the database after it), and WAL
//! recovery replays only a checksummed prefix of frames, so a crash before
//! the fsync loses only commits no caller was told of.

use crate::{CatalogError, Result};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Mutex;

#[derive(Debug)]
pub struct WalSync {
    wal: PathBuf,
    /// Commits counted as they return.
    committed: AtomicU64,
    /// How many of them the last finished fsync covers.
    synced: Mutex<u64>,
}

impl WalSync {
    pub fn new(database: &std::path::Path) -> WalSync {
        let mut wal = database.as_os_str().to_owned();
        wal.push("-wal");
        WalSync {
            wal: wal.into(),
            committed: AtomicU64::new(0),
            synced: Mutex::new(0),
        }
    }

    /// Waits until the commit that just returned on this task is durable.
    /// True when this call made the fsync, false when it shared another's.
    pub async fn commit_done(&self) -> Result<bool> {
        let mine = self.committed.fetch_add(1, Ordering::SeqCst) + 1;
        let mut synced = self.synced.lock().await;
        if *synced >= mine {
            // An fsync that started after this commit has finished.
            return Ok(false);
        }
        let covers = self.committed.load(Ordering::SeqCst);
        let wal = self.wal.clone();
        tokio::task::spawn_blocking(move || sync_file(&wal))
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r)
            .map_err(|e| {
                tracing::error!(error = %e, "fsync of the SQLite WAL failed");
                CatalogError::Unavailable(format!("fsync of the catalog's WAL: {e}"))
            })?;
        *synced = covers;
        Ok(true)
    }
}

fn sync_file(path: &std::path::Path) -> std::io::Result<()> {
    match std::fs::File::open(path) {
        Ok(file) => file.sync_data(),
        // No WAL: everything is in the database file, which checkpoints sync.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_commits_share_fsyncs() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("catalog.db");
        std::fs::write(dir.path().join("catalog.db-wal"), b"frames").unwrap();
        let wal = Arc::new(WalSync::new(&db));
        let commits: Vec<_> = (0..200)
            .map(|_| {
                let wal = wal.clone();
                tokio::spawn(async move { wal.commit_done().await })
            })
            .collect();
        let mut fsyncs = 0;
        for commit in commits {
            fsyncs += usize::from(commit.await.unwrap().unwrap());
        }
        assert!(
            (1..200).contains(&fsyncs),
            "{fsyncs} fsyncs for 200 commits"
        );

        // A commit after them all still gets an fsync of its own.
        assert!(wal.commit_done().await.unwrap());
    }
}
