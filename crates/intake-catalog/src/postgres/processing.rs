//! The job queue, tasks and file outcomes, webhooks and their deliveries,
//! and retention.
//!
//! Several nodes share the queue. A claim locks the rows it takes with
//! `FOR UPDATE SKIP LOCKED`, so concurrent claimers split the due jobs
//! between them instead of waiting on each other. Leases are timed by the
//! database's clock (`lease_until` is set and compared there), so nodes whose
//! clocks disagree still take a dead node's job over only once its lease has
//! run out. `run_at` stays the caller's time, compared with the caller's
//! clock, as the trait hands it over.

use super::files::release_blob;
use super::rows::{self, ms, time};
use crate::{CatalogError, FileOutcome, JobTemplate, NewJob, Result};
use chrono::{DateTime, Utc};
use intake_core::{Delivery, FileRecord, Job, JobKind, Task, Webhook};
use sqlx::{PgConnection, PgPool, Row};
use std::time::Duration;

/// The database's clock in milliseconds since the epoch.
const DB_NOW_MS: &str = "(floor(extract(epoch FROM now()) * 1000)::BIGINT)";

pub async fn insert_job(conn: &mut PgConnection, job: &NewJob) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO jobs (kind, subject, state, attempts, max_attempts, run_at, created_at)
         VALUES ($1, $2, 'queued', 0, $3, $4, $5) RETURNING id",
    )
    .bind(job.kind.as_str())
    .bind(&job.subject)
    .bind(i64::from(job.max_attempts))
    .bind(ms(job.run_at))
    .bind(ms(intake_core::now()))
    .fetch_one(conn)
    .await?;
    Ok(id)
}

pub async fn enqueue(db: &PgPool, job: &NewJob) -> Result<i64> {
    let mut conn = db.acquire().await?;
    insert_job(&mut conn, job).await
}

/// A lease in milliseconds, bounded so the database's sum cannot overflow.
fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis())
        .unwrap_or(i64::MAX)
        .min(i64::MAX / 4)
}

/// Claims due jobs, and jobs whose lease ran out (their worker died).
pub async fn claim_jobs(db: &PgPool, owner: &str, limit: u32, lease: Duration) -> Result<Vec<Job>> {
    let sql = format!(
        "WITH due AS (
             SELECT id FROM jobs
             WHERE (state = 'queued' AND run_at <= $3) OR (state = 'running' AND lease_until <= {DB_NOW_MS})
             ORDER BY run_at, id
             LIMIT $4
             FOR UPDATE SKIP LOCKED)
         UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = {DB_NOW_MS} + $2,
                attempts = jobs.attempts + 1
         FROM due WHERE jobs.id = due.id
         RETURNING jobs.id, jobs.kind, jobs.subject, jobs.attempts, jobs.max_attempts,
                   jobs.lease_owner, jobs.lease_until"
    );
    let rows = sqlx::query(&sql)
        .bind(owner)
        .bind(lease_ms(lease))
        .bind(ms(intake_core::now()))
        .bind(i64::from(limit))
        .fetch_all(db)
        .await?;
    rows.iter()
        .map(|row| {
            let kind: String = row.try_get("kind")?;
            Ok(Job {
                id: row.try_get("id")?,
                kind: JobKind::parse(&kind)
                    .ok_or_else(|| CatalogError::Other(format!("bad job kind {kind:?}")))?,
                subject: row.try_get("subject")?,
                attempts: row.try_get::<i64, _>("attempts")? as u32,
                max_attempts: row.try_get::<i64, _>("max_attempts")? as u32,
                lease_owner: row.try_get("lease_owner")?,
                lease_until: time(row.try_get("lease_until")?)?,
            })
        })
        .collect()
}

/// Each of these acts only while the caller still holds the lease, so a
/// worker that lost its job to another does not undo the other's work.
/// Placeholders `$1` and `$2` are the job's id and lease owner.
const OWNED: &str = "id = $1 AND lease_owner = $2 AND state = 'running'";

