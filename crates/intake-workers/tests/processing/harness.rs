//! A catalog (SQLite in a temp dir, or a PostgreSQL database of its own), a blob store (local
//! disk), one tenant and project, a runner, and a webhook receiver: everything real, nothing
//! mocked.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use intake_blob::{BlobStore, FileStore};
use intake_catalog::testing::TestDatabase;
use intake_catalog::{Catalog, SqliteCatalog};
use intake_core::*;
use intake_workers::WorkerConfig;
use intake_workers::clamd::ClamdAddr;
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Every wait in these tests is bounded by this.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Whether clamd tests are skipped (`INTAKE_TEST_SKIP_CLAMD=1`); the caller returns early.
pub fn skip_clamd(test: &str) -> bool {
    let skip = std::env::var("INTAKE_TEST_SKIP_CLAMD").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("SKIPPED {test}: INTAKE_TEST_SKIP_CLAMD=1");
    }
    skip
}

/// The test clamd, from `INTAKE_TEST_CLAMD`; `None` when clamd tests are skipped.
pub fn clamd() -> Option<ClamdAddr> {
    if std::env::var("INTAKE_TEST_SKIP_CLAMD").is_ok_and(|v| v == "1") {
        return None;
    }
    let value = std::env::var("INTAKE_TEST_CLAMD").unwrap_or_else(|_| {
        panic!(
            "INTAKE_TEST_CLAMD is not set. Start a test clamd with\n\
             \x20   eval \"$(scripts/clamd/start.sh /tmp/intake-clamd)\"\n\
             or set INTAKE_TEST_SKIP_CLAMD=1 to skip the tests that need it."
        )
    });
    Some(value.parse().unwrap())
}

/// Small timings so retries and leases play out in well under a second.
pub fn fast_config() -> WorkerConfig {
    WorkerConfig {
        workers: 2,
        lease: Duration::from_secs(2),
        poll_interval: Duration::from_millis(50),
        retry_base: Duration::from_millis(20),
        retry_cap: Duration::from_millis(100),
        process_attempts: 4,
        webhook_attempts: 5,
        webhook_timeout: Duration::from_secs(5),
        clamd: clamd(),
        clamd_timeout: Duration::from_secs(20),
        retention_interval: Duration::from_millis(100),
        ..WorkerConfig::default()
    }
}

/// The catalog engine a harness runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    /// A database of its own on the server of `INTAKE_TEST_DATABASE_URL`.
    Postgres,
}

/// Runs each `async fn name(engine: Engine)` as two tests, `name::sqlite` and `name::postgres`;
/// the PostgreSQL one is skipped (and says so) with `INTAKE_TEST_SKIP_POSTGRES=1`.
macro_rules! on_every_engine {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test]
                async fn sqlite() {
                    super::$test($crate::harness::Engine::Sqlite).await;
                }

                #[tokio::test]
                async fn postgres() {
                    if intake_catalog::testing::skip_postgres(concat!(stringify!($test), "::postgres")) {
                        return;
                    }
                    super::$test($crate::harness::Engine::Postgres).await;
                }
            }
        )*
    };
}
pub(crate) use on_every_engine;

pub struct Harness {
    _dir: tempfile::TempDir,
    pub catalog: Arc<dyn Catalog>,
    pub blobs: Arc<dyn BlobStore>,
    pub project: Project,
    pub config: WorkerConfig,
    /// Where the catalog lives (a file path or a database URL), for [`Harness::open_again`].
    location: String,
    /// Dropped (with the database) after everything above.
    _database: Option<TestDatabase>,
}

impl Harness {
    /// A harness on SQLite.
    pub async fn new(policy: Policy, config: WorkerConfig) -> Harness {
        Harness::on(Engine::Sqlite, policy, config).await
    }

