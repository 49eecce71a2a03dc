//! The `process_file` job: scan → inspect → checks → the file's final status.
//!
//! # Contract
//!
//! - Idempotent. A file that is gone or already final is left alone. Each step is recorded as a
//!   task (Running with `started_at`, then Done/Skipped/Failed with `finished_at`, a result and
//!   an error), and a step whose task is Done or Skipped is not run again, so a job taken over
//!   after a crash resumes where the dead worker stopped. Inspection's properties live in its
//!   task's result, so a resumed job does not need to inspect again to run the checks.
//! - The first step that refuses the file decides: `infected` (scan), `rejected` with reason
//!   `unrenderable` (inspect), `rejected` with `preflight`, `page_count` or `dimensions`
//!   (checks). Otherwise the file is `ready`. The steps not run are recorded as Skipped.
//! - The final status, its webhook deliveries and their jobs are committed together by
//!   `finish_file`, which acts once; only then is a freed blob deleted from the store.
//! - An error another attempt may fix (clamd down while scanning is required, the catalog or
//!   blob store unavailable) leaves the step's task Pending with the error, and the runner
//!   retries the job. When attempts run out, [`give_up`] marks that task Failed with the last
//!   error and the file `failed` (no reason code: it is not the file's fault).
//!
//! # Caveat
//!
//! A crash between `finish_file` and deleting a freed blob leaves the blob in the store with no
//! row referring to it; the orphan sweep (blob keys older than a day that no row uses) removes it.

use intake_catalog::FileOutcome;
use intake_core::{FileRecord, FileStatus, Reason, Task, TaskName, TaskState, now};
use intake_inspect::Properties;
use serde_json::Value;
use tracing::instrument;

use super::{Ctx, JobError, checks, inspect, scan, webhook};

/// A step's verdict against the file: its final status, reason code and why.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Refused {
    pub status: FileStatus,
    pub reason: Option<Reason>,
    pub detail: String,
}

