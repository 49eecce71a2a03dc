//! The jobs the runner executes, and what they share.
//!
//! # Contract
//!
//! - A job is a function of its subject id: it reloads everything from the catalog, so a job
//!   that runs twice (its worker died after finishing the work but before removing the job)
//!   changes nothing the second time. Final writes go through catalog calls that act once
//!   (`finish_file`, `expire_file`).
//! - A job returns `Ok` when it is done (including "nothing to do": the file or delivery is
//!   gone), or a [`JobError`] that says whether another attempt may help. The runner retries
//!   retryable errors with backoff while attempts remain; otherwise it calls [`give_up`], the
//!   kind's last word (the file ends `failed`, the delivery `failed`), and buries the job.
//!   A job that waits for something returns [`JobError::later`]: run again at that time.

pub(crate) mod checks;
pub(crate) mod direct;
pub(crate) mod inspect;
pub(crate) mod process;
pub(crate) mod scan;
pub(crate) mod webhook;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use intake_blob::BlobStore;
use intake_catalog::{Catalog, CatalogError};
use intake_core::{Job, JobKind};
use tokio::sync::Notify;

use crate::WorkerConfig;
use crate::clamd::Clamd;

/// What every job needs: shared by all of a runner's tasks.
pub(crate) struct Ctx {
    pub catalog: Arc<dyn Catalog>,
    pub blobs: Arc<dyn BlobStore>,
    pub config: WorkerConfig,
    pub clamd: Option<Clamd>,
    pub http: reqwest::Client,
    /// Woken when a job queued new jobs (webhook deliveries), so they start at once.
    pub waker: Arc<Notify>,
    /// Completes uploads that went straight to the S3 bucket (`complete_upload` jobs).
    pub completer: Option<direct::UploadCompleter>,
}

/// Why a job did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JobError {
    pub message: String,
    /// Whether another attempt may succeed (an outage), or will fail the same way.
    pub retryable: bool,
    /// Run again at this time rather than after the backoff: not a failure, the job
    /// waits for something (an upload that has not arrived yet).
    pub not_before: Option<DateTime<Utc>>,
}

impl JobError {
    pub fn retry(message: impl Into<String>) -> JobError {
        JobError {
            message: message.into(),
            retryable: true,
            not_before: None,
        }
    }

    pub fn later(at: DateTime<Utc>, message: impl Into<String>) -> JobError {
        JobError {
            message: message.into(),
            retryable: true,
            not_before: Some(at),
        }
    }

    pub fn permanent(message: impl Into<String>) -> JobError {
        JobError {
            message: message.into(),
            retryable: false,
            not_before: None,
        }
    }
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Catalog failures are outages (or bugs that a later attempt may not hit): retried. A
/// missing row is handled where it means something before it gets here.
impl From<CatalogError> for JobError {
    fn from(e: CatalogError) -> JobError {
        JobError::retry(format!("catalog: {e}"))
    }
}

/// Runs one claimed job.
pub(crate) async fn execute(ctx: &Ctx, job: &Job) -> Result<(), JobError> {
    match job.kind {
        JobKind::ProcessFile => process::run(ctx, &job.subject).await,
        JobKind::DeliverWebhook => webhook::deliver(ctx, &job.subject).await,
        JobKind::CompleteUpload => direct::complete(ctx, &job.subject).await,
    }
}

/// The last word on a job that will not be attempted again: the file ends `failed`, or the
/// delivery is marked failed. Idempotent, like the jobs themselves.
pub(crate) async fn give_up(ctx: &Ctx, job: &Job, error: &str) -> Result<(), JobError> {
    match job.kind {
        JobKind::ProcessFile => process::give_up(ctx, &job.subject, error).await,
        JobKind::DeliverWebhook => webhook::give_up(ctx, &job.subject, error).await,
        JobKind::CompleteUpload => direct::give_up(&job.subject, error),
    }
}
