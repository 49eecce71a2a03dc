//! The configuration in force: `intake config show`, and settings a running
//! node honours. The pool test needs `INTAKE_TEST_DATABASE_URL`
//! (scripts/postgres/start.sh).

use std::process::Command;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use intake_catalog::testing::TestDatabase;

use crate::fixtures::pseudo_random;
use crate::harness::{Server, run};

/// `intake config show ARGS…` with only `env` from the caller's `INTAKE_*`.
async fn config_show(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_intake"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("INTAKE_") {
            cmd.env_remove(name);
        }
    }
    cmd.args(["config", "show"])
        .args(args)
        .envs(env.iter().copied());
    let out = run(cmd, None).await;
    assert!(
        out.status.success(),
        "intake config show {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_show_reports_the_database_pool_size() {
    let shown = config_show(&[], &[]).await;
    assert!(shown.contains("database_max_connections = 16\n"), "{shown}");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("intake.toml");
    std::fs::write(&file, "database_max_connections = 30\n").expect("write");
    let file = file.display().to_string();
    let shown = config_show(&["--config", &file], &[]).await;
    assert!(shown.contains("database_max_connections = 30\n"), "{shown}");
    // The variable beats the file, the flag beats both.
    let env = [("INTAKE_DATABASE_MAX_CONNECTIONS", "7")];
    let shown = config_show(&["--config", &file], &env).await;
    assert!(shown.contains("database_max_connections = 7\n"), "{shown}");
    let shown = config_show(
        &["--config", &file, "--database-max-connections", "9"],
        &env,
    )
    .await;
    assert!(shown.contains("database_max_connections = 9\n"), "{shown}");
    // Zero connections cannot serve anything.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_intake"));
    cmd.args(["config", "show", "--database-max-connections", "0"]);
    let out = run(cmd, None).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("database_max_connections"), "{stderr}");
}

/// The most sessions `database` had while `load` ran, sampled.
async fn peak_sessions(database: &TestDatabase, load: impl Future<Output = ()>) -> i64 {
    let peak = AtomicI64::new(0);
    let sampler = async {
        loop {
            peak.fetch_max(database.sessions("intake").await, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::select! {
        _ = sampler => {}
        () = load => {}
    }
    // Idle connections stay in the pool: the count after the load is the
    // high-water mark, whatever the samples caught.
    peak.fetch_max(database.sessions("intake").await, Ordering::Relaxed)
        .max(peak.load(Ordering::Relaxed))
}

/// 16 uploads and 16 listings at once, every one answered.
async fn burst(server: &Server) {
    let uploads = (0..16u64).map(|i| async move {
        let data = pseudo_random(900 + i, 20_000);
        server
            .upload_one(
                "default",
                &format!("f{i}.bin"),
                &data,
                "application/octet-stream",
            )
            .await;
    });
    let lists = (0..16).map(|_| async {
        server
            .get("/v1/projects/default/files?limit=1000")
            .await
            .expect_status(200, "list");
    });
    futures::future::join(
        futures::future::join_all(uploads),
        futures::future::join_all(lists),
    )
    .await;
}

async fn node(database: &TestDatabase, pool: u32) -> Server {
    Server::start_with(|cfg| {
        cfg.database_url(database.url())
            .database_max_connections(pool);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_opens_at_most_database_max_connections() {
    let database = TestDatabase::create().await;
    let small = node(&database, 2).await;
    let peak = peak_sessions(&database, burst(&small)).await;
    assert!((1..=2).contains(&peak), "a pool of 2 had {peak} sessions");
    assert_eq!(small.file_count("default").await, 16);
    drop(small);

    // The same burst on a larger pool uses more: the setting is what bounds it.
    let wait = tokio::time::Instant::now() + Duration::from_secs(10);
    while database.sessions("intake").await > 0 && tokio::time::Instant::now() < wait {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let larger = node(&database, 6).await;
    let peak = peak_sessions(&database, burst(&larger)).await;
    assert!((3..=6).contains(&peak), "a pool of 6 had {peak} sessions");
    assert_eq!(larger.file_count("default").await, 32);
}
