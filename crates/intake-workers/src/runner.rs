//! The runner: claims jobs from the catalog's queue and runs them, and sweeps expired files.
//!
//! # Contract
//!
//! - At most `workers.workers` jobs run at once on this node. The runner claims only as many
//!   as it has free slots (`claim_jobs(node_id, free, lease)`), so jobs it cannot start stay in
//!   the queue for other nodes.
//! - While a job runs its lease is renewed every third of `workers.lease`. If renewal finds the
//!   lease lost (this node stalled past it and another took the job over), the job is dropped
//!   at once: the other worker owns it now, and every step is idempotent.
//! - Outcome: success → `finish_job`. A retryable error with attempts left →
//!   `retry_job(now + backoff(retry_base, attempts, retry_cap))`. Otherwise the kind's give-up
//!   action (the file `failed`, the delivery `failed`), then `bury_job`. A job claimed with
//!   `attempts > max_attempts` had its last attempt cut short by a dead worker: it is given up
//!   at once. If the give-up action itself fails, the job keeps its lease; when that runs out
//!   the job comes back and is given up again.
//! - Idle, the runner polls every `workers.poll_interval`; [`Workers::waker`] wakes it at once
//!   (the API side notifies it after committing an upload).
//! - Shutdown (the token is cancelled): no new claims; running jobs finish. Bound the wait from
//!   outside (`tokio::time::timeout(…, handle)`). A job cut off by process exit keeps its
//!   lease until it runs out, then another runner (or this one, restarted) takes it over.

use std::sync::Arc;
use std::time::Duration;

use intake_blob::BlobStore;
use intake_catalog::Catalog;
use intake_core::{Job, backoff, now};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info_span};

use crate::WorkerConfig;
use crate::clamd::Clamd;
use crate::jobs::direct::UploadCompleter;
use crate::jobs::{self, Ctx};
use crate::retention;

/// Everything that processes files, delivers webhooks and expires files on one node.
pub struct Workers {
    ctx: Ctx,
    node_id: String,
}

/// Why [`Workers::new`] refused to start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid workers configuration: {0}")]
    Config(String),
    #[error("could not build the webhook HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

impl Workers {
    /// `node_id` names this runner's leases; it must differ between live runners (see
    /// [`node_id`]).
    pub fn new(
        catalog: Arc<dyn Catalog>,
        blobs: Arc<dyn BlobStore>,
        config: WorkerConfig,
        node_id: impl Into<String>,
    ) -> Result<Workers, StartError> {
        config.validate().map_err(StartError::Config)?;
        let clamd = config.clamd.clone().map(|addr| {
            Clamd::new(addr)
                .with_timeout(config.clamd_timeout)
                .with_stream_max_length(config.clamd_stream_max_length)
        });
        let http = reqwest::Client::builder()
            .timeout(config.webhook_timeout)
            .connect_timeout(config.webhook_timeout)
            // A receiver must answer itself: a redirect could point the signed body anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("intake-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let ctx = Ctx {
            catalog,
            blobs,
            config,
            clamd,
            http,
            waker: Arc::new(Notify::new()),
            completer: None,
        };
        Ok(Workers {
            ctx,
            node_id: node_id.into(),
        })
    }

    /// Shares `waker` (e.g. the one the API side notifies after an upload) instead of the
    /// runner's own.
    pub fn with_waker(mut self, waker: Arc<Notify>) -> Workers {
        self.ctx.waker = waker;
        self
    }

    /// Runs `complete_upload` jobs with `completer` (the service's: uploads straight to the
    /// S3 bucket); without one this runner leaves them to others.
    pub fn with_upload_completer(mut self, completer: UploadCompleter) -> Workers {
        self.ctx.completer = Some(completer);
        self
    }

    /// Notify it (`notify_one`) to make an idle runner look for jobs at once.
    pub fn waker(&self) -> Arc<Notify> {
        self.ctx.waker.clone()
    }

    /// Runs until `shutdown` is cancelled and the running jobs have finished.
    pub async fn run(self, shutdown: CancellationToken) {
        let ctx = Arc::new(self.ctx);
        let slots = ctx.config.workers;
        if slots == 0 {
            tracing::info!("workers disabled on this node (workers = 0)");
            shutdown.cancelled().await;
            return;
        }
        tracing::info!(node = %self.node_id, slots, "workers started");
        let sweeper = tokio::spawn(retention_loop(ctx.clone(), shutdown.clone()));
        let config = &ctx.config;
        let mut running = JoinSet::new();
        while !shutdown.is_cancelled() {
            while let Some(ended) = running.try_join_next() {
                reap(ended);
            }
            let free = slots.saturating_sub(running.len());
            let mut claimed = 0;
            if free > 0 {
                let limit = u32::try_from(free).unwrap_or(u32::MAX);
                match ctx
                    .catalog
                    .claim_jobs(&self.node_id, limit, config.lease)
                    .await
                {
                    Ok(jobs) => {
                        claimed = jobs.len();
                        for job in jobs {
                            running.spawn(run_job(ctx.clone(), job));
                        }
                    }
                    Err(error) => tracing::warn!(%error, "could not claim jobs"),
                }
            }
            if claimed > 0 && claimed == free {
                // Every slot got a job: more may be due. Claim again when a slot frees.
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    Some(ended) = running.join_next() => reap(ended),
                }
                continue;
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = ctx.waker.notified() => {}
                _ = tokio::time::sleep(config.poll_interval) => {}
                Some(ended) = running.join_next(), if !running.is_empty() => reap(ended),
            }
        }
        tracing::info!(
            running = running.len(),
            "workers stopping; letting running jobs finish"
        );
        while let Some(ended) = running.join_next().await {
            reap(ended);
        }
        let _ = sweeper.await;
        tracing::info!("workers stopped");
    }
}

