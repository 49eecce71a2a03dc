//! The PostgreSQL catalog: for several nodes sharing one catalog and one job
//! queue (design.md §6). The same tables, rules and answers as the SQLite
//! engine; what differs is how operations stay atomic when many processes
//! write at once:
//!
//! - every operation is one transaction at READ COMMITTED; rows that must
//!   change once (a file's final status, an expiry, a job's lease) are
//!   changed by a conditional `UPDATE`, which re-checks its condition after
//!   waiting for a concurrent writer, so exactly one of two racing calls wins;
//! - what SQLite gets from its single writer (`MAX(id) + 1` for folder and
//!   list ids, the duplicate check before inserting a file) is serialized by
//!   transaction-scoped advisory locks ([`lock`]), released at commit or
//!   rollback, so a node that dies holds nothing;
//! - jobs are claimed with `FOR UPDATE SKIP LOCKED` and leased by the
//!   database's clock (see `processing`).
//!
//! Migrations (`migrations/postgres`) run at connect; sqlx takes an advisory
//! lock for them, so nodes starting together do not race.

mod accounts;
mod files;
mod lists;
mod processing;
mod rows;
mod signed;

use crate::{
    Catalog, CatalogError, Committed, FileOutcome, FileQuery, JobTemplate, NewJob, Page, Result,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use intake_core::{Activity, ContactList, ListStatus, RemovalCounts};
use intake_core::{
    ApiKey, Delivery, DuplicateMode, FileRecord, Folder, Job, Project, Task, Tenant, Upload, User,
    Webhook,
};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection};
use std::str::FromStr;
use std::time::Duration;

/// Connections per node when the caller does not say.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;

#[derive(Debug, Clone)]
pub struct PgCatalog {
    pool: PgPool,
}

