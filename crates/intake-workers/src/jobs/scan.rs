//! The scan step: the file's bytes streamed from the blob store to clamd (zINSTREAM).
//!
//! What each case does, by the project's `scan` mode:
//!
//! | case | `optional` | `required` |
//! |---|---|---|
//! | mode `off` | Skipped "scanning is off" | — |
//! | no clamd configured | Skipped | retried; in the end the file is `failed` |
//! | clean | Done | Done |
//! | infected | Failed; the file is `infected` | same |
//! | clamd unreachable, timeout, clamd error, odd reply | Skipped, with the error | retried; in the end `failed` |
//! | too large for clamd (`StreamMaxLength`) | Skipped, with the limit | `failed` at once (no retry can help) |
//! | the blob cannot be read | retried (storage, not clamd) | same |
//! | the blob is missing | `failed` at once | same |
//!
//! `required` never lets a file become `ready` unscanned. A too-large file under `required`
//! ends `failed` rather than `rejected` because no reason code describes "too large for the
//! scanner" and the seed dialects' tables must not grow a code by accident; the scan task's
//! error says why. Raising clamd's `StreamMaxLength` (and `workers.clamd_stream_max_length`)
//! is the fix.
//!
//! `optional` does not retry an unreachable clamd: a file should not wait minutes for a scan
//! the project said it can do without.

use intake_blob::BlobError;
use intake_core::{FileRecord, FileStatus, ScanMode, TaskName, TaskState};
use serde_json::json;
use tokio_util::io::StreamReader;

use super::process::{Refused, TaskLog};
use super::{Ctx, JobError};
use crate::clamd::{ScanError, Verdict};

/// Runs the scan step; `Some` when the file is infected.
pub(crate) async fn scan(
    ctx: &Ctx,
    file: &FileRecord,
    mode: ScanMode,
    log: &mut TaskLog<'_>,
) -> Result<Option<Refused>, JobError> {
    if mode == ScanMode::Off {
        log.skip(TaskName::Scan, "scanning is off for this project")
            .await?;
        return Ok(None);
    }
    let Some(clamd) = &ctx.clamd else {
        let why = "no virus scanner (clamd) is configured";
        if mode == ScanMode::Required {
            return Err(JobError::retry(format!("scanning is required but {why}")));
        }
        log.skip(TaskName::Scan, why).await?;
        return Ok(None);
    };
    log.start(TaskName::Scan).await?;
    let verdict = match clamd.check_size(file.size) {
        Ok(()) => {
            let stream = ctx
                .blobs
                .get(&file.blob_key, None)
                .await
                .map_err(blob_error)?;
            clamd.scan(StreamReader::new(stream)).await
        }
        Err(too_large) => Err(too_large),
    };
    match verdict {
        Ok(Verdict::Clean) => {
            let result = json!({ "verdict": "clean", "scanner": clamd.addr().to_string() });
            log.end(TaskName::Scan, TaskState::Done, Some(result), None)
                .await?;
            Ok(None)
        }
        Ok(Verdict::Infected { signature }) => {
            tracing::warn!(%signature, "infected file");
            let result = json!({ "verdict": "infected", "signature": signature });
            let detail = format!("infected: {signature}");
            log.end(
                TaskName::Scan,
                TaskState::Failed,
                Some(result),
                Some(detail.clone()),
            )
            .await?;
            Ok(Some(Refused {
                status: FileStatus::Infected,
                reason: None,
                detail,
            }))
        }
        Err(ScanError::Source(e)) => Err(JobError::retry(format!("reading the file to scan: {e}"))),
        Err(error) => {
            let message = error.to_string();
            match (mode, error) {
                (ScanMode::Required, ScanError::TooLarge { .. }) => {
                    Err(JobError::permanent(message))
                }
                (ScanMode::Required, _) => Err(JobError::retry(message)),
                _ => {
                    tracing::info!(error = %message, "scan skipped");
                    log.skip(TaskName::Scan, format!("not scanned: {message}"))
                        .await?;
                    Ok(None)
                }
            }
        }
    }
}

/// A missing blob will stay missing; any other store failure may pass.
pub(crate) fn blob_error(e: BlobError) -> JobError {
    match e {
        BlobError::NotFound | BlobError::InvalidKey(_) => {
            JobError::permanent("the file's bytes are missing from the blob store")
        }
        BlobError::Io(e) => JobError::retry(format!("blob store: {e}")),
    }
}
