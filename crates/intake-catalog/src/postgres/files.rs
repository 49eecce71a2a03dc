//! Uploads and files: the atomic commit with its duplicate rule, reads,
//! listings and deletes with shared-blob reference counts.

use super::lock;
use super::rows::{self, ms};
use crate::{CatalogError, Committed, Cursor, FileQuery, JobTemplate, Page, Result};
use intake_core::{DuplicateMode, FileRecord, Upload};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

/// Statuses whose files count as "already there" for the duplicate rule: a
/// file that was refused or has expired does not block a new upload.
const LIVE: &str = "('received', 'processing', 'ready')";

pub async fn commit_upload(
    db: &PgPool,
    upload: &Upload,
    files: Vec<FileRecord>,
    duplicates: DuplicateMode,
    first_job: Option<JobTemplate>,
) -> Result<Committed> {
    let mut tx = db.begin().await?;
    // Commits of the same bytes in a tenant take turns, so the duplicate
    // check and the insert below are one step, as under SQLite's single
    // writer. Locks are taken in one order, so two commits never deadlock.
    let mut keys: Vec<String> = files.iter().map(bytes_lock).collect();
    keys.sort_unstable();
    keys.dedup();
    for key in &keys {
        lock(&mut tx, key).await?;
    }
    sqlx::query("INSERT INTO uploads (id, tenant_id, project_id, name, metadata, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&upload.id)
        .bind(&upload.tenant_id)
        .bind(&upload.project_id)
        .bind(&upload.name)
        .bind(serde_json::to_string(&upload.metadata)?)
        .bind(ms(upload.created_at))
        .execute(&mut *tx)
        .await?;

    let mut committed = Committed {
        files: Vec::with_capacity(files.len()),
        unused_blobs: Vec::new(),
    };
    for mut file in files {
        let existing = match duplicates {
            DuplicateMode::Allow => None,
            _ => live_file_with_hash(&mut tx, &file.project_id, &file.sha256).await?,
        };
        if let Some(existing) = existing {
            if duplicates == DuplicateMode::Reject {
                return Err(CatalogError::Duplicate {
                    existing: existing.id,
                });
            }
            committed.unused_blobs.push(file.blob_key);
            committed.files.push(existing);
            continue;
        }
        let kept = share_blob(&mut tx, &file).await?;
        if kept != file.blob_key {
            committed
                .unused_blobs
                .push(std::mem::replace(&mut file.blob_key, kept));
        }
        insert_file(&mut tx, &file).await?;
        if let Some(job) = &first_job {
            super::processing::insert_job(&mut tx, &job.for_subject(&file.id)).await?;
        }
        committed.files.push(file);
    }
    tx.commit().await?;
    Ok(committed)
}

/// The lock that commits of these bytes into this tenant share.
fn bytes_lock(file: &FileRecord) -> String {
    format!("bytes:{}:{}", file.tenant_id, file.sha256)
}

async fn live_file_with_hash(
    conn: &mut PgConnection,
    project_id: &str,
    sha256: &str,
) -> Result<Option<FileRecord>> {
    let sql = format!(
        "SELECT * FROM files WHERE project_id = $1 AND sha256 = $2 AND status IN {LIVE} ORDER BY created_at, id LIMIT 1"
    );
    let row = sqlx::query(&sql)
        .bind(project_id)
        .bind(sha256)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(rows::file).transpose()
}

/// Counts a reference to the tenant's blob with these bytes, recording the
/// file's own blob when it is the first. Returns the key to keep.
async fn share_blob(conn: &mut PgConnection, file: &FileRecord) -> Result<String> {
    let (key,): (String,) = sqlx::query_as(
        "INSERT INTO blobs (tenant_id, sha256, key, size, refs, created_at) VALUES ($1, $2, $3, $4, 1, $5)
         ON CONFLICT (tenant_id, sha256) DO UPDATE SET refs = blobs.refs + 1
         RETURNING key",
    )
    .bind(&file.tenant_id)
    .bind(&file.sha256)
    .bind(&file.blob_key)
    .bind(size(file.size)?)
    .bind(ms(file.created_at))
    .fetch_one(conn)
    .await?;
    Ok(key)
}

fn size(size: u64) -> Result<i64> {
    i64::try_from(size).map_err(|_| CatalogError::Other(format!("size {size} out of range")))
}

async fn insert_file(conn: &mut PgConnection, f: &FileRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO files (id, tenant_id, project_id, folder_id, upload_id, name, original_filename, size,
            sha256, detected_format, declared_content_type, metadata, status, reason, blob_key,
            document_class, external_id, properties, created_at, updated_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
    )
    .bind(&f.id)
    .bind(&f.tenant_id)
    .bind(&f.project_id)
    .bind(f.folder_id)
    .bind(&f.upload_id)
    .bind(&f.name)
    .bind(&f.original_filename)
    .bind(size(f.size)?)
    .bind(&f.sha256)
    .bind(f.detected_format.as_str())
    .bind(&f.declared_content_type)
    .bind(serde_json::to_string(&f.metadata)?)
    .bind(f.status.as_str())
    .bind(f.reason.map(|r| r.as_str()))
    .bind(&f.blob_key)
    .bind(&f.document_class)
    .bind(&f.external_id)
    .bind(f.properties.as_ref().map(serde_json::Value::to_string))
    .bind(ms(f.created_at))
    .bind(ms(f.updated_at))
    .bind(f.expires_at.map(ms))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn file(db: &PgPool, tenant_id: &str, id: &str) -> Result<FileRecord> {
    let row = sqlx::query("SELECT * FROM files WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .fetch_one(db)
        .await?;
    rows::file(&row)
}

pub async fn file_by_external_id(
    db: &PgPool,
    tenant_id: &str,
    external_id: &str,
) -> Result<FileRecord> {
    let row = sqlx::query("SELECT * FROM files WHERE tenant_id = $1 AND external_id = $2")
        .bind(tenant_id)
        .bind(external_id)
        .fetch_one(db)
        .await?;
    rows::file(&row)
}

pub async fn upload(db: &PgPool, tenant_id: &str, id: &str) -> Result<(Upload, Vec<FileRecord>)> {
    let row = sqlx::query("SELECT * FROM uploads WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .fetch_one(db)
        .await?;
    let files = sqlx::query("SELECT * FROM files WHERE upload_id = $1 ORDER BY created_at, id")
        .bind(id)
        .fetch_all(db)
        .await?;
    Ok((
        rows::upload(&row)?,
        files.iter().map(rows::file).collect::<Result<_>>()?,
    ))
}

pub async fn list_files(db: &PgPool, tenant_id: &str, q: &FileQuery) -> Result<Page<FileRecord>> {
    let mut sql: QueryBuilder<Postgres> =
        QueryBuilder::new("SELECT * FROM files WHERE tenant_id = ");
    sql.push_bind(tenant_id);
    if let Some(project_id) = &q.project_id {
        sql.push(" AND project_id = ").push_bind(project_id);
    }
    if let Some(folder_id) = q.folder_id {
        sql.push(" AND folder_id = ").push_bind(folder_id);
    }
    if let Some(status) = q.status {
        sql.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(prefix) = &q.name_prefix {
        // starts_with instead of LIKE: no wildcard escaping to get wrong.
        sql.push(" AND starts_with(name, ")
            .push_bind(prefix)
            .push(")");
    }
    if let Some(after) = q.created_after {
        sql.push(" AND created_at >= ").push_bind(ms(after));
    }
    if let Some(before) = q.created_before {
        sql.push(" AND created_at < ").push_bind(ms(before));
    }
    if let Some(cursor) = &q.after {
        sql.push(" AND (created_at, id) < (")
            .push_bind(cursor.created_at_ms)
            .push(", ")
            .push_bind(&cursor.id)
            .push(")");
    }
    let limit = q.limit.max(1);
    sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .push_bind(i64::from(limit) + 1);
    let rows = sql.build().fetch_all(db).await?;
    let mut items: Vec<FileRecord> = rows.iter().map(rows::file).collect::<Result<_>>()?;
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|f| Cursor {
            created_at_ms: ms(f.created_at),
            id: f.id.clone(),
        })
    } else {
        None
    };
    Ok(Page { items, next })
}

pub async fn delete_file(db: &PgPool, tenant_id: &str, id: &str) -> Result<Option<String>> {
    let mut tx = db.begin().await?;
    let (key,): (String,) =
        sqlx::query_as("DELETE FROM files WHERE tenant_id = $1 AND id = $2 RETURNING blob_key")
            .bind(tenant_id)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    let freed = release_blob(&mut tx, &key).await?;
    tx.commit().await?;
    Ok(freed)
}

/// Drops one reference to a blob; returns its key when that was the last.
/// The blob's row stays locked until the transaction ends, so a commit of
/// the same bytes either counts its reference first or, once the row is
/// gone, records its own blob.
pub(super) async fn release_blob(conn: &mut PgConnection, key: &str) -> Result<Option<String>> {
    let refs: Option<(i64,)> =
        sqlx::query_as("UPDATE blobs SET refs = refs - 1 WHERE key = $1 RETURNING refs")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
    match refs {
        Some((n,)) if n <= 0 => {
            sqlx::query("DELETE FROM blobs WHERE key = $1")
                .bind(key)
                .execute(conn)
                .await?;
            Ok(Some(key.to_owned()))
        }
        _ => Ok(None),
    }
}

pub async fn blob_in_use(db: &PgPool, key: &str) -> Result<bool> {
    let (used,): (bool,) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM blobs WHERE key = $1) OR EXISTS (SELECT 1 FROM files WHERE blob_key = $1)",
    )
    .bind(key)
    .fetch_one(db)
    .await?;
    Ok(used)
}
