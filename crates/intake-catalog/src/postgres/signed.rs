//! Signed direct uploads: S3 credentials of API keys, and upload intents.
//! An intent is completed once: the conditional UPDATE lets one of two
//! nodes completing it at once win.

use super::rows::{self, ms, time};
use crate::{CatalogError, Result};
use chrono::{DateTime, Utc};
use intake_core::{ApiKey, S3Credential, UploadIntent};
use sqlx::PgPool;
use sqlx::Row;
use sqlx::postgres::PgRow;

pub async fn create_s3_credential(db: &PgPool, c: &S3Credential) -> Result<()> {
    sqlx::query(
        "INSERT INTO s3_credentials (access_key_id, tenant_id, key_id, secret, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&c.access_key_id)
    .bind(&c.tenant_id)
    .bind(&c.key_id)
    .bind(&c.secret)
    .bind(ms(c.created_at))
    .execute(db)
    .await?;
    Ok(())
}

pub async fn s3_credential(db: &PgPool, access_key_id: &str) -> Result<(S3Credential, ApiKey)> {
    let row = sqlx::query("SELECT * FROM s3_credentials WHERE access_key_id = $1")
        .bind(access_key_id)
        .fetch_one(db)
        .await?;
    let credential = S3Credential {
        access_key_id: row.try_get("access_key_id")?,
        tenant_id: row.try_get("tenant_id")?,
        key_id: row.try_get("key_id")?,
        secret: row.try_get("secret")?,
        created_at: time(row.try_get("created_at")?)?,
    };
    let key = sqlx::query("SELECT * FROM api_keys WHERE id = $1 AND tenant_id = $2")
        .bind(&credential.key_id)
        .bind(&credential.tenant_id)
        .fetch_one(db)
        .await?;
    Ok((credential, rows::api_key(&key)?))
}

fn size(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| CatalogError::Other(format!("size {n} out of range")))
}

pub async fn create_intent(db: &PgPool, i: &UploadIntent) -> Result<()> {
    sqlx::query(
        "INSERT INTO upload_intents (id, tenant_id, project_id, credential_id, file_id, object_key, filename,
            content_type, metadata, max_size, secret, created_at, upload_expires_at, download_expires_at,
            uploaded_file_id, uploaded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(&i.id)
    .bind(&i.tenant_id)
    .bind(&i.project_id)
    .bind(&i.credential_id)
    .bind(&i.file_id)
    .bind(&i.key)
    .bind(&i.filename)
    .bind(&i.content_type)
    .bind(serde_json::to_string(&i.metadata)?)
    .bind(size(i.max_size)?)
    .bind(&i.secret)
    .bind(ms(i.created_at))
    .bind(ms(i.upload_expires_at))
    .bind(ms(i.download_expires_at))
    .bind(&i.uploaded_file_id)
    .bind(i.uploaded_at.map(ms))
    .execute(db)
    .await?;
    Ok(())
}

fn intent_row(row: &PgRow) -> Result<UploadIntent> {
    let max_size: i64 = row.try_get("max_size")?;
    Ok(UploadIntent {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        project_id: row.try_get("project_id")?,
        credential_id: row.try_get("credential_id")?,
        file_id: row.try_get("file_id")?,
        key: row.try_get("object_key")?,
        filename: row.try_get("filename")?,
        content_type: row.try_get("content_type")?,
        metadata: serde_json::from_str(row.try_get("metadata")?)?,
        max_size: u64::try_from(max_size)
            .map_err(|_| CatalogError::Other(format!("bad max_size {max_size}")))?,
        secret: row.try_get("secret")?,
        created_at: time(row.try_get("created_at")?)?,
        upload_expires_at: time(row.try_get("upload_expires_at")?)?,
        download_expires_at: time(row.try_get("download_expires_at")?)?,
        uploaded_file_id: row.try_get("uploaded_file_id")?,
        uploaded_at: row
            .try_get::<Option<i64>, _>("uploaded_at")?
            .map(time)
            .transpose()?,
    })
}

pub async fn intent(db: &PgPool, id: &str) -> Result<UploadIntent> {
    let row = sqlx::query("SELECT * FROM upload_intents WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await?;
    intent_row(&row)
}

pub async fn complete_intent(
    db: &PgPool,
    id: &str,
    file_id: &str,
    at: DateTime<Utc>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE upload_intents SET uploaded_file_id = $1, uploaded_at = $2 WHERE id = $3 AND uploaded_file_id IS NULL",
    )
    .bind(file_id)
    .bind(ms(at))
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_intents_before(db: &PgPool, before: DateTime<Utc>) -> Result<u64> {
    let done = sqlx::query("DELETE FROM upload_intents WHERE download_expires_at < $1")
        .bind(ms(before))
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
