//! `intake serve`: opens the data directory, bootstraps an empty one,
//! serves HTTP, runs the workers, sweeps leftovers, and shuts down
//! gracefully on SIGTERM.

use crate::config::{Config, StorageBackend};
use anyhow::Context;
use intake_blob::{BlobStore, FileStore, S3Store};
use intake_catalog::{Catalog, Location, SqliteCatalog};
use intake_http::{AppState, HttpConfig};
use intake_service::Service;
use intake_workers::{UploadCheck, UploadCompleter, Workers};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};
use tokio_util::sync::CancellationToken;

/// The catalog and blob store of a data directory, ready for the service.
pub async fn open(config: &Config) -> anyhow::Result<Service> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let catalog = open_catalog(config).await?;
    let (blobs, direct) = open_blobs(config).await?;
    let mut service = Service::new(catalog, blobs, config.limits.clone());
    service.direct = direct;
    // Every node must give new jobs the same attempt budgets as its workers.
    service.process_job = config.workers.process_job();
    service.webhook_attempts = config.workers.webhook_attempts;
    service.signed = config.signed.clone();
    Ok(service)
}

/// The blob store, and with S3 the bucket that upload intents' forms go
/// to directly.
async fn open_blobs(config: &Config) -> anyhow::Result<(Arc<dyn BlobStore>, Option<Arc<S3Store>>)> {
    Ok(match config.storage.backend {
        StorageBackend::Local => {
            let store = FileStore::open(&config.data_dir)
                .await
                .context("opening the blob store")?;
            (Arc::new(store), None)
        }
        StorageBackend::S3 => {
            let s3 = &config.storage.s3;
            let store = S3Store::open(s3).context("configuring the S3 store")?;
            store.check().await.with_context(|| {
                format!(
                    "reaching bucket {:?} at {}",
                    s3.bucket,
                    s3.endpoint.as_deref().unwrap_or("AWS")
                )
            })?;
            let store = Arc::new(store);
            (store.clone(), Some(store))
        }
    })
}

/// The catalog: PostgreSQL when `database_url` is set (nodes sharing it),
/// else SQLite in the data directory.
async fn open_catalog(config: &Config) -> anyhow::Result<Arc<dyn Catalog>> {
    let Some(url) = &config.database_url else {
        let catalog = SqliteCatalog::open(&config.data_dir.join("catalog.db"))
            .await
            .context("opening the catalog")?;
        return Ok(Arc::new(catalog));
    };
    let location = Location::parse(url).context("database_url")?;
    tracing::info!(
        catalog = %location,
        max_connections = config.database_max_connections,
        "opening the catalog"
    );
    location
        .open_with(config.database_max_connections)
        .await
        .with_context(|| format!("opening the catalog at {location}"))
}

