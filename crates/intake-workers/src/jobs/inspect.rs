//! The inspect step: pages, page sizes, dimensions, counts and flags, by `intake_inspect`.
//!
//! # Contract
//!
//! - The inspector needs `Read + Seek`, the blob store gives a stream: files up to
//!   [`IN_MEMORY_MAX`] are read into memory, larger ones into an anonymous temporary file
//!   (unlinked at creation, so it vanishes with the job whatever happens). Either way at most
//!   the catalog's `size` bytes are read: a blob that is longer than its row says is cut, not
//!   trusted.
//! - Parsing runs on a blocking thread, bounded in memory by `workers.inspect` limits and in
//!   time by `workers.inspect_timeout`. A file that cannot be parsed, is a decompression bomb,
//!   or takes too long ends `rejected` with reason `unrenderable`; the task's error says which.
//!   A storage error is retried.
//! - `binary` files have nothing to inspect: the task is Skipped and the file has no
//!   properties.
//!
//! # Caveat
//!
//! A blocking thread cannot be cancelled: after the time limit the job moves on, but the thread
//! runs until the inspector's own limits stop it. Those limits bound what it can cost.

use std::io::{Cursor, Read, Seek, SeekFrom, Write};

use bytes::Bytes;
use futures::StreamExt;
use intake_core::{FileRecord, FileStatus, Format, Reason, TaskName, TaskState};
use intake_inspect::{InspectError, Properties};

use super::process::{Refused, TaskLog};
use super::scan::blob_error;
use super::{Ctx, JobError};

/// Files up to this size are inspected from memory.
pub const IN_MEMORY_MAX: u64 = 8 * 1024 * 1024;

/// The bytes to inspect.
enum Source {
    Memory(Cursor<Vec<u8>>),
    File(std::fs::File),
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::Memory(c) => c.read(buf),
            Source::File(f) => f.read(buf),
        }
    }
}

impl Seek for Source {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        match self {
            Source::Memory(c) => c.seek(pos),
            Source::File(f) => f.seek(pos),
        }
    }
}

/// Runs the inspect step: `Ok(None)` when there is nothing to inspect, `Err(refused)` when
/// the file cannot be read as its format.
pub(crate) async fn inspect(
    ctx: &Ctx,
    file: &FileRecord,
    log: &mut TaskLog<'_>,
) -> Result<Result<Option<Properties>, Refused>, JobError> {
    if file.detected_format == Format::Binary {
        log.skip(TaskName::Inspect, "nothing to inspect in a binary file")
            .await?;
        return Ok(Ok(None));
    }
    log.start(TaskName::Inspect).await?;
    let (format, size, limits) = (file.detected_format, file.size, ctx.config.inspect.clone());
    let source = if format == Format::Pdf && size > limits.max_pdf_bytes {
        // The PDF inspector refuses these by their size, before reading: do not download them.
        Source::Memory(Cursor::new(Vec::new()))
    } else {
        download(ctx, file).await?
    };
    let work =
        tokio::task::spawn_blocking(move || intake_inspect::inspect(format, source, size, &limits));
    let timeout = ctx.config.inspect_timeout;
    let refusal = match tokio::time::timeout(timeout, work).await {
        Err(_elapsed) => format!("inspection took longer than {timeout:?}"),
        // The inspector promises never to panic; if it did, the file may not be at fault.
        Ok(Err(join)) => {
            tracing::error!(error = %join, "the inspector panicked");
            return Err(JobError::permanent("the inspector crashed on this file"));
        }
        Ok(Ok(Ok(props))) => {
            let result = serde_json::to_value(&props).ok();
            log.end(TaskName::Inspect, TaskState::Done, result, None)
                .await?;
            return Ok(Ok(Some(props)));
        }
        Ok(Ok(Err(InspectError::Io(e)))) => {
            return Err(JobError::retry(format!("reading the file to inspect: {e}")));
        }
        Ok(Ok(Err(refused))) => refused.to_string(),
    };
    tracing::info!(detail = %refusal, "unrenderable file");
    log.end(
        TaskName::Inspect,
        TaskState::Failed,
        None,
        Some(refusal.clone()),
    )
    .await?;
    Ok(Err(Refused {
        status: FileStatus::Rejected,
        reason: Some(Reason::Unrenderable),
        detail: refusal,
    }))
}

/// Reads at most `file.size` bytes of the blob into memory or a temporary file.
async fn download(ctx: &Ctx, file: &FileRecord) -> Result<Source, JobError> {
    let mut stream = ctx
        .blobs
        .get(&file.blob_key, None)
        .await
        .map_err(blob_error)?;
    let read_error =
        |e: std::io::Error| JobError::retry(format!("reading the file to inspect: {e}"));
    let mut left = file.size;
    let mut next_chunk = async || -> Result<Option<Bytes>, JobError> {
        if left == 0 {
            return Ok(None);
        }
        let Some(chunk) = stream.next().await else {
            return Ok(None);
        };
        let chunk = chunk.map_err(read_error)?;
        let take = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        left -= take as u64;
        Ok(Some(chunk.slice(..take)))
    };
    if file.size <= IN_MEMORY_MAX {
        let mut bytes = Vec::with_capacity(usize::try_from(file.size).unwrap_or(0));
        while let Some(chunk) = next_chunk().await? {
            bytes.extend_from_slice(&chunk);
        }
        return Ok(Source::Memory(Cursor::new(bytes)));
    }
    let mut temp = blocking(tempfile::tempfile).await?;
    // Written on blocking threads a batch at a time, so a slow disk never stalls the runtime.
    let mut batch: Vec<Bytes> = Vec::new();
    loop {
        let chunk = next_chunk().await?;
        let end = chunk.is_none();
        batch.extend(chunk);
        if end || batch.iter().map(Bytes::len).sum::<usize>() >= TEMP_BATCH {
            let chunks = std::mem::take(&mut batch);
            temp = blocking(move || {
                for chunk in chunks {
                    temp.write_all(&chunk)?;
                }
                if end {
                    temp.rewind()?;
                }
                Ok(temp)
            })
            .await?;
        }
        if end {
            return Ok(Source::File(temp));
        }
    }
}

/// Bytes written to the temporary file per blocking call.
const TEMP_BATCH: usize = 1 << 20;

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, JobError> {
    let temp_error = |e: std::io::Error| JobError::retry(format!("temporary file: {e}"));
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| JobError::retry(e.to_string()))?
        .map_err(temp_error)
}
