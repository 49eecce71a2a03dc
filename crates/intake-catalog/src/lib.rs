//! The catalog: intake's record of tenants, credentials, projects, folders,
//! uploads and files. It decides what is visible: a file exists once its row
//! is committed, and a row is committed only after its bytes are durable.
//!
//! [`Catalog`] names domain operations, not queries, so that each engine
//! makes them atomic its own way and no transaction type leaks upward.
//! SQLite is the embedded default; PostgreSQL ([`PgCatalog`]) is for several
//! nodes sharing one catalog. [`open`] picks the engine from a URL or path.

mod error;
mod location;
mod postgres;
mod query;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::CatalogError;
pub use location::{Location, open};
pub use query::{Cursor, FileQuery, Page};

pub use postgres::{DEFAULT_MAX_CONNECTIONS, PgCatalog};
pub use sqlite::SqliteCatalog;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use intake_core::{
    Activity, ApiKey, ContactList, Delivery, DuplicateMode, FileRecord, FileStatus, Folder, Job,
    JobKind, ListStatus, Project, Reason, RemovalCounts, S3Credential, Task, Tenant, Upload,
    UploadIntent, User, Webhook,
};
use std::time::Duration;

pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

/// The outcome of [`Catalog::commit_upload`].
#[derive(Debug, Clone, PartialEq)]
pub struct Committed {
    /// The files as stored, in request order. With [`DuplicateMode::Reuse`] a
    /// file may be an existing one; its `upload_id` then differs.
    pub files: Vec<FileRecord>,
    /// Blob keys the caller wrote but that the catalog did not keep, because
    /// the tenant already had the same bytes. The caller deletes them.
    pub unused_blobs: Vec<String>,
}

/// A job to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub kind: JobKind,
    pub subject: String,
    pub max_attempts: u32,
    pub run_at: DateTime<Utc>,
}

/// The kind and attempt budget of jobs queued alongside other writes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JobTemplate {
    pub kind: JobKind,
    pub max_attempts: u32,
}

impl JobTemplate {
    pub fn for_subject(&self, subject: &str) -> NewJob {
        NewJob {
            kind: self.kind,
            subject: subject.to_owned(),
            max_attempts: self.max_attempts,
            run_at: intake_core::now(),
        }
    }
}

/// How processing ended for a file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileOutcome {
    pub status: FileStatus,
    pub reason: Option<Reason>,
    pub properties: Option<serde_json::Value>,
    /// Drop the file's bytes (an infected file that is not quarantined).
    pub release_blob: bool,
}

