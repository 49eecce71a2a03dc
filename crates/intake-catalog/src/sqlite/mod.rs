//! The SQLite catalog: the embedded default, one file in the data directory.
//!
//! Writes go through a pool of one connection, so they queue in the process
//! instead of spinning on SQLITE_BUSY; reads use a pool of their own, which
//! WAL mode lets run beside the writer. A committed upload must survive a
//! power cut, so every write waits for an fsync of the WAL; those fsyncs are
//! shared between concurrent writers (group commit, see `durable`).

mod accounts;
mod durable;
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
use durable::WalSync;
use intake_core::{Activity, ContactList, ListStatus, RemovalCounts};
use intake_core::{
    ApiKey, Delivery, DuplicateMode, FileRecord, Folder, Job, Project, Task, Tenant, Upload, User,
    Webhook,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct SqliteCatalog {
    write: SqlitePool,
    read: SqlitePool,
    wal: Arc<WalSync>,
}

impl SqliteCatalog {
    /// Opens (creating when missing) the catalog at `path` and brings its
    /// schema up to date.
    pub async fn open(path: &Path) -> Result<SqliteCatalog> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&write)
            .await
            .map_err(|e| CatalogError::Other(format!("migrations: {e}")))?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqliteCatalog {
            write,
            read,
            wal: Arc::new(WalSync::new(path)),
        })
    }

    /// Runs a write, then waits until its commit is durable.
    async fn durable<T>(&self, write: impl Future<Output = Result<T>>) -> Result<T> {
        let started = std::time::Instant::now();
        let out = write.await?;
        if self.wal.commit_done().await? {
            metrics::counter!("intake_catalog_wal_fsyncs_total").increment(1);
        }
        metrics::histogram!("intake_catalog_commit_seconds").record(started.elapsed());
        Ok(out)
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

#[async_trait]
impl Catalog for SqliteCatalog {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }
    async fn close(&self) {
        SqliteCatalog::close(self).await;
    }

    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        self.durable(accounts::create_tenant(&self.write, tenant))
            .await
    }
    async fn tenant(&self, id: &str) -> Result<Tenant> {
        accounts::tenant(&self.read, "id", id).await
    }
    async fn tenant_by_slug(&self, slug: &str) -> Result<Tenant> {
        accounts::tenant(&self.read, "slug", slug).await
    }
    async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        accounts::list_tenants(&self.read).await
    }

    async fn create_project(&self, project: &Project) -> Result<()> {
        self.durable(accounts::create_project(&self.write, project))
            .await
    }
    async fn project(&self, tenant_id: &str, id_or_slug: &str) -> Result<Project> {
        accounts::project(&self.read, tenant_id, id_or_slug).await
    }
    async fn list_projects(&self, tenant_id: &str) -> Result<Vec<Project>> {
        accounts::list_projects(&self.read, tenant_id).await
    }
    async fn update_project(&self, project: &Project) -> Result<()> {
        self.durable(accounts::update_project(&self.write, project))
            .await
    }
    async fn delete_project(&self, tenant_id: &str, project_id: &str) -> Result<()> {
        self.durable(accounts::delete_project(&self.write, tenant_id, project_id))
            .await
    }

    async fn create_folder(&self, project_id: &str, parent_id: i64, name: &str) -> Result<Folder> {
        self.durable(accounts::create_folder(
            &self.write,
            project_id,
            parent_id,
            name,
        ))
        .await
    }
    async fn folder(&self, project_id: &str, id: i64) -> Result<Folder> {
        accounts::folder(&self.read, project_id, id).await
    }
    async fn list_folders(&self, project_id: &str, parent_id: Option<i64>) -> Result<Vec<Folder>> {
        accounts::list_folders(&self.read, project_id, parent_id).await
    }
    async fn delete_folder(&self, project_id: &str, id: i64) -> Result<()> {
        self.durable(accounts::delete_folder(&self.write, project_id, id))
            .await
    }

    async fn create_api_key(&self, key: &ApiKey, token_hash: &str) -> Result<()> {
        self.durable(accounts::create_api_key(&self.write, key, token_hash))
            .await
    }
    async fn api_key_by_hash(&self, token_hash: &str) -> Result<ApiKey> {
        accounts::api_key_by_hash(&self.read, token_hash).await
    }
    async fn list_api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKey>> {
        accounts::list_api_keys(&self.read, tenant_id).await
    }
    async fn revoke_api_key(&self, tenant_id: &str, id: &str) -> Result<ApiKey> {
        self.durable(accounts::revoke_api_key(&self.write, tenant_id, id))
            .await
    }
    async fn create_user(&self, user: &User, password_hash: &str) -> Result<()> {
        self.durable(accounts::create_user(&self.write, user, password_hash))
            .await
    }
    async fn user_by_name(&self, tenant_id: &str, username: &str) -> Result<(User, String)> {
        accounts::user_by_name(&self.read, tenant_id, username).await
    }
    async fn users_named(&self, username: &str) -> Result<Vec<(User, String)>> {
        accounts::users_named(&self.read, username).await
    }
    async fn list_users(&self, tenant_id: &str) -> Result<Vec<User>> {
        accounts::list_users(&self.read, tenant_id).await
    }
    async fn delete_user(&self, tenant_id: &str, id: &str) -> Result<()> {
        self.durable(accounts::delete_user(&self.write, tenant_id, id))
            .await
    }

    async fn commit_upload(
        &self,
        upload: &Upload,
        files: Vec<FileRecord>,
        duplicates: DuplicateMode,
        first_job: Option<JobTemplate>,
    ) -> Result<Committed> {
        self.durable(files::commit_upload(
            &self.write,
            upload,
            files,
            duplicates,
            first_job,
        ))
        .await
    }
    async fn file(&self, tenant_id: &str, id: &str) -> Result<FileRecord> {
        files::file(&self.read, tenant_id, id).await
    }
    async fn file_by_external_id(&self, tenant_id: &str, external_id: &str) -> Result<FileRecord> {
        files::file_by_external_id(&self.read, tenant_id, external_id).await
    }
    async fn upload(&self, tenant_id: &str, id: &str) -> Result<(Upload, Vec<FileRecord>)> {
        files::upload(&self.read, tenant_id, id).await
    }
    async fn list_files(&self, tenant_id: &str, query: &FileQuery) -> Result<Page<FileRecord>> {
        files::list_files(&self.read, tenant_id, query).await
    }
    async fn delete_file(&self, tenant_id: &str, id: &str) -> Result<Option<String>> {
        self.durable(files::delete_file(&self.write, tenant_id, id))
            .await
    }
    async fn blob_in_use(&self, key: &str) -> Result<bool> {
        files::blob_in_use(&self.read, key).await
    }

    async fn enqueue(&self, job: &NewJob) -> Result<i64> {
        self.durable(processing::enqueue(&self.write, job)).await
    }
    async fn claim_jobs(&self, owner: &str, limit: u32, lease: Duration) -> Result<Vec<Job>> {
        self.durable(processing::claim_jobs(&self.write, owner, limit, lease))
            .await
    }
    async fn extend_lease(&self, job: &Job, lease: Duration) -> Result<bool> {
        self.durable(processing::extend_lease(&self.write, job, lease))
            .await
    }
    async fn finish_job(&self, job: &Job) -> Result<bool> {
        self.durable(processing::finish_job(&self.write, job)).await
    }
    async fn retry_job(&self, job: &Job, run_at: DateTime<Utc>, error: &str) -> Result<bool> {
        self.durable(processing::retry_job(&self.write, job, run_at, error))
            .await
    }
    async fn bury_job(&self, job: &Job, error: &str) -> Result<bool> {
        self.durable(processing::bury_job(&self.write, job, error))
            .await
    }

    async fn file_by_id(&self, id: &str) -> Result<FileRecord> {
        processing::file_by_id(&self.read, id).await
    }
    async fn tasks(&self, file_id: &str) -> Result<Vec<Task>> {
        processing::tasks(&self.read, file_id).await
    }
    async fn save_task(&self, file_id: &str, task: &Task) -> Result<()> {
        self.durable(processing::save_task(&self.write, file_id, task))
            .await
    }
    async fn start_processing(&self, file_id: &str) -> Result<()> {
        self.durable(processing::start_processing(&self.write, file_id))
            .await
    }
    async fn finish_file(
        &self,
        file_id: &str,
        outcome: &FileOutcome,
        deliveries: &[Delivery],
        delivery_job: JobTemplate,
    ) -> Result<(FileRecord, Option<String>)> {
        self.durable(processing::finish_file(
            &self.write,
            file_id,
            outcome,
            deliveries,
            &delivery_job,
        ))
        .await
    }

    async fn create_webhook(&self, hook: &Webhook) -> Result<()> {
        self.durable(processing::create_webhook(&self.write, hook))
            .await
    }
    async fn webhooks(&self, project_id: &str) -> Result<Vec<Webhook>> {
        processing::webhooks(&self.read, project_id).await
    }
    async fn webhook(&self, id: &str) -> Result<Webhook> {
        processing::webhook(&self.read, id).await
    }
    async fn delete_webhook(&self, tenant_id: &str, id: &str) -> Result<()> {
        self.durable(processing::delete_webhook(&self.write, tenant_id, id))
            .await
    }
    async fn delivery(&self, id: &str) -> Result<Delivery> {
        processing::delivery(&self.read, id).await
    }
    async fn deliveries(&self, webhook_id: &str, limit: u32) -> Result<Vec<Delivery>> {
        processing::deliveries(&self.read, webhook_id, limit).await
    }
    async fn save_delivery(&self, delivery: &Delivery) -> Result<()> {
        self.durable(processing::save_delivery(&self.write, delivery))
            .await
    }
    async fn redeliver(&self, id: &str, job: JobTemplate) -> Result<Delivery> {
        self.durable(processing::redeliver(&self.write, id, &job))
            .await
    }

    async fn due_for_expiry(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<FileRecord>> {
        processing::due_for_expiry(&self.read, now, limit).await
    }
    async fn expire_file(
        &self,
        file_id: &str,
        deliveries: &[Delivery],
        delivery_job: JobTemplate,
    ) -> Result<(bool, Option<String>)> {
        self.durable(processing::expire_file(
            &self.write,
            file_id,
            deliveries,
            &delivery_job,
        ))
        .await
    }

    async fn create_list(
        &self,
        tenant_id: &str,
        name: &str,
        status: ListStatus,
    ) -> Result<ContactList> {
        self.durable(lists::create_list(&self.write, tenant_id, name, status))
            .await
    }
    async fn lists(&self, tenant_id: &str) -> Result<Vec<ContactList>> {
        lists::lists(&self.read, tenant_id).await
    }
    async fn list(&self, tenant_id: &str, id: i64) -> Result<ContactList> {
        lists::list(&self.read, tenant_id, id).await
    }
    async fn add_members(&self, tenant_id: &str, list_id: i64, emails: &[String]) -> Result<u64> {
        self.durable(lists::add_members(&self.write, tenant_id, list_id, emails))
            .await
    }
    async fn members(
        &self,
        tenant_id: &str,
        list_id: i64,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>> {
        lists::members(&self.read, tenant_id, list_id, after, limit).await
    }
    async fn remove_members(
        &self,
        tenant_id: &str,
        list_ids: &[i64],
        emails: &[String],
    ) -> Result<RemovalCounts> {
        self.durable(lists::remove_members(
            &self.write,
            tenant_id,
            list_ids,
            emails,
        ))
        .await
    }
    async fn create_activity(&self, activity: &Activity) -> Result<()> {
        self.durable(lists::create_activity(&self.write, activity))
            .await
    }
    async fn activity(&self, tenant_id: &str, id: &str) -> Result<Activity> {
        lists::activity(&self.read, tenant_id, id).await
    }
    async fn save_activity(&self, activity: &Activity) -> Result<bool> {
        self.durable(lists::save_activity(&self.write, activity))
            .await
    }

    async fn create_s3_credential(&self, credential: &intake_core::S3Credential) -> Result<()> {
        self.durable(signed::create_s3_credential(&self.write, credential))
            .await
    }
    async fn s3_credential(
        &self,
        access_key_id: &str,
    ) -> Result<(intake_core::S3Credential, ApiKey)> {
        signed::s3_credential(&self.read, access_key_id).await
    }
    async fn create_intent(&self, intent: &intake_core::UploadIntent) -> Result<()> {
        self.durable(signed::create_intent(&self.write, intent))
            .await
    }
    async fn intent(&self, id: &str) -> Result<intake_core::UploadIntent> {
        signed::intent(&self.read, id).await
    }
    async fn complete_intent(&self, id: &str, file_id: &str, at: DateTime<Utc>) -> Result<bool> {
        self.durable(signed::complete_intent(&self.write, id, file_id, at))
            .await
    }
    async fn delete_intents_before(&self, before: DateTime<Utc>) -> Result<u64> {
        self.durable(signed::delete_intents_before(&self.write, before))
            .await
    }
}