pub async fn run(config: Config, admin_key: Option<String>) -> anyhow::Result<()> {
    let service = open(&config).await?;
    // Nothing of this node's is in flight before we listen: after a crash,
    // every staging file and every blob no file refers to is a leftover. A
    // clean stop leaves a marker so a normal start skips the full listing.
    // A shared store is another matter: other nodes' fresh blobs, not yet
    // committed, must be left to age.
    let marker = config.data_dir.join("clean-shutdown");
    let crashed = std::fs::remove_file(&marker).is_err();
    let own_store = config.storage.backend == StorageBackend::Local;
    let max_age = if crashed && own_store {
        Duration::ZERO
    } else {
        config.server.staging_max_age
    };
    sweep_once(service.catalog.as_ref(), service.blobs.as_ref(), max_age).await?;
    let boot = service.bootstrap(admin_key.as_deref()).await?;
    let key_file = config.data_dir.join("admin.key");
    if let Some(token) = &boot.generated_token {
        write_secret(&key_file, token)?;
    }
    let listener = listen(&config.server.listen, config.server.backlog)
        .await
        .with_context(|| format!("listening on {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    announce(addr, &boot, admin_key.is_some(), &key_file)?;

    let state = AppState {
        service: service.clone(),
        config: HttpConfig {
            ..config.http.clone()
        },
        metrics: intake_http::install_metrics(),
    };
    let workers = Workers::new(
        service.catalog.clone(),
        service.blobs.clone(),
        config.workers.clone(),
        intake_workers::node_id(),
    )?
    .with_waker(service.jobs_ready.clone())
    .with_upload_completer(upload_completer(&service));
    let stop_workers = CancellationToken::new();
    let workers = tokio::spawn(workers.run(stop_workers.clone()));
    let sweeper = tokio::spawn(sweep(
        service.clone(),
        config.server.sweep_interval,
        config.server.staging_max_age,
    ));
    let app = intake_http::router(state);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_http(listener, app, async move {
        let _ = stop_rx.await;
    }));
    shutdown_signal().await;
    tracing::info!("shutting down: no new connections; waiting for requests in flight");
    let _ = stop_tx.send(());
    match tokio::time::timeout(config.server.shutdown_timeout, server).await {
        Ok(result) => result?,
        Err(_) => {
            tracing::warn!(timeout = ?config.server.shutdown_timeout, "requests still in flight at the deadline")
        }
    }
    // Running jobs get the rest of the deadline; one cut off keeps its lease
    // and is taken again after a restart.
    stop_workers.cancel();
    if tokio::time::timeout(config.server.shutdown_timeout, workers)
        .await
        .is_err()
    {
        tracing::warn!("jobs still running at the deadline; they resume after a restart");
    }
    sweeper.abort();
    service.catalog.close().await;
    write_secret(&marker, "")?;
    Ok(())
}

/// The workers' way to complete uploads that went straight to the S3
/// bucket: the service's own completion path.
fn upload_completer(service: &Service) -> UploadCompleter {
    let service = service.clone();
    Arc::new(move |intent_id: String| {
        let service = service.clone();
        Box::pin(async move {
            match service.look_for_direct_upload(&intent_id).await {
                Ok(None) => Ok(UploadCheck::Settled),
                Ok(Some(at)) => Ok(UploadCheck::LookAgainAt(at)),
                Err(e) => Err(e.to_string()),
            }
        })
    })
}

/// What a new user needs to know, on stdout: the first line is the address
/// (tests and scripts read it).
fn announce(
    addr: std::net::SocketAddr,
    boot: &intake_service::Bootstrap,
    configured: bool,
    key_file: &Path,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "intake listening on http://{addr}")?;
    match &boot.generated_token {
        Some(token) => {
            writeln!(
                out,
                "created tenant 'default', project 'default' and an admin API key:"
            )?;
            writeln!(out, "    {token}")?;
            writeln!(
                out,
                "it is shown once and saved in {} (mode 0600)",
                key_file.display()
            )?;
        }
        None if configured => writeln!(out, "admin API key: the value of INTAKE_ADMIN_KEY")?,
        None => writeln!(out, "admin API key: in {}", key_file.display())?,
    }
    writeln!(
        out,
        "try: curl -H \"Authorization: Bearer $(cat {})\" -F file=@letter.pdf http://{addr}/v1/projects/default/files",
        key_file.display()
    )?;
    out.flush()?;
    Ok(())
}

/// Writes a secret readable by its owner only.
pub fn write_secret(path: &Path, secret: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    writeln!(file, "{secret}")?;
    file.sync_all()?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM");
            let _ = ctrl_c.await;
            return;
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}

/// Removes unfinished writes of dead uploads, and blobs no file refers to
/// (left by a crash between a durable write and its catalog commit).
async fn sweep(service: Service, every: Duration, max_age: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(e) = sweep_once(service.catalog.as_ref(), service.blobs.as_ref(), max_age).await
        {
            tracing::warn!(error = %e, "sweep failed");
        }
    }
}

pub async fn sweep_once(
    catalog: &dyn Catalog,
    blobs: &dyn BlobStore,
    max_age: Duration,
) -> anyhow::Result<()> {
    let staging = blobs.sweep_staging(max_age).await?;
    let mut orphans = 0;
    for key in blobs.keys_older_than(max_age).await? {
        if !catalog.blob_in_use(&key).await? {
            blobs.delete(&key).await?;
            orphans += 1;
        }
    }
    if staging + orphans > 0 {
        tracing::info!(staging, orphans, "swept");
    }
    Ok(())
}

/// Binds `addr` (the first address it resolves to) with the given backlog;
/// `TcpListener::bind` would fix it at 1024.
async fn listen(addr: &str, backlog: u32) -> std::io::Result<TcpListener> {
    let addr = tokio::net::lookup_host(addr)
        .await?
        .next()
        .ok_or_else(|| std::io::Error::other("the address resolves to nothing"))?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// Largest read buffer of an HTTP/1 connection. hyper's default (about
/// 400 KiB) is reached by any client that sends in bursts, and kept for the
/// connection's life: a thousand slow uploads held 300 MiB that way (bench
/// workload 3). At 64 KiB a fast upload cost 40 % more CPU in reads and
/// hand-offs; 256 KiB costs neither.
const READ_BUFFER: usize = 256 << 10;

/// What `axum::serve` does, with hyper's connection settings at hand:
/// accepts until `stop`, then waits for the connections' requests to finish.
async fn serve_http(listener: TcpListener, app: axum::Router, stop: impl Future<Output = ()>) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;

    let mut http = Builder::new(TokioExecutor::new());
    http.http1().max_buf_size(READ_BUFFER);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, most likely: wait rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let conn = http
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