#[async_trait]
pub trait Catalog: Send + Sync + 'static {
    /// Checks that the catalog answers (for `/readyz`).
    async fn ping(&self) -> Result<()>;
    /// Closes the catalog's connections, waiting for those in use; later
    /// calls fail. For a clean stop.
    async fn close(&self) {}

    // Tenants. Slugs are unique.
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()>;
    async fn tenant(&self, id: &str) -> Result<Tenant>;
    async fn tenant_by_slug(&self, slug: &str) -> Result<Tenant>;
    async fn list_tenants(&self) -> Result<Vec<Tenant>>;

    // Projects, found by id or by slug within their tenant.
    async fn create_project(&self, project: &Project) -> Result<()>;
    async fn project(&self, tenant_id: &str, id_or_slug: &str) -> Result<Project>;
    async fn list_projects(&self, tenant_id: &str) -> Result<Vec<Project>>;
    /// Stores the project's name and policy.
    async fn update_project(&self, project: &Project) -> Result<()>;
    /// Refuses (`Conflict`) while the project has files or folders.
    async fn delete_project(&self, tenant_id: &str, project_id: &str) -> Result<()>;

    // Folders: ids count from 1 per project; 0 is the root.
    /// Creates a folder under `parent_id` (0 or an existing folder).
    async fn create_folder(&self, project_id: &str, parent_id: i64, name: &str) -> Result<Folder>;
    async fn folder(&self, project_id: &str, id: i64) -> Result<Folder>;
    /// The folder's direct children, or every folder of the project.
    async fn list_folders(&self, project_id: &str, parent_id: Option<i64>) -> Result<Vec<Folder>>;
    /// Refuses (`Conflict`) while the folder holds files or folders.
    async fn delete_folder(&self, project_id: &str, id: i64) -> Result<()>;

    // Credentials. Secrets are stored hashed: API keys by SHA-256 of the
    // token, passwords as argon2 PHC strings (hashed by the caller).
    async fn create_api_key(&self, key: &ApiKey, token_hash: &str) -> Result<()>;
    /// The key with this token hash, revoked or not.
    async fn api_key_by_hash(&self, token_hash: &str) -> Result<ApiKey>;
    async fn list_api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKey>>;
    async fn revoke_api_key(&self, tenant_id: &str, id: &str) -> Result<ApiKey>;
    async fn create_user(&self, user: &User, password_hash: &str) -> Result<()>;
    /// The user and their password hash.
    async fn user_by_name(&self, tenant_id: &str, username: &str) -> Result<(User, String)>;
    /// Users of any tenant with this name, and their password hashes.
    async fn users_named(&self, username: &str) -> Result<Vec<(User, String)>>;
    async fn list_users(&self, tenant_id: &str) -> Result<Vec<User>>;
    async fn delete_user(&self, tenant_id: &str, id: &str) -> Result<()>;

    // Files.
    /// Records an upload and its files in one transaction, after their blobs
    /// are durable. Applies the duplicate rule atomically: with `Reject`, a
    /// file whose SHA-256 the project already holds fails the whole upload
    /// with [`CatalogError::Duplicate`]; with `Reuse` the existing file is
    /// answered instead. Blobs are shared per tenant by SHA-256.
    /// With `first_job`, each created file gets that job in the same
    /// transaction: no file without its job, no job without its file.
    async fn commit_upload(
        &self,
        upload: &Upload,
        files: Vec<FileRecord>,
        duplicates: DuplicateMode,
        first_job: Option<JobTemplate>,
    ) -> Result<Committed>;
    async fn file(&self, tenant_id: &str, id: &str) -> Result<FileRecord>;
    async fn file_by_external_id(&self, tenant_id: &str, external_id: &str) -> Result<FileRecord>;
    async fn upload(&self, tenant_id: &str, id: &str) -> Result<(Upload, Vec<FileRecord>)>;
    async fn list_files(&self, tenant_id: &str, query: &FileQuery) -> Result<Page<FileRecord>>;
    /// Removes the file. Returns the blob key to delete from the store when
    /// no other file of the tenant shares it.
    async fn delete_file(&self, tenant_id: &str, id: &str) -> Result<Option<String>>;
    /// Whether any file refers to the blob (for the orphan sweep).
    async fn blob_in_use(&self, key: &str) -> Result<bool>;

    // The job queue. Claims take a lease; a job whose lease runs out (its
    // worker died) is claimed again. The other calls act only while the
    // caller still holds the lease, and say whether it did.
    async fn enqueue(&self, job: &NewJob) -> Result<i64>;
    async fn claim_jobs(&self, owner: &str, limit: u32, lease: Duration) -> Result<Vec<Job>>;
    async fn extend_lease(&self, job: &Job, lease: Duration) -> Result<bool>;
    /// Done: the job is removed.
    async fn finish_job(&self, job: &Job) -> Result<bool>;
    /// Back in the queue, due at `run_at`.
    async fn retry_job(&self, job: &Job, run_at: DateTime<Utc>, error: &str) -> Result<bool>;
    /// Out of attempts: kept as failed, never run again.
    async fn bury_job(&self, job: &Job, error: &str) -> Result<bool>;

    // Processing.
    /// A file by id alone, for workers (whose jobs carry only ids).
    async fn file_by_id(&self, id: &str) -> Result<FileRecord>;
    async fn tasks(&self, file_id: &str) -> Result<Vec<Task>>;
    async fn save_task(&self, file_id: &str, task: &Task) -> Result<()>;
    /// `received` → `processing`.
    async fn start_processing(&self, file_id: &str) -> Result<()>;
    /// Records the final status once, with the webhook deliveries it causes
    /// and their jobs, in one transaction. Returns the file, and the blob key
    /// to delete when the outcome released the last reference to it.
    async fn finish_file(
        &self,
        file_id: &str,
        outcome: &FileOutcome,
        deliveries: &[Delivery],
        delivery_job: JobTemplate,
    ) -> Result<(FileRecord, Option<String>)>;

    // Webhooks.
    async fn create_webhook(&self, hook: &Webhook) -> Result<()>;
    async fn webhooks(&self, project_id: &str) -> Result<Vec<Webhook>>;
    async fn webhook(&self, id: &str) -> Result<Webhook>;
    async fn delete_webhook(&self, tenant_id: &str, id: &str) -> Result<()>;
    async fn delivery(&self, id: &str) -> Result<Delivery>;
    /// Newest first.
    async fn deliveries(&self, webhook_id: &str, limit: u32) -> Result<Vec<Delivery>>;
    async fn save_delivery(&self, delivery: &Delivery) -> Result<()>;
    /// Sends a delivery again: pending, with a new job.
    async fn redeliver(&self, id: &str, job: JobTemplate) -> Result<Delivery>;

    // Retention.
    async fn due_for_expiry(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<FileRecord>>;
    /// Marks the file expired and drops its bytes, once. Returns whether
    /// this call expired it, and the blob key to delete.
    async fn expire_file(
        &self,
        file_id: &str,
        deliveries: &[Delivery],
        delivery_job: JobTemplate,
    ) -> Result<(bool, Option<String>)>;

    // Contact lists and activities.
    /// Creates a list with the tenant's next list id; `Conflict`
    /// (`list_exists`) when the tenant has a list of that name.
    async fn create_list(
        &self,
        tenant_id: &str,
        name: &str,
        status: ListStatus,
    ) -> Result<ContactList>;
    /// The tenant's lists, by id, with their member counts.
    async fn lists(&self, tenant_id: &str) -> Result<Vec<ContactList>>;
    async fn list(&self, tenant_id: &str, id: i64) -> Result<ContactList>;
    /// Adds addresses (normalized by the caller) to a list; returns how many
    /// were not on it yet. `NotFound` for an unknown list.
    async fn add_members(&self, tenant_id: &str, list_id: i64, emails: &[String]) -> Result<u64>;
    /// A page of a list's addresses in order, after `after`.
    async fn members(
        &self,
        tenant_id: &str,
        list_id: i64,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>>;
    /// Removes every address from every list in one transaction and counts
    /// per address: removed from at least one list, or on none of them.
    /// `NotFound` (and nothing removed) when a list does not exist.
    async fn remove_members(
        &self,
        tenant_id: &str,
        list_ids: &[i64],
        emails: &[String],
    ) -> Result<RemovalCounts>;
    async fn create_activity(&self, activity: &Activity) -> Result<()>;
    async fn activity(&self, tenant_id: &str, id: &str) -> Result<Activity>;
    /// Stores status, counts and errors; acts only while the stored activity
    /// is not final, and says whether it did.
    async fn save_activity(&self, activity: &Activity) -> Result<bool>;

    // Signed direct uploads. The defaults refuse, so an engine that does not
    // have them yet still builds; the SQLite engine has them all.
    /// Stores an API key's S3 credential (its secret as it is: SigV4 needs it).
    async fn create_s3_credential(&self, credential: &S3Credential) -> Result<()> {
        let _ = credential;
        Err(unsupported("S3 credentials"))
    }
    /// The credential with this access key id, and its API key (revoked or not).
    async fn s3_credential(&self, access_key_id: &str) -> Result<(S3Credential, ApiKey)> {
        let _ = access_key_id;
        Err(unsupported("S3 credentials"))
    }
    async fn create_intent(&self, intent: &UploadIntent) -> Result<()> {
        let _ = intent;
        Err(unsupported("upload intents"))
    }
    /// An upload intent by id (which is also its access key id).
    async fn intent(&self, id: &str) -> Result<UploadIntent> {
        let _ = id;
        Err(unsupported("upload intents"))
    }
    /// Records the file an intent's upload made, once: false when the
    /// intent was already used.
    async fn complete_intent(&self, id: &str, file_id: &str, at: DateTime<Utc>) -> Result<bool> {
        let _ = (id, file_id, at);
        Err(unsupported("upload intents"))
    }
    /// Forgets intents whose download URL expired before `before`.
    async fn delete_intents_before(&self, before: DateTime<Utc>) -> Result<u64> {
        let _ = before;
        Ok(0)
    }
}

fn unsupported(what: &str) -> CatalogError {
    CatalogError::Other(format!("{what} are not supported by this catalog engine"))
}