/// A job task that panicked keeps its lease; when the lease runs out the job is retried.
fn reap(ended: Result<(), tokio::task::JoinError>) {
    if let Err(error) = ended {
        tracing::error!(%error, "a job panicked; it will be retried when its lease runs out");
    }
}

/// A node id unique to this process: `$HOSTNAME` (or `node`), the pid and a random suffix.
pub fn node_id() -> String {
    let host = std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty());
    let random = intake_core::new_id("w");
    let suffix = random
        .get(random.len().saturating_sub(8)..)
        .unwrap_or(&random);
    format!(
        "{}-{}-{suffix}",
        host.as_deref().unwrap_or("node"),
        std::process::id()
    )
}

async fn run_job(ctx: Arc<Ctx>, job: Job) {
    let span = info_span!("job", job.id = job.id, job.kind = %job.kind, job.subject = %job.subject, job.attempt = job.attempts);
    run_job_inner(ctx, job).instrument(span).await;
}

async fn run_job_inner(ctx: Arc<Ctx>, job: Job) {
    let catalog = &ctx.catalog;
    if job.attempts > job.max_attempts {
        give_up(&ctx, &job, "the worker stopped during the last attempt").await;
        return;
    }
    let result = tokio::select! {
        result = jobs::execute(&ctx, &job) => result,
        () = keep_lease(&ctx, &job) => {
            tracing::warn!("lost the job's lease to another worker; dropping it");
            return;
        }
    };
    let outcome = match result {
        Ok(()) => catalog.finish_job(&job).await,
        Err(error) if error.retryable && job.attempts < job.max_attempts => {
            let run_at = match error.not_before {
                Some(at) => {
                    tracing::debug!(%error, %at, "job waits");
                    at
                }
                None => {
                    let delay = backoff(ctx.config.retry_base, job.attempts, ctx.config.retry_cap);
                    tracing::info!(%error, ?delay, "job failed; will retry");
                    let later = chrono::Duration::from_std(delay)
                        .ok()
                        .and_then(|d| now().checked_add_signed(d));
                    later.unwrap_or_else(now)
                }
            };
            catalog.retry_job(&job, run_at, &error.message).await
        }
        Err(error) => {
            give_up(&ctx, &job, &error.message).await;
            return;
        }
    };
    match outcome {
        Ok(true) => {}
        Ok(false) => tracing::warn!("the job's lease had passed to another worker"),
        Err(error) => {
            tracing::warn!(%error, "could not record the job's outcome; it will run again")
        }
    }
}

/// The give-up action, then the job is buried. On failure the job is left leased, to come
/// back when the lease runs out.
async fn give_up(ctx: &Ctx, job: &Job, error: &str) {
    tracing::warn!(%error, attempts = job.attempts, "giving up on the job");
    if let Err(e) = jobs::give_up(ctx, job, error).await {
        tracing::warn!(error = %e, "the give-up action failed; the job will come back");
        return;
    }
    if let Err(e) = ctx.catalog.bury_job(job, error).await {
        tracing::warn!(error = %e, "could not bury the job");
    }
}

/// Renews the lease every third of its length; returns only when the lease is lost.
async fn keep_lease(ctx: &Ctx, job: &Job) {
    let lease = ctx.config.lease;
    let every = (lease / 3).max(Duration::from_millis(10));
    loop {
        tokio::time::sleep(every).await;
        match ctx.catalog.extend_lease(job, lease).await {
            Ok(true) => {}
            Ok(false) => return,
            // A catalog hiccup: try again; the lease still has two thirds to go.
            Err(error) => tracing::warn!(%error, "could not renew a job's lease"),
        }
    }
}

async fn retention_loop(ctx: Arc<Ctx>, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(ctx.config.retention_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(error) = retention::sweep(&ctx).await {
            tracing::warn!(%error, "retention sweep failed; will try again");
        }
    }
}