pub async fn extend_lease(db: &PgPool, job: &Job, lease: Duration) -> Result<bool> {
    let sql = format!("UPDATE jobs SET lease_until = {DB_NOW_MS} + $3 WHERE {OWNED}");
    let done = sqlx::query(&sql)
        .bind(job.id)
        .bind(&job.lease_owner)
        .bind(lease_ms(lease))
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn finish_job(db: &PgPool, job: &Job) -> Result<bool> {
    let sql = format!("DELETE FROM jobs WHERE {OWNED}");
    let done = sqlx::query(&sql)
        .bind(job.id)
        .bind(&job.lease_owner)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn retry_job(db: &PgPool, job: &Job, run_at: DateTime<Utc>, error: &str) -> Result<bool> {
    let sql = format!(
        "UPDATE jobs SET state = 'queued', run_at = $3, last_error = $4, lease_owner = NULL, lease_until = NULL WHERE {OWNED}"
    );
    let done = sqlx::query(&sql)
        .bind(job.id)
        .bind(&job.lease_owner)
        .bind(ms(run_at))
        .bind(error)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn bury_job(db: &PgPool, job: &Job, error: &str) -> Result<bool> {
    let sql = format!(
        "UPDATE jobs SET state = 'failed', last_error = $3, lease_until = NULL WHERE {OWNED}"
    );
    let done = sqlx::query(&sql)
        .bind(job.id)
        .bind(&job.lease_owner)
        .bind(error)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn file_by_id(db: &PgPool, id: &str) -> Result<FileRecord> {
    let row = sqlx::query("SELECT * FROM files WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await?;
    rows::file(&row)
}

pub async fn tasks(db: &PgPool, file_id: &str) -> Result<Vec<Task>> {
    let rows = sqlx::query("SELECT * FROM tasks WHERE file_id = $1")
        .bind(file_id)
        .fetch_all(db)
        .await?;
    let mut tasks: Vec<Task> = rows.iter().map(rows::task).collect::<Result<_>>()?;
    tasks.sort_by_key(|t| intake_core::TaskName::ALL.iter().position(|n| *n == t.name));
    Ok(tasks)
}

pub async fn save_task(db: &PgPool, file_id: &str, task: &Task) -> Result<()> {
    sqlx::query(
        "INSERT INTO tasks (file_id, name, state, started_at, finished_at, result, error) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (file_id, name) DO UPDATE SET state = excluded.state, started_at = excluded.started_at,
            finished_at = excluded.finished_at, result = excluded.result, error = excluded.error",
    )
    .bind(file_id)
    .bind(task.name.as_str())
    .bind(task.state.as_str())
    .bind(task.started_at.map(ms))
    .bind(task.finished_at.map(ms))
    .bind(task.result.as_ref().map(serde_json::Value::to_string))
    .bind(&task.error)
    .execute(db)
    .await?;
    Ok(())
}

/// `received` → `processing`; other statuses are left alone.
pub async fn start_processing(db: &PgPool, file_id: &str) -> Result<()> {
    sqlx::query("UPDATE files SET status = 'processing', updated_at = $1 WHERE id = $2 AND status = 'received'")
        .bind(ms(intake_core::now()))
        .bind(file_id)
        .execute(db)
        .await?;
    Ok(())
}

async fn insert_deliveries(
    conn: &mut PgConnection,
    deliveries: &[Delivery],
    job: &JobTemplate,
) -> Result<()> {
    for d in deliveries {
        sqlx::query(
            "INSERT INTO deliveries (id, webhook_id, event, payload, state, attempts, last_status, last_response, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&d.id)
        .bind(&d.webhook_id)
        .bind(d.event.as_str())
        .bind(d.payload.to_string())
        .bind(d.state.as_str())
        .bind(i64::from(d.attempts))
        .bind(d.last_status.map(i64::from))
        .bind(&d.last_response)
        .bind(ms(d.created_at))
        .bind(ms(d.updated_at))
        .execute(&mut *conn)
        .await?;
        insert_job(&mut *conn, &job.for_subject(&d.id)).await?;
    }
    Ok(())
}

/// Records a file's final status once: a file already final is returned
/// unchanged and nothing is queued, so a repeated step changes nothing. Two
/// nodes finishing the same file at once queue on its row; the second finds
/// it final.
pub async fn finish_file(
    db: &PgPool,
    file_id: &str,
    outcome: &FileOutcome,
    deliveries: &[Delivery],
    job: &JobTemplate,
) -> Result<(FileRecord, Option<String>)> {
    let mut tx = db.begin().await?;
    let row = sqlx::query(
        "UPDATE files SET status = $1, reason = $2, properties = COALESCE($3, properties), updated_at = $4
         WHERE id = $5 AND status IN ('received', 'processing') RETURNING *",
    )
    .bind(outcome.status.as_str())
    .bind(outcome.reason.map(|r| r.as_str()))
    .bind(outcome.properties.as_ref().map(serde_json::Value::to_string))
    .bind(ms(intake_core::now()))
    .bind(file_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok((file_by_id(db, file_id).await?, None));
    };
    let mut file = rows::file(&row)?;
    insert_deliveries(&mut tx, deliveries, job).await?;
    let freed = if outcome.release_blob {
        release_file_blob(&mut tx, &mut file).await?
    } else {
        None
    };
    tx.commit().await?;
    Ok((file, freed))
}

/// Drops the file's reference to its bytes (expired, or infected and not
/// quarantined). The row stays, so the file's history can still be read.
async fn release_file_blob(
    conn: &mut PgConnection,
    file: &mut FileRecord,
) -> Result<Option<String>> {
    if file.blob_key.is_empty() {
        return Ok(None);
    }
    let freed = release_blob(&mut *conn, &file.blob_key).await?;
    sqlx::query("UPDATE files SET blob_key = '' WHERE id = $1")
        .bind(&file.id)
        .execute(conn)
        .await?;
    file.blob_key.clear();
    Ok(freed)
}

pub async fn create_webhook(db: &PgPool, hook: &Webhook) -> Result<()> {
    sqlx::query("INSERT INTO webhooks (id, tenant_id, project_id, url, events, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&hook.id)
        .bind(&hook.tenant_id)
        .bind(&hook.project_id)
        .bind(&hook.url)
        .bind(serde_json::to_string(&hook.events)?)
        .bind(&hook.secret)
        .bind(ms(hook.created_at))
        .execute(db)
        .await?;
    Ok(())
}

pub async fn webhooks(db: &PgPool, project_id: &str) -> Result<Vec<Webhook>> {
    let rows = sqlx::query("SELECT * FROM webhooks WHERE project_id = $1 ORDER BY created_at, id")
        .bind(project_id)
        .fetch_all(db)
        .await?;
    rows.iter().map(rows::webhook).collect()
}

pub async fn webhook(db: &PgPool, id: &str) -> Result<Webhook> {
    let row = sqlx::query("SELECT * FROM webhooks WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await?;
    rows::webhook(&row)
}

pub async fn delete_webhook(db: &PgPool, tenant_id: &str, id: &str) -> Result<()> {
    let done = sqlx::query("DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(db)
        .await?;
    if done.rows_affected() == 0 {
        return Err(CatalogError::NotFound);
    }
    Ok(())
}

pub async fn delivery(db: &PgPool, id: &str) -> Result<Delivery> {
    let row = sqlx::query("SELECT * FROM deliveries WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await?;
    rows::delivery(&row)
}

pub async fn deliveries(db: &PgPool, webhook_id: &str, limit: u32) -> Result<Vec<Delivery>> {
    let rows = sqlx::query(
        "SELECT * FROM deliveries WHERE webhook_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(webhook_id)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    rows.iter().map(rows::delivery).collect()
}

pub async fn save_delivery(db: &PgPool, d: &Delivery) -> Result<()> {
    sqlx::query("UPDATE deliveries SET state = $1, attempts = $2, last_status = $3, last_response = $4, updated_at = $5 WHERE id = $6")
        .bind(d.state.as_str())
        .bind(i64::from(d.attempts))
        .bind(d.last_status.map(i64::from))
        .bind(&d.last_response)
        .bind(ms(d.updated_at))
        .bind(&d.id)
        .execute(db)
        .await?;
    Ok(())
}

/// Sends a delivery again: back to pending, with a new job.
pub async fn redeliver(db: &PgPool, id: &str, job: &JobTemplate) -> Result<Delivery> {
    let mut tx = db.begin().await?;
    let row = sqlx::query(
        "UPDATE deliveries SET state = 'pending', updated_at = $1 WHERE id = $2 RETURNING *",
    )
    .bind(ms(intake_core::now()))
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    insert_job(&mut tx, &job.for_subject(id)).await?;
    tx.commit().await?;
    rows::delivery(&row)
}

pub async fn due_for_expiry(
    db: &PgPool,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<FileRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM files WHERE expires_at IS NOT NULL AND expires_at <= $1 AND status <> 'expired' ORDER BY expires_at LIMIT $2",
    )
    .bind(ms(now))
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    rows.iter().map(rows::file).collect()
}

/// Marks a file expired and drops its bytes' reference, once (nodes sweeping
/// at the same time queue on the file's row; one wins). Returns whether this
/// call expired it, and the blob key to delete.
pub async fn expire_file(
    db: &PgPool,
    file_id: &str,
    deliveries: &[Delivery],
    job: &JobTemplate,
) -> Result<(bool, Option<String>)> {
    let mut tx = db.begin().await?;
    let row = sqlx::query("UPDATE files SET status = 'expired', updated_at = $1 WHERE id = $2 AND status <> 'expired' RETURNING *")
        .bind(ms(intake_core::now()))
        .bind(file_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok((false, None));
    };
    let mut file = rows::file(&row)?;
    insert_deliveries(&mut tx, deliveries, job).await?;
    let freed = release_file_blob(&mut tx, &mut file).await?;
    tx.commit().await?;
    Ok((true, freed))
}