    pub async fn on(engine: Engine, policy: Policy, config: WorkerConfig) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let (catalog, database, location): (Arc<dyn Catalog>, _, _) = match engine {
            Engine::Sqlite => {
                let path = dir.path().join("catalog.db");
                let catalog = SqliteCatalog::open(&path).await.unwrap();
                (Arc::new(catalog), None, path.display().to_string())
            }
            Engine::Postgres => {
                let database = TestDatabase::create().await;
                let location = database.url().to_owned();
                (database.catalog().await, Some(database), location)
            }
        };
        let blobs: Arc<dyn BlobStore> =
            Arc::new(FileStore::open(dir.path().join("blobs")).await.unwrap());
        let tenant = Tenant {
            id: new_id("ten"),
            slug: "t".into(),
            name: "T".into(),
            created_at: now(),
        };
        catalog.create_tenant(&tenant).await.unwrap();
        let project = Project {
            id: new_id("prj"),
            tenant_id: tenant.id.clone(),
            slug: "p".into(),
            name: "P".into(),
            policy,
            created_at: now(),
            updated_at: now(),
        };
        catalog.create_project(&project).await.unwrap();
        Harness {
            _dir: dir,
            catalog,
            blobs,
            project,
            config,
            location,
            _database: database,
        }
    }

    /// Stores `bytes` and commits a `received` file with its processing job, as ingest does.
    pub async fn upload(&self, bytes: &[u8], format: Format, class: Option<&str>) -> FileRecord {
        self.upload_with(bytes, format, class, None).await
    }

    pub async fn upload_with(
        &self,
        bytes: &[u8],
        format: Format,
        class: Option<&str>,
        expires_at: Option<Timestamp>,
    ) -> FileRecord {
        let mut writer = self.blobs.create().await.unwrap();
        writer.write(Bytes::copy_from_slice(bytes)).await.unwrap();
        let key = writer.finish().await.unwrap();
        let upload = Upload {
            id: new_id("upl"),
            tenant_id: self.project.tenant_id.clone(),
            project_id: self.project.id.clone(),
            name: None,
            metadata: Metadata::new(),
            created_at: now(),
        };
        let file = FileRecord {
            id: new_id("file"),
            tenant_id: self.project.tenant_id.clone(),
            project_id: self.project.id.clone(),
            folder_id: 0,
            upload_id: upload.id.clone(),
            name: format!("doc.{format}"),
            original_filename: Some(format!("doc.{format}")),
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
            detected_format: format,
            declared_content_type: None,
            metadata: Metadata::new(),
            status: FileStatus::Received,
            reason: None,
            blob_key: key,
            document_class: class.map(str::to_owned),
            external_id: None,
            properties: None,
            created_at: now(),
            updated_at: now(),
            expires_at,
        };
        let job = Some(self.config.process_job());
        let committed = self
            .catalog
            .commit_upload(&upload, vec![file], DuplicateMode::Allow, job)
            .await
            .unwrap();
        committed.files.into_iter().next().unwrap()
    }

    /// The same catalog opened again, with connections of its own, as another node would.
    pub async fn open_again(&self) -> Arc<dyn Catalog> {
        intake_catalog::open(&self.location).await.unwrap()
    }

    /// Starts a runner on this harness's catalog and store.
    pub fn start(&self, name: &str) -> Runner {
        self.start_on(name, self.catalog.clone())
    }

    /// Starts a runner on `catalog` (see [`Harness::open_again`]) and this harness's store.
    pub fn start_on(&self, name: &str, catalog: Arc<dyn Catalog>) -> Runner {
        let workers = intake_workers::Workers::new(
            catalog,
            self.blobs.clone(),
            self.config.clone(),
            format!("{name}-{}", std::process::id()),
        )
        .unwrap();
        let token = CancellationToken::new();
        let handle = tokio::spawn(workers.run(token.clone()));
        Runner {
            token,
            handle: Some(handle),
        }
    }

    /// Waits (bounded) until the file is final.
    pub async fn wait_final(&self, id: &str) -> FileRecord {
        self.wait_for(id, |f| f.status.is_final()).await
    }

    pub async fn wait_for(&self, id: &str, done: impl Fn(&FileRecord) -> bool) -> FileRecord {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let file = self.catalog.file_by_id(id).await.unwrap();
            if done(&file) {
                return file;
            }
            if tokio::time::Instant::now() > deadline {
                let tasks = self.catalog.tasks(id).await.unwrap();
                panic!("file {id} did not get there in time: {file:#?}\n{tasks:#?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn task(&self, file_id: &str, name: TaskName) -> Task {
        let tasks = self.catalog.tasks(file_id).await.unwrap();
        tasks
            .into_iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no {name:?} task"))
    }

    pub async fn add_webhook(&self, url: &str, events: Vec<Event>) -> Webhook {
        let hook = Webhook {
            id: new_id("whk"),
            tenant_id: self.project.tenant_id.clone(),
            project_id: self.project.id.clone(),
            url: url.to_owned(),
            events,
            secret: "whsec_test".into(),
            created_at: now(),
        };
        self.catalog.create_webhook(&hook).await.unwrap();
        hook
    }

    /// Waits (bounded) until the webhook has `n` deliveries and none is pending.
    pub async fn wait_deliveries(&self, hook: &Webhook, n: usize) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let deliveries = self.catalog.deliveries(&hook.id, 100).await.unwrap();
            if deliveries.len() >= n && deliveries.iter().all(|d| d.state != DeliveryState::Pending)
            {
                return deliveries;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "deliveries did not settle: {deliveries:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A running [`intake_workers::Workers`]; stopped (not awaited) when dropped.
pub struct Runner {
    token: CancellationToken,
    handle: Option<JoinHandle<()>>,
}

impl Runner {
    /// Stops claiming, waits (bounded) for the running jobs.
    pub async fn stop(mut self) {
        self.token.cancel();
        if let Some(handle) = self.handle.take() {
            tokio::time::timeout(DEADLINE, handle)
                .await
                .expect("the runner stops in time")
                .unwrap();
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

/// What the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A local webhook receiver that answers 500 to the first `failures` requests, then 200.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(failures: usize) -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let seen = got.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let seen = seen.clone();
                async move {
                    let mut seen = seen.lock().unwrap();
                    seen.push(Received { headers, body });
                    if seen.len() <= failures {
                        (StatusCode::INTERNAL_SERVER_ERROR, "not yet")
                    } else {
                        (StatusCode::OK, "thanks")
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, got }
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}