#[instrument(skip_all, fields(file.id = %file_id))]
pub(crate) async fn run(ctx: &Ctx, file_id: &str) -> Result<(), JobError> {
    let file = match ctx.catalog.file_by_id(file_id).await {
        Ok(file) => file,
        Err(e) if e.is_not_found() => {
            tracing::debug!("the file was deleted; nothing to process");
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    if file.status.is_final() {
        return Ok(());
    }
    ctx.catalog.start_processing(&file.id).await?;
    let project = ctx
        .catalog
        .project(&file.tenant_id, &file.project_id)
        .await?;
    let policy = &project.policy;
    let mut log = TaskLog::load(ctx, &file.id).await?;

    if !log.settled(TaskName::Scan) {
        let scanned = scan::scan(ctx, &file, policy.scan, &mut log).await;
        if let Some(refused) = log.pending_on_error(TaskName::Scan, scanned).await? {
            return finish(ctx, &file, &mut log, refused, None).await;
        }
    }

    // None: inspection was skipped (nothing to inspect in this format).
    let props: Option<Properties> = match log.settled_result(TaskName::Inspect) {
        Some(result) => Some(serde_json::from_value(result).unwrap_or_default()),
        None if log.settled(TaskName::Inspect) => None,
        None => {
            let inspected = inspect::inspect(ctx, &file, &mut log).await;
            match log.pending_on_error(TaskName::Inspect, inspected).await? {
                Ok(props) => props,
                Err(refused) => return finish(ctx, &file, &mut log, refused, None).await,
            }
        }
    };
    let props_json = props.as_ref().and_then(|p| serde_json::to_value(p).ok());

    if !log.settled(TaskName::Checks) {
        let props = props.unwrap_or_default();
        let checked = checks::checks(&file, policy, &props, &mut log).await;
        if let Some(refused) = log.pending_on_error(TaskName::Checks, checked).await? {
            return finish(ctx, &file, &mut log, refused, props_json).await;
        }
    }

    let ready = Refused {
        status: FileStatus::Ready,
        reason: None,
        detail: String::new(),
    };
    finish(ctx, &file, &mut log, ready, props_json).await
}

/// The file ends `failed`: the first unfinished task takes the blame, with the last error.
#[instrument(skip_all, fields(file.id = %file_id))]
pub(crate) async fn give_up(ctx: &Ctx, file_id: &str, error: &str) -> Result<(), JobError> {
    let file = match ctx.catalog.file_by_id(file_id).await {
        Ok(file) => file,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if file.status.is_final() {
        return Ok(());
    }
    let mut log = TaskLog::load(ctx, &file.id).await?;
    let failing = TaskName::ALL.into_iter().find(|name| !log.settled(*name));
    if let Some(name) = failing {
        log.end(name, TaskState::Failed, None, Some(error.to_owned()))
            .await?;
    }
    let props = log.settled_result(TaskName::Inspect);
    let failed = Refused {
        status: FileStatus::Failed,
        reason: None,
        detail: error.to_owned(),
    };
    finish(ctx, &file, &mut log, failed, props).await
}

/// Records the final status once, with its deliveries; then deletes a freed blob.
async fn finish(
    ctx: &Ctx,
    file: &FileRecord,
    log: &mut TaskLog<'_>,
    end: Refused,
    properties: Option<Value>,
) -> Result<(), JobError> {
    let outcome = FileOutcome {
        status: end.status,
        reason: end.reason,
        properties,
        // Infected bytes are deleted unless the operator quarantines them (never served anyway).
        release_blob: end.status == FileStatus::Infected && !ctx.config.quarantine_infected,
    };
    let mut shown = file.clone();
    shown.status = outcome.status;
    shown.reason = outcome.reason;
    if outcome.properties.is_some() {
        shown.properties.clone_from(&outcome.properties);
    }
    shown.updated_at = now();
    let detail = (!end.detail.is_empty()).then_some(end.detail.as_str());
    let deliveries = match intake_core::Event::for_status(outcome.status) {
        Some(event) => webhook::deliveries_for(ctx, &shown, event, detail).await?,
        None => Vec::new(),
    };
    let (stored, freed) = ctx
        .catalog
        .finish_file(&file.id, &outcome, &deliveries, ctx.config.webhook_job())
        .await?;
    if stored.status == outcome.status {
        if !deliveries.is_empty() {
            ctx.waker.notify_one();
        }
        // Only now: marked before the commit, a retry after a failed commit would take these
        // steps for settled and could pass the file without them.
        let why = format!("not run: the file is {}", end.status.as_str());
        for name in TaskName::ALL {
            if log.get(name).is_none_or(|t| !t.state.is_final())
                && let Err(error) = log
                    .end(name, TaskState::Skipped, None, Some(why.clone()))
                    .await
            {
                tracing::warn!(%error, "could not record a step as not run");
            }
        }
    }
    tracing::info!(status = stored.status.as_str(), reason = ?stored.reason, "file processed");
    if let Some(key) = freed
        && let Err(error) = ctx.blobs.delete(&key).await
    {
        // The row no longer refers to it; the orphan sweep will remove it.
        tracing::warn!(%error, blob = %key, "could not delete a released blob");
    }
    Ok(())
}

/// A file's tasks as stored, written through to the catalog on every change.
pub(crate) struct TaskLog<'a> {
    ctx: &'a Ctx,
    file_id: String,
    tasks: Vec<Task>,
}

impl<'a> TaskLog<'a> {
    async fn load(ctx: &'a Ctx, file_id: &str) -> Result<TaskLog<'a>, JobError> {
        let tasks = ctx.catalog.tasks(file_id).await?;
        Ok(TaskLog {
            ctx,
            file_id: file_id.to_owned(),
            tasks,
        })
    }

    fn get(&self, name: TaskName) -> Option<&Task> {
        self.tasks.iter().find(|t| t.name == name)
    }

    /// Done or Skipped: the step need not run again.
    fn settled(&self, name: TaskName) -> bool {
        self.get(name)
            .is_some_and(|t| matches!(t.state, TaskState::Done | TaskState::Skipped))
    }

    /// The result of a Done step.
    fn settled_result(&self, name: TaskName) -> Option<Value> {
        self.get(name)
            .filter(|t| t.state == TaskState::Done)
            .and_then(|t| t.result.clone())
    }

    async fn save(&mut self, task: Task) -> Result<(), JobError> {
        self.ctx.catalog.save_task(&self.file_id, &task).await?;
        match self.tasks.iter_mut().find(|t| t.name == task.name) {
            Some(slot) => *slot = task,
            None => self.tasks.push(task),
        }
        Ok(())
    }

    pub(crate) async fn start(&mut self, name: TaskName) -> Result<(), JobError> {
        let task = Task {
            name,
            state: TaskState::Running,
            started_at: Some(now()),
            finished_at: None,
            result: None,
            error: None,
        };
        self.save(task).await
    }

    pub(crate) async fn end(
        &mut self,
        name: TaskName,
        state: TaskState,
        result: Option<Value>,
        error: Option<String>,
    ) -> Result<(), JobError> {
        let at = now();
        let started_at = self.get(name).and_then(|t| t.started_at).or(Some(at));
        let finished_at = state.is_final().then_some(at);
        self.save(Task {
            name,
            state,
            started_at,
            finished_at,
            result,
            error,
        })
        .await
    }

    pub(crate) async fn skip(
        &mut self,
        name: TaskName,
        why: impl Into<String>,
    ) -> Result<(), JobError> {
        self.end(name, TaskState::Skipped, None, Some(why.into()))
            .await
    }

    /// Passes a step's result on; on an error, leaves the task Pending with the error (so the
    /// API shows why the file waits) before the runner retries or gives up.
    async fn pending_on_error<T>(
        &mut self,
        name: TaskName,
        step: Result<T, JobError>,
    ) -> Result<T, JobError> {
        match step {
            Ok(value) => Ok(value),
            Err(error) => {
                let retry = if error.retryable { " (will retry)" } else { "" };
                let message = format!("{}{retry}", error.message);
                // The step's own error matters more than a failure to record it.
                if let Err(save_error) = self
                    .end(name, TaskState::Pending, None, Some(message))
                    .await
                {
                    tracing::warn!(%save_error, "could not record a step's error");
                }
                Err(error)
            }
        }
    }
}
