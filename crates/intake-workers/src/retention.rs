//! The retention sweep: files past their `expires_at` become `expired` and lose their bytes.
//!
//! # Contract
//!
//! - Every `workers.retention_interval`, files due for expiry are taken in batches of
//!   [`BATCH`]. Each is expired by `expire_file`, which acts once (several nodes may sweep at
//!   the same time) and commits the `file.expired` deliveries with the change.
//! - The catalog says which blob key the expiry freed: a blob shared with another file of the
//!   tenant (deduplicated bytes) is kept until its last file goes. The freed key is deleted from
//!   the store after the commit; a crash in between leaves an orphan for the orphan sweep.
//! - A file still processing can expire; its job then finds it final and stops.

use intake_core::{Event, FileStatus, now};
use tracing::instrument;

use crate::jobs::{Ctx, JobError, webhook};

/// Files expired per catalog query.
pub const BATCH: u32 = 100;

/// Expires every file that is due; returns how many this call expired.
#[instrument(skip_all)]
pub(crate) async fn sweep(ctx: &Ctx) -> Result<usize, JobError> {
    let mut expired = 0;
    loop {
        let due = ctx.catalog.due_for_expiry(now(), BATCH).await?;
        let full = due.len() == BATCH as usize;
        let mut progressed = false;
        for file in due {
            let mut shown = file.clone();
            shown.status = FileStatus::Expired;
            shown.updated_at = now();
            let deliveries = webhook::deliveries_for(ctx, &shown, Event::FileExpired, None).await?;
            let (won, freed) = ctx
                .catalog
                .expire_file(&file.id, &deliveries, ctx.config.webhook_job())
                .await?;
            if won {
                expired += 1;
                progressed = true;
                tracing::info!(file.id = %file.id, "file expired");
            }
            if let Some(key) = freed
                && let Err(error) = ctx.blobs.delete(&key).await
            {
                tracing::warn!(%error, blob = %key, "could not delete an expired file's blob");
            }
        }
        if expired > 0 {
            ctx.waker.notify_one();
        }
        // Another batch only when this one was full and did something (no busy loop when
        // another node is expiring the same files).
        if !full || !progressed {
            return Ok(expired);
        }
    }
}
