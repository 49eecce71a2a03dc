//! Contact lists, their members, and activities. List ids count per tenant
//! from 1; `MAX(id) + 1` is taken under an advisory lock on the tenant, so
//! two nodes creating lists at once get consecutive ids.

use super::lock;
use super::rows::{ms, time};
use crate::{CatalogError, Result};
use intake_core::{Activity, ActivityKind, ActivityStatus, ContactList, ListStatus, RemovalCounts};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use std::collections::HashSet;

const LIST_COLUMNS: &str = "l.tenant_id, l.id, l.name, l.status, l.created_at, l.updated_at,
    (SELECT COUNT(*) FROM list_members m WHERE m.tenant_id = l.tenant_id AND m.list_id = l.id) AS member_count";

fn list_row(row: &PgRow) -> Result<ContactList> {
    let status: String = row.try_get("status")?;
    let member_count: i64 = row.try_get("member_count")?;
    Ok(ContactList {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        name: row.try_get("name")?,
        status: ListStatus::parse(&status)
            .ok_or_else(|| CatalogError::Other(format!("bad list status {status:?}")))?,
        member_count: u64::try_from(member_count).unwrap_or(0),
        created_at: time(row.try_get("created_at")?)?,
        updated_at: time(row.try_get("updated_at")?)?,
    })
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn activity_row(row: &PgRow) -> Result<Activity> {
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    let lists: String = row.try_get("lists")?;
    let errors: String = row.try_get("errors")?;
    Ok(Activity {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        kind: ActivityKind::parse(&kind)
            .ok_or_else(|| CatalogError::Other(format!("bad activity kind {kind:?}")))?,
        status: ActivityStatus::parse(&status)
            .ok_or_else(|| CatalogError::Other(format!("bad activity status {status:?}")))?,
        lists: serde_json::from_str(&lists)?,
        file_id: row.try_get("file_id")?,
        file_name: row.try_get("file_name")?,
        contact_count: count(row.try_get("contact_count")?),
        removed_count: count(row.try_get("removed_count")?),
        not_found_count: count(row.try_get("not_found_count")?),
        error_count: count(row.try_get("error_count")?),
        errors: serde_json::from_str(&errors)?,
        created_at: time(row.try_get("created_at")?)?,
        updated_at: time(row.try_get("updated_at")?)?,
    })
}

pub async fn create_list(
    db: &PgPool,
    tenant_id: &str,
    name: &str,
    status: ListStatus,
) -> Result<ContactList> {
    let mut tx = db.begin().await?;
    lock(&mut tx, &format!("lists:{tenant_id}")).await?;
    let (id,): (i64,) =
        sqlx::query_as("SELECT COALESCE(MAX(id), 0) + 1 FROM lists WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_one(&mut *tx)
            .await?;
    let at = intake_core::now();
    sqlx::query("INSERT INTO lists (tenant_id, id, name, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(tenant_id)
        .bind(id)
        .bind(name)
        .bind(status.as_str())
        .bind(ms(at))
        .bind(ms(at))
        .execute(&mut *tx)
        .await
        .map_err(|e| match CatalogError::from(e) {
            CatalogError::Conflict { .. } => CatalogError::conflict("list_exists", "a list with that name exists"),
            other => other,
        })?;
    tx.commit().await?;
    Ok(ContactList {
        id,
        tenant_id: tenant_id.to_owned(),
        name: name.to_owned(),
        status,
        member_count: 0,
        created_at: at,
        updated_at: at,
    })
}

pub async fn lists(db: &PgPool, tenant_id: &str) -> Result<Vec<ContactList>> {
    let sql = format!("SELECT {LIST_COLUMNS} FROM lists l WHERE l.tenant_id = $1 ORDER BY l.id");
    let rows = sqlx::query(&sql).bind(tenant_id).fetch_all(db).await?;
    rows.iter().map(list_row).collect()
}

pub async fn list(db: &PgPool, tenant_id: &str, id: i64) -> Result<ContactList> {
    let sql = format!("SELECT {LIST_COLUMNS} FROM lists l WHERE l.tenant_id = $1 AND l.id = $2");
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(id)
        .fetch_one(db)
        .await?;
    list_row(&row)
}

async fn check_list(conn: &mut PgConnection, tenant_id: &str, id: i64) -> Result<()> {
    sqlx::query("SELECT 1 FROM lists WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|_| ())
        .ok_or(CatalogError::NotFound)
}

/// Adds addresses (already normalized); returns how many were new. One
/// statement for the whole batch, in address order (so two batches that
/// overlap wait for each other instead of deadlocking).
pub async fn add_members(
    db: &PgPool,
    tenant_id: &str,
    list_id: i64,
    emails: &[String],
) -> Result<u64> {
    let mut tx = db.begin().await?;
    check_list(&mut tx, tenant_id, list_id).await?;
    let at = ms(intake_core::now());
    let done = sqlx::query(
        "INSERT INTO list_members (tenant_id, list_id, email, added_at)
         SELECT $1, $2, email, $4 FROM UNNEST($3::TEXT[]) AS email ORDER BY email
         ON CONFLICT DO NOTHING",
    )
    .bind(tenant_id)
    .bind(list_id)
    .bind(emails)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    let added = done.rows_affected();
    if added > 0 {
        sqlx::query("UPDATE lists SET updated_at = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(at)
            .bind(tenant_id)
            .bind(list_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(added)
}

/// A page of a list's addresses in order, after `after`.
pub async fn members(
    db: &PgPool,
    tenant_id: &str,
    list_id: i64,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<String>> {
    let mut conn = db.acquire().await?;
    check_list(&mut conn, tenant_id, list_id).await?;
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT email FROM list_members WHERE tenant_id = $1 AND list_id = $2 AND email > $3 ORDER BY email LIMIT $4",
    )
    .bind(tenant_id)
    .bind(list_id)
    .bind(after.unwrap_or(""))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|(e,)| e).collect())
}

/// Removes each address from each list, in one transaction. Counts as if
/// the addresses were removed one after the other: an address given twice
/// counts as not found the second time.
pub async fn remove_members(
    db: &PgPool,
    tenant_id: &str,
    list_ids: &[i64],
    emails: &[String],
) -> Result<RemovalCounts> {
    let mut tx = db.begin().await?;
    for id in list_ids {
        check_list(&mut tx, tenant_id, *id).await?;
    }
    let removed: Vec<(String,)> = sqlx::query_as(
        "DELETE FROM list_members WHERE tenant_id = $1 AND list_id = ANY($2) AND email = ANY($3)
         RETURNING email",
    )
    .bind(tenant_id)
    .bind(list_ids)
    .bind(emails)
    .fetch_all(&mut *tx)
    .await?;
    let mut removed: HashSet<String> = removed.into_iter().map(|(e,)| e).collect();
    let mut counts = RemovalCounts::default();
    for email in emails {
        counts.processed += 1;
        if removed.remove(email) {
            counts.removed += 1;
        } else {
            counts.not_found += 1;
        }
    }
    sqlx::query("UPDATE lists SET updated_at = $1 WHERE tenant_id = $2 AND id = ANY($3)")
        .bind(ms(intake_core::now()))
        .bind(tenant_id)
        .bind(list_ids)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(counts)
}

fn i(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub async fn create_activity(db: &PgPool, a: &Activity) -> Result<()> {
    sqlx::query(
        "INSERT INTO activities (id, tenant_id, kind, status, lists, file_id, file_name, contact_count,
             removed_count, not_found_count, error_count, errors, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&a.id)
    .bind(&a.tenant_id)
    .bind(a.kind.as_str())
    .bind(a.status.as_str())
    .bind(serde_json::to_string(&a.lists)?)
    .bind(&a.file_id)
    .bind(&a.file_name)
    .bind(i(a.contact_count))
    .bind(i(a.removed_count))
    .bind(i(a.not_found_count))
    .bind(i(a.error_count))
    .bind(serde_json::to_string(&a.errors)?)
    .bind(ms(a.created_at))
    .bind(ms(a.updated_at))
    .execute(db)
    .await?;
    Ok(())
}

pub async fn activity(db: &PgPool, tenant_id: &str, id: &str) -> Result<Activity> {
    let row = sqlx::query("SELECT * FROM activities WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .fetch_one(db)
        .await?;
    activity_row(&row)
}

/// Stores status, counts and errors, unless the stored activity is already
/// final (so a second run of the same work cannot overwrite the first).
pub async fn save_activity(db: &PgPool, a: &Activity) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE activities SET status = $1, contact_count = $2, removed_count = $3, not_found_count = $4,
             error_count = $5, errors = $6, updated_at = $7
         WHERE tenant_id = $8 AND id = $9 AND status NOT IN ('COMPLETE', 'ERROR')",
    )
    .bind(a.status.as_str())
    .bind(i(a.contact_count))
    .bind(i(a.removed_count))
    .bind(i(a.not_found_count))
    .bind(i(a.error_count))
    .bind(serde_json::to_string(&a.errors)?)
    .bind(ms(a.updated_at))
    .bind(&a.tenant_id)
    .bind(&a.id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}
