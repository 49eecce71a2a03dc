//! intake's operations, shared by every front end: the native API, the seed
//! dialects and the admin CLI call these and only translate wire formats.
//! Each operation checks the caller's scopes and tenant itself, so no front
//! end can forget to; another tenant's resources are reported as not found.

mod accounts;
pub mod auth;
mod direct;
mod files;
mod lists;
mod processing;
mod projects;
pub mod signed;

pub use accounts::{Bootstrap, NewKey, NewUser};
pub use files::{
    Content, FormatCheck, NewUpload, UploadOutcome, content_disposition, decide_format,
};
pub use lists::{MAX_ADD_MEMBERS, REMOVAL_RECEIVE_CAP};
pub use projects::NewProject;
pub use signed::{Download, IntentGrant, NewIntent, PostedObject, SignedSettings};

use intake_blob::BlobStore;
use intake_catalog::{Catalog, JobTemplate};
use intake_core::JobKind;
use intake_ingest::Limits;
use std::sync::Arc;
use tokio::sync::{Notify, Semaphore};

/// The slug of the tenant created at first start. Its `admin` credentials
/// are the operator's: they manage every tenant.
pub const OPERATOR_TENANT: &str = "default";
/// The project created at first start.
pub const DEFAULT_PROJECT: &str = "default";

#[derive(Clone)]
pub struct Service {
    pub catalog: Arc<dyn Catalog>,
    pub blobs: Arc<dyn BlobStore>,
    pub limits: Limits,
    /// The job every new file gets.
    pub process_job: JobTemplate,
    /// Attempts a webhook delivery gets.
    pub webhook_attempts: u32,
    /// Woken when jobs are queued, so an idle worker starts at once.
    pub jobs_ready: Arc<Notify>,
    /// Signed uploads: windows, region, public URL.
    pub signed: SignedSettings,
    /// With an S3 blob store: the bucket that upload intents' forms go to
    /// directly, so the browser's bytes never pass through intake.
    pub direct: Option<Arc<intake_blob::S3Store>>,
    /// argon2 needs ~19 MiB and tens of milliseconds per check: a few at a
    /// time, so a burst of Basic-auth requests cannot exhaust memory.
    password_checks: Arc<Semaphore>,
}

impl Service {
    pub fn new(catalog: Arc<dyn Catalog>, blobs: Arc<dyn BlobStore>, limits: Limits) -> Service {
        let permits = std::thread::available_parallelism().map_or(2, |n| n.get());
        Service {
            catalog,
            blobs,
            limits,
            process_job: JobTemplate {
                kind: JobKind::ProcessFile,
                max_attempts: 8,
            },
            webhook_attempts: 8,
            jobs_ready: Arc::new(Notify::new()),
            signed: SignedSettings::default(),
            direct: None,
            password_checks: Arc::new(Semaphore::new(permits)),
        }
    }
}
