//! Tenants, projects, folders and credentials.

use super::lock;
use super::rows::{self, ms};
use crate::{CatalogError, Result};
use intake_core::{ApiKey, Folder, Project, Tenant, User};
use sqlx::{PgConnection, PgPool, Row};

/// Maps a uniqueness violation to a conflict with a useful code.
fn taken(code: &'static str, message: &str) -> impl FnOnce(sqlx::Error) -> CatalogError {
    move |e| match CatalogError::from(e) {
        CatalogError::Conflict { .. } => CatalogError::conflict(code, message),
        other => other,
    }
}

pub async fn create_tenant(db: &PgPool, t: &Tenant) -> Result<()> {
    sqlx::query("INSERT INTO tenants (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&t.id)
        .bind(&t.slug)
        .bind(&t.name)
        .bind(ms(t.created_at))
        .execute(db)
        .await
        .map_err(taken("tenant_exists", "a tenant with that slug exists"))?;
    Ok(())
}

/// `column` is "id" or "slug", never client input.
pub async fn tenant(db: &PgPool, column: &'static str, value: &str) -> Result<Tenant> {
    let sql = format!("SELECT * FROM tenants WHERE {column} = $1");
    let row = sqlx::query(&sql).bind(value).fetch_one(db).await?;
    rows::tenant(&row)
}

pub async fn list_tenants(db: &PgPool) -> Result<Vec<Tenant>> {
    let rows = sqlx::query("SELECT * FROM tenants ORDER BY slug")
        .fetch_all(db)
        .await?;
    rows.iter().map(rows::tenant).collect()
}

pub async fn create_project(db: &PgPool, p: &Project) -> Result<()> {
    sqlx::query(
        "INSERT INTO projects (id, tenant_id, slug, name, policy, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&p.id)
    .bind(&p.tenant_id)
    .bind(&p.slug)
    .bind(&p.name)
    .bind(serde_json::to_string(&p.policy)?)
    .bind(ms(p.created_at))
    .bind(ms(p.updated_at))
    .execute(db)
    .await
    .map_err(taken("project_exists", "a project with that slug exists"))?;
    Ok(())
}

pub async fn project(db: &PgPool, tenant_id: &str, id_or_slug: &str) -> Result<Project> {
    let row = sqlx::query("SELECT * FROM projects WHERE tenant_id = $1 AND (id = $2 OR slug = $2)")
        .bind(tenant_id)
        .bind(id_or_slug)
        .fetch_one(db)
        .await?;
    rows::project(&row)
}

pub async fn list_projects(db: &PgPool, tenant_id: &str) -> Result<Vec<Project>> {
    let rows = sqlx::query("SELECT * FROM projects WHERE tenant_id = $1 ORDER BY slug")
        .bind(tenant_id)
        .fetch_all(db)
        .await?;
    rows.iter().map(rows::project).collect()
}

pub async fn update_project(db: &PgPool, p: &Project) -> Result<()> {
    let done = sqlx::query(
        "UPDATE projects SET name = $1, policy = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5",
    )
    .bind(&p.name)
    .bind(serde_json::to_string(&p.policy)?)
    .bind(ms(p.updated_at))
    .bind(&p.tenant_id)
    .bind(&p.id)
    .execute(db)
    .await?;
    if done.rows_affected() == 0 {
        return Err(CatalogError::NotFound);
    }
    Ok(())
}

pub async fn delete_project(db: &PgPool, tenant_id: &str, project_id: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    // The project row, locked: uploads and folders being added to it (their
    // foreign keys share-lock it) finish first, and are counted below.
    let row = sqlx::query("SELECT 1 FROM projects WHERE tenant_id = $1 AND id = $2 FOR UPDATE")
        .bind(tenant_id)
        .bind(project_id)
        .fetch_optional(&mut *tx)
        .await?;
    if row.is_none() {
        return Err(CatalogError::NotFound);
    }
    let (files, folders): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM files WHERE project_id = $1),
                (SELECT COUNT(*) FROM folders WHERE project_id = $1)",
    )
    .bind(project_id)
    .fetch_one(&mut *tx)
    .await?;
    if files > 0 || folders > 0 {
        return Err(CatalogError::conflict(
            "project_not_empty",
            format!("the project holds {files} files and {folders} folders"),
        ));
    }
    sqlx::query("DELETE FROM webhooks WHERE project_id = $1")
        .bind(project_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM uploads WHERE project_id = $1")
        .bind(project_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM projects WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(project_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Folder ids and the emptiness of folders are decided under this lock.
async fn lock_folders(conn: &mut PgConnection, project_id: &str) -> Result<()> {
    lock(conn, &format!("folders:{project_id}")).await
}

pub async fn create_folder(
    db: &PgPool,
    project_id: &str,
    parent_id: i64,
    name: &str,
) -> Result<Folder> {
    let mut tx = db.begin().await?;
    lock_folders(&mut tx, project_id).await?;
    if parent_id != intake_core::ROOT_FOLDER {
        sqlx::query("SELECT 1 FROM folders WHERE project_id = $1 AND id = $2")
            .bind(project_id)
            .bind(parent_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| {
                CatalogError::conflict("unknown_parent", "the parent folder does not exist")
            })?;
    }
    let (id,): (i64,) =
        sqlx::query_as("SELECT COALESCE(MAX(id), 0) + 1 FROM folders WHERE project_id = $1")
            .bind(project_id)
            .fetch_one(&mut *tx)
            .await?;
    let created_at = intake_core::now();
    sqlx::query(
        "INSERT INTO folders (project_id, id, parent_id, name, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(project_id)
    .bind(id)
    .bind(parent_id)
    .bind(name)
    .bind(ms(created_at))
    .execute(&mut *tx)
    .await
    .map_err(taken(
        "folder_exists",
        "a folder with that name exists there",
    ))?;
    tx.commit().await?;
    Ok(Folder {
        id,
        project_id: project_id.to_owned(),
        parent_id,
        name: name.to_owned(),
        created_at,
    })
}

pub async fn folder(db: &PgPool, project_id: &str, id: i64) -> Result<Folder> {
    let row = sqlx::query("SELECT * FROM folders WHERE project_id = $1 AND id = $2")
        .bind(project_id)
        .bind(id)
        .fetch_one(db)
        .await?;
    rows::folder(&row)
}

pub async fn list_folders(
    db: &PgPool,
    project_id: &str,
    parent_id: Option<i64>,
) -> Result<Vec<Folder>> {
    let rows = sqlx::query(
        "SELECT * FROM folders WHERE project_id = $1 AND ($2::BIGINT IS NULL OR parent_id = $2) ORDER BY parent_id, name",
    )
    .bind(project_id)
    .bind(parent_id)
    .fetch_all(db)
    .await?;
    rows.iter().map(rows::folder).collect()
}

pub async fn delete_folder(db: &PgPool, project_id: &str, id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    lock_folders(&mut tx, project_id).await?;
    let (files, folders): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM files WHERE project_id = $1 AND folder_id = $2),
                (SELECT COUNT(*) FROM folders WHERE project_id = $1 AND parent_id = $2)",
    )
    .bind(project_id)
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    if files > 0 || folders > 0 {
        return Err(CatalogError::conflict(
            "folder_not_empty",
            format!("the folder holds {files} files and {folders} folders"),
        ));
    }
    let done = sqlx::query("DELETE FROM folders WHERE project_id = $1 AND id = $2")
        .bind(project_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(CatalogError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

pub async fn create_api_key(db: &PgPool, key: &ApiKey, token_hash: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, name, prefix, token_hash, scopes, projects, created_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&key.id)
    .bind(&key.tenant_id)
    .bind(&key.name)
    .bind(&key.prefix)
    .bind(token_hash)
    .bind(key.scopes.to_string())
    .bind(serde_json::to_string(&key.projects)?)
    .bind(ms(key.created_at))
    .bind(key.revoked_at.map(ms))
    .execute(db)
    .await
    .map_err(taken("key_exists", "that key already exists"))?;
    Ok(())
}

pub async fn api_key_by_hash(db: &PgPool, token_hash: &str) -> Result<ApiKey> {
    let row = sqlx::query("SELECT * FROM api_keys WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_one(db)
        .await?;
    rows::api_key(&row)
}

pub async fn list_api_keys(db: &PgPool, tenant_id: &str) -> Result<Vec<ApiKey>> {
    let rows = sqlx::query("SELECT * FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id")
        .bind(tenant_id)
        .fetch_all(db)
        .await?;
    rows.iter().map(rows::api_key).collect()
}

pub async fn revoke_api_key(db: &PgPool, tenant_id: &str, id: &str) -> Result<ApiKey> {
    let row = sqlx::query(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE tenant_id = $2 AND id = $3 RETURNING *",
    )
    .bind(ms(intake_core::now()))
    .bind(tenant_id)
    .bind(id)
    .fetch_one(db)
    .await?;
    rows::api_key(&row)
}

pub async fn create_user(db: &PgPool, user: &User, password_hash: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, tenant_id, username, password_hash, scopes, projects, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&user.id)
    .bind(&user.tenant_id)
    .bind(&user.username)
    .bind(password_hash)
    .bind(user.scopes.to_string())
    .bind(serde_json::to_string(&user.projects)?)
    .bind(ms(user.created_at))
    .execute(db)
    .await
    .map_err(taken(
        "user_exists",
        "a user with that name exists in the tenant",
    ))?;
    Ok(())
}

pub async fn user_by_name(db: &PgPool, tenant_id: &str, username: &str) -> Result<(User, String)> {
    let row = sqlx::query("SELECT * FROM users WHERE tenant_id = $1 AND username = $2")
        .bind(tenant_id)
        .bind(username)
        .fetch_one(db)
        .await?;
    Ok((rows::user(&row)?, row.try_get("password_hash")?))
}

pub async fn users_named(db: &PgPool, username: &str) -> Result<Vec<(User, String)>> {
    let rows = sqlx::query("SELECT * FROM users WHERE username = $1 LIMIT 2")
        .bind(username)
        .fetch_all(db)
        .await?;
    rows.iter()
        .map(|row| Ok((rows::user(row)?, row.try_get("password_hash")?)))
        .collect()
}

pub async fn list_users(db: &PgPool, tenant_id: &str) -> Result<Vec<User>> {
    let rows = sqlx::query("SELECT * FROM users WHERE tenant_id = $1 ORDER BY username")
        .bind(tenant_id)
        .fetch_all(db)
        .await?;
    rows.iter().map(rows::user).collect()
}

pub async fn delete_user(db: &PgPool, tenant_id: &str, id: &str) -> Result<()> {
    let done = sqlx::query("DELETE FROM users WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(db)
        .await?;
    if done.rows_affected() == 0 {
        return Err(CatalogError::NotFound);
    }
    Ok(())
}
