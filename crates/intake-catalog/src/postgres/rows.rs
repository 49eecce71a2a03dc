//! Rows to records, as in the SQLite engine (the columns have the same names
//! and, read as `i64` and text, the same values). Stored JSON and enum text
//! that does not parse is reported as a catalog error, never a panic.

use crate::{CatalogError, Result};
use chrono::{DateTime, Utc};
use intake_core::{
    ApiKey, Delivery, DeliveryState, Event, FileRecord, FileStatus, Folder, Format, Project,
    Reason, Task, TaskName, TaskState, Tenant, Upload, User, Webhook,
};
use sqlx::Row;
use sqlx::postgres::PgRow;

pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn time(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| CatalogError::Other(format!("bad timestamp {ms}")))
}

fn opt_time(ms: Option<i64>) -> Result<Option<DateTime<Utc>>> {
    ms.map(time).transpose()
}

fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    Ok(serde_json::from_str(text)?)
}

pub fn tenant(row: &PgRow) -> Result<Tenant> {
    Ok(Tenant {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        created_at: time(row.try_get("created_at")?)?,
    })
}

pub fn project(row: &PgRow) -> Result<Project> {
    Ok(Project {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        policy: json(row.try_get("policy")?)?,
        created_at: time(row.try_get("created_at")?)?,
        updated_at: time(row.try_get("updated_at")?)?,
    })
}

pub fn folder(row: &PgRow) -> Result<Folder> {
    Ok(Folder {
        id: row.try_get("id")?,
        project_id: row.try_get("project_id")?,
        parent_id: row.try_get("parent_id")?,
        name: row.try_get("name")?,
        created_at: time(row.try_get("created_at")?)?,
    })
}

fn scopes(row: &PgRow) -> Result<intake_core::Scopes> {
    let text: String = row.try_get("scopes")?;
    text.parse().map_err(CatalogError::Other)
}

pub fn api_key(row: &PgRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        scopes: scopes(row)?,
        projects: json(row.try_get("projects")?)?,
        created_at: time(row.try_get("created_at")?)?,
        revoked_at: opt_time(row.try_get("revoked_at")?)?,
    })
}

pub fn user(row: &PgRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        username: row.try_get("username")?,
        scopes: scopes(row)?,
        projects: json(row.try_get("projects")?)?,
        created_at: time(row.try_get("created_at")?)?,
    })
}

pub fn upload(row: &PgRow) -> Result<Upload> {
    Ok(Upload {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        project_id: row.try_get("project_id")?,
        name: row.try_get("name")?,
        metadata: json(row.try_get("metadata")?)?,
        created_at: time(row.try_get("created_at")?)?,
    })
}

pub fn file(row: &PgRow) -> Result<FileRecord> {
    let format: String = row.try_get("detected_format")?;
    let status: String = row.try_get("status")?;
    let reason: Option<String> = row.try_get("reason")?;
    let size: i64 = row.try_get("size")?;
    Ok(FileRecord {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        project_id: row.try_get("project_id")?,
        folder_id: row.try_get("folder_id")?,
        upload_id: row.try_get("upload_id")?,
        name: row.try_get("name")?,
        original_filename: row.try_get("original_filename")?,
        size: u64::try_from(size).map_err(|_| CatalogError::Other(format!("bad size {size}")))?,
        sha256: row.try_get("sha256")?,
        detected_format: Format::parse(&format)
            .ok_or_else(|| CatalogError::Other(format!("bad format {format:?}")))?,
        declared_content_type: row.try_get("declared_content_type")?,
        metadata: json(row.try_get("metadata")?)?,
        status: FileStatus::parse(&status)
            .ok_or_else(|| CatalogError::Other(format!("bad status {status:?}")))?,
        reason: reason.as_deref().and_then(Reason::parse),
        blob_key: row.try_get("blob_key")?,
        document_class: row.try_get("document_class")?,
        external_id: row.try_get("external_id")?,
        properties: row
            .try_get::<Option<String>, _>("properties")?
            .map(|p| json(&p))
            .transpose()?,
        created_at: time(row.try_get("created_at")?)?,
        updated_at: time(row.try_get("updated_at")?)?,
        expires_at: opt_time(row.try_get("expires_at")?)?,
    })
}

fn bad(what: &str, value: &str) -> CatalogError {
    CatalogError::Other(format!("bad {what} {value:?}"))
}

pub fn task(row: &PgRow) -> Result<Task> {
    let name: String = row.try_get("name")?;
    let state: String = row.try_get("state")?;
    Ok(Task {
        name: TaskName::parse(&name).ok_or_else(|| bad("task name", &name))?,
        state: TaskState::parse(&state).ok_or_else(|| bad("task state", &state))?,
        started_at: opt_time(row.try_get("started_at")?)?,
        finished_at: opt_time(row.try_get("finished_at")?)?,
        result: row
            .try_get::<Option<String>, _>("result")?
            .map(|r| json(&r))
            .transpose()?,
        error: row.try_get("error")?,
    })
}

pub fn webhook(row: &PgRow) -> Result<Webhook> {
    Ok(Webhook {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        project_id: row.try_get("project_id")?,
        url: row.try_get("url")?,
        events: json(row.try_get("events")?)?,
        secret: row.try_get("secret")?,
        created_at: time(row.try_get("created_at")?)?,
    })
}

pub fn delivery(row: &PgRow) -> Result<Delivery> {
    let event: String = row.try_get("event")?;
    let state: String = row.try_get("state")?;
    Ok(Delivery {
        id: row.try_get("id")?,
        webhook_id: row.try_get("webhook_id")?,
        event: Event::parse(&event).ok_or_else(|| bad("event", &event))?,
        payload: json(row.try_get("payload")?)?,
        state: DeliveryState::parse(&state).ok_or_else(|| bad("delivery state", &state))?,
        attempts: row.try_get::<i64, _>("attempts")? as u32,
        last_status: row
            .try_get::<Option<i64>, _>("last_status")?
            .map(|s| s as u16),
        last_response: row.try_get("last_response")?,
        created_at: time(row.try_get("created_at")?)?,
        updated_at: time(row.try_get("updated_at")?)?,
    })
}
