//! `complete_upload`: uploads that went straight to the S3 bucket with an upload intent's
//! form, completed without anyone asking.
//!
//! The service queues one job per intent when it signs a form for the bucket. The job asks
//! the service's completer to look for the object: found, the upload is completed through
//! the same path as `POST /v1/upload-intents/{id}/complete` (which acts once, so a call or
//! another node racing this job gets the same file); not there yet, the job runs again when
//! the completer says; no longer awaited, it ends. The lease keeps two nodes from looking at
//! the same intent at once.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use super::{Ctx, JobError};

/// What one look at an intent's upload decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadCheck {
    /// Completed, refused for good, or no longer awaited: the job is done.
    Settled,
    /// Nothing in the bucket yet: look again at this time.
    LookAgainAt(DateTime<Utc>),
}

/// Looks for the upload of the intent with this id; an error is retried with backoff.
pub type UploadCompleter =
    Arc<dyn Fn(String) -> BoxFuture<'static, Result<UploadCheck, String>> + Send + Sync>;

pub(crate) async fn complete(ctx: &Ctx, intent_id: &str) -> Result<(), JobError> {
    let Some(completer) = &ctx.completer else {
        // Another node (one that has the service) will take it.
        return Err(JobError::retry(
            "this runner cannot complete direct uploads",
        ));
    };
    match completer(intent_id.to_owned()).await {
        Ok(UploadCheck::Settled) => Ok(()),
        Ok(UploadCheck::LookAgainAt(at)) => Err(JobError::later(at, "not uploaded yet")),
        Err(message) => Err(JobError::retry(message)),
    }
}

/// Nothing to undo: the intent's download URL and completion call still work.
pub(crate) fn give_up(intent_id: &str, error: &str) -> Result<(), JobError> {
    tracing::warn!(intent = %intent_id, %error, "stopped looking for a direct upload");
    Ok(())
}