impl PgCatalog {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`,
    /// with libpq-style parameters such as `sslmode=require`) and brings its
    /// schema up to date.
    pub async fn connect(url: &str) -> Result<PgCatalog> {
        PgCatalog::connect_with(url, DEFAULT_MAX_CONNECTIONS).await
    }

    /// As [`PgCatalog::connect`], with at most `max_connections` connections.
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<PgCatalog> {
        let mut options = PgConnectOptions::from_str(url)
            .map_err(|e| CatalogError::Other(format!("the database URL: {e}")))?;
        if !url.contains("application_name=") {
            options = options.application_name("intake");
        }
        // One connection first, so a wrong address, password or database
        // fails at once and says so, rather than as the pool's timeout.
        PgConnection::connect_with(&options).await?.close().await?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| CatalogError::Other(format!("migrations: {e}")))?;
        Ok(PgCatalog { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Holds a transaction-scoped advisory lock named `key` until the
/// transaction ends: callers that name the same key take turns. Keys are
/// hashed to 64 bits; a collision only makes two unrelated callers wait for
/// each other.
async fn lock(conn: &mut PgConnection, key: &str) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

#[async_trait]
impl Catalog for PgCatalog {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
    async fn close(&self) {
        self.pool.close().await;
    }

    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        accounts::create_tenant(&self.pool, tenant).await
    }
    async fn tenant(&self, id: &str) -> Result<Tenant> {
        accounts::tenant(&self.pool, "id", id).await
    }
    async fn tenant_by_slug(&self, slug: &str) -> Result<Tenant> {
        accounts::tenant(&self.pool, "slug", slug).await
    }
    async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        accounts::list_tenants(&self.pool).await
    }

    async fn create_project(&self, project: &Project) -> Result<()> {
        accounts::create_project(&self.pool, project).await
    }
    async fn project(&self, tenant_id: &str, id_or_slug: &str) -> Result<Project> {
        accounts::project(&self.pool, tenant_id, id_or_slug).await
    }
    async fn list_projects(&self, tenant_id: &str) -> Result<Vec<Project>> {
        accounts::list_projects(&self.pool, tenant_id).await
    }
    async fn update_project(&self, project: &Project) -> Result<()> {
        accounts::update_project(&self.pool, project).await
    }
    async fn delete_project(&self, tenant_id: &str, project_id: &str) -> Result<()> {
        accounts::delete_project(&self.pool, tenant_id, project_id).await
    }

    async fn create_folder(&self, project_id: &str, parent_id: i64, name: &str) -> Result<Folder> {
        accounts::create_folder(&self.pool, project_id, parent_id, name).await
    }
    async fn folder(&self, project_id: &str, id: i64) -> Result<Folder> {
        accounts::folder(&self.pool, project_id, id).await
    }
    async fn list_folders(&self, project_id: &str, parent_id: Option<i64>) -> Result<Vec<Folder>> {
        accounts::list_folders(&self.pool, project_id, parent_id).await
    }
    async fn delete_folder(&self, project_id: &str, id: i64) -> Result<()> {
        accounts::delete_folder(&self.pool, project_id, id).await
    }

    async fn create_api_key(&self, key: &ApiKey, token_hash: &str) -> Result<()> {
        accounts::create_api_key(&self.pool, key, token_hash).await
    }
    async fn api_key_by_hash(&self, token_hash: &str) -> Result<ApiKey> {
        accounts::api_key_by_hash(&self.pool, token_hash).await
    }
    async fn list_api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKey>> {
        accounts::list_api_keys(&self.pool, tenant_id).await
    }
    async fn revoke_api_key(&self, tenant_id: &str, id: &str) -> Result<ApiKey> {
        accounts::revoke_api_key(&self.pool, tenant_id, id).await
    }
    async fn create_user(&self, user: &User, password_hash: &str) -> Result<()> {
        accounts::create_user(&self.pool, user, password_hash).await
    }
    async fn user_by_name(&self, tenant_id: &str, username: &str) -> Result<(User, String)> {
        accounts::user_by_name(&self.pool, tenant_id, username).await
    }
    async fn users_named(&self, username: &str) -> Result<Vec<(User, String)>> {
        accounts::users_named(&self.pool, username).await
    }
    async fn list_users(&self, tenant_id: &str) -> Result<Vec<User>> {
        accounts::list_users(&self.pool, tenant_id).await
    }
    async fn delete_user(&self, tenant_id: &str, id: &str) -> Result<()> {
        accounts::delete_user(&self.pool, tenant_id, id).await
    }

    async fn commit_upload(
        &self,
        upload: &Upload,
        files: Vec<FileRecord>,
        duplicates: DuplicateMode,
        first_job: Option<JobTemplate>,
    ) -> Result<Committed> {
        files::commit_upload(&self.pool, upload, files, duplicates, first_job).await
    }
    async fn file(&self, tenant_id: &str, id: &str) -> Result<FileRecord> {
        files::file(&self.pool, tenant_id, id).await
    }
    async fn file_by_external_id(&self, tenant_id: &str, external_id: &str) -> Result<FileRecord> {
        files::file_by_external_id(&self.pool, tenant_id, external_id).await
    }
    async fn upload(&self, tenant_id: &str, id: &str) -> Result<(Upload, Vec<FileRecord>)> {
        files::upload(&self.pool, tenant_id, id).await
    }
    async fn list_files(&self, tenant_id: &str, query: &FileQuery) -> Result<Page<FileRecord>> {
        files::list_files(&self.pool, tenant_id, query).await
    }
    async fn delete_file(&self, tenant_id: &str, id: &str) -> Result<Option<String>> {
        files::delete_file(&self.pool, tenant_id, id).await
    }
    async fn blob_in_use(&self, key: &str) -> Result<bool> {
        files::blob_in_use(&self.pool, key).await
    }

    async fn enqueue(&self, job: &NewJob) -> Result<i64> {
        processing::enqueue(&self.pool, job).await
    }
    async fn claim_jobs(&self, owner: &str, limit: u32, lease: Duration) -> Result<Vec<Job>> {
        processing::claim_jobs(&self.pool, owner, limit, lease).await
    }
    async fn extend_lease(&self, job: &Job, lease: Duration) -> Result<bool> {
        processing::extend_lease(&self.pool, job, lease).await
    }
    async fn finish_job(&self, job: &Job) -> Result<bool> {
        processing::finish_job(&self.pool, job).await
    }
    async fn retry_job(&self, job: &Job, run_at: DateTime<Utc>, error: &str) -> Result<bool> {
        processing::retry_job(&self.pool, job, run_at, error).await
    }
    async fn bury_job(&self, job: &Job, error: &str) -> Result<bool> {
        processing::bury_job(&self.pool, job, error).await
    }

    async fn file_by_id(&self, id: &str) -> Result<FileRecord> {
        processing::file_by_id(&self.pool, id).await
    }
    async fn tasks(&self, file_id: &str) -> Result<Vec<Task>> {
        processing::tasks(&self.pool, file_id).await
    }
    async fn save_task(&self, file_id: &str, task: &Task) -> Result<()> {
        processing::save_task(&self.pool, file_id, task).await
    }
    async fn start_processing(&self, file_id: &str) -> Result<()> {
        processing::start_processing(&self.pool, file_id).await
    }
    async fn finish_file(
        &self,
        file_id: &str,
        outcome: &FileOutcome,
        deliveries: &[Delivery],
        delivery_job: JobTemplate,
    ) -> Result<(FileRecord, Option<String>)> {
        processing::finish_file(&self.pool, file_id, outcome, deliveries, &delivery_job).await
    }

    async fn create_webhook(&self, hook: &Webhook) -> Result<()> {
        processing::create_webhook(&self.pool, hook).await
    }
    async fn webhooks(&self, project_id: &str) -> Result<Vec<Webhook>> {
        processing::webhooks(&self.pool, project_id).await
    }
    async fn webhook(&self, id: &str) -> Result<Webhook> {
        processing::webhook(&self.pool, id).await
    }
    async fn delete_webhook(&self, tenant_id: &str, id: &str) -> Result<()> {
        processing::delete_webhook(&self.pool, tenant_id, id).await
    }
    async fn delivery(&self, id: &str) -> Result<Delivery> {
        processing::delivery(&self.pool, id).await
    }
    async fn deliveries(&self, webhook_id: &str, limit: u32) -> Result<Vec<Delivery>> {
        processing::deliveries(&self.pool, webhook_id, limit).await
    }
    async fn save_delivery(&self, delivery: &Delivery) -> Result<()> {
        processing::save_delivery(&self.pool, delivery).await
    }
    async fn redeliver(&self, id: &str, job: JobTemplate) -> Result<Delivery> {
        processing::redeliver(&self.pool, id, &job).await
    }

    async fn due_for_expiry(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<FileRecord>> {
        processing::due_for_expiry(&self.pool, now, limit).await
    }
    async fn expire_file(
        &self,
        file_id: &str,
        deliveries: &[Delivery],
        delivery_job: JobTemplate,
    ) -> Result<(bool, Option<String>)> {
        processing::expire_file(&self.pool, file_id, deliveries, &delivery_job).await
    }

    async fn create_list(
        &self,
        tenant_id: &str,
        name: &str,
        status: ListStatus,
    ) -> Result<ContactList> {
        lists::create_list(&self.pool, tenant_id, name, status).await
    }
    async fn lists(&self, tenant_id: &str) -> Result<Vec<ContactList>> {
        lists::lists(&self.pool, tenant_id).await
    }
    async fn list(&self, tenant_id: &str, id: i64) -> Result<ContactList> {
        lists::list(&self.pool, tenant_id, id).await
    }
    async fn add_members(&self, tenant_id: &str, list_id: i64, emails: &[String]) -> Result<u64> {
        lists::add_members(&self.pool, tenant_id, list_id, emails).await
    }
    async fn members(
        &self,
        tenant_id: &str,
        list_id: i64,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>> {
        lists::members(&self.pool, tenant_id, list_id, after, limit).await
    }
    async fn remove_members(
        &self,
        tenant_id: &str,
        list_ids: &[i64],
        emails: &[String],
    ) -> Result<RemovalCounts> {
        lists::remove_members(&self.pool, tenant_id, list_ids, emails).await
    }
    async fn create_activity(&self, activity: &Activity) -> Result<()> {
        lists::create_activity(&self.pool, activity).await
    }
    async fn activity(&self, tenant_id: &str, id: &str) -> Result<Activity> {
        lists::activity(&self.pool, tenant_id, id).await
    }
    async fn save_activity(&self, activity: &Activity) -> Result<bool> {
        lists::save_activity(&self.pool, activity).await
    }

    async fn create_s3_credential(&self, credential: &intake_core::S3Credential) -> Result<()> {
        signed::create_s3_credential(&self.pool, credential).await
    }
    async fn s3_credential(
        &self,
        access_key_id: &str,
    ) -> Result<(intake_core::S3Credential, ApiKey)> {
        signed::s3_credential(&self.pool, access_key_id).await
    }
    async fn create_intent(&self, intent: &intake_core::UploadIntent) -> Result<()> {
        signed::create_intent(&self.pool, intent).await
    }
    async fn intent(&self, id: &str) -> Result<intake_core::UploadIntent> {
        signed::intent(&self.pool, id).await
    }
    async fn complete_intent(&self, id: &str, file_id: &str, at: DateTime<Utc>) -> Result<bool> {
        signed::complete_intent(&self.pool, id, file_id, at).await
    }
    async fn delete_intents_before(&self, before: DateTime<Utc>) -> Result<u64> {
        signed::delete_intents_before(&self.pool, before).await
    }
}
