//! Durability across process ends: a restart keeps every file, a SIGKILL
//! in the middle of 20 uploads loses none that was acknowledged and shows
//! none that was half written, and SIGTERM lets an upload in flight finish
//! before the process exits 0.
//!
//! An upload whose row was committed but whose answer was lost in the kill
//! may legitimately be visible; the test accepts it only if its bytes are
//! complete, since "visible" must always mean "whole".

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::fixtures::{Generated, pseudo_random, sha256_hex};
use crate::harness::{Server, client, files_under, str_field};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_survive_a_restart() {
    let mut server = Server::start().await;
    let mut kept = Vec::new();
    for i in 0..3 {
        let data = pseudo_random(200 + i, 10_000 * (i as usize + 1));
        let file = server
            .upload_one(
                "default",
                &format!("keep-{i}.bin"),
                &data,
                "application/octet-stream",
            )
            .await;
        kept.push((str_field(&file, "id"), data));
    }
    server.terminate();
    let status = server.wait_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "graceful exit: {status}");
    server.restart().await;
    for (id, data) in &kept {
        let content = server.get(&format!("/v1/files/{id}/content")).await;
        assert_eq!(
            sha256_hex(&content.expect_status(200, "after restart").body),
            sha256_hex(data)
        );
    }
    assert_eq!(server.file_count("default").await, 3);
    server.assert_no_staging_or_orphans().await;
}

/// Polls `condition` until it holds; panics with `what` after `limit`.
async fn wait_for(what: &str, limit: Duration, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_20_uploads_loses_only_unacknowledged_ones() {
    const UPLOADS: u64 = 20;
    const KILL_AFTER: usize = 5;
    let mut server = Server::start().await;
    let http = client(Some(Duration::from_secs(120)));
    let acked = Arc::new(AtomicUsize::new(0));
    let mut bodies = Vec::new();
    for i in 0..UPLOADS {
        // 5 MiB to 20 MiB at the same pace, so the small ones finish first
        // and the big ones are still in flight when the kill lands.
        let len = (5 << 20) + i * (15 << 20) / (UPLOADS - 1);
        let body = Generated::new(1000 + i, len).throttled(256 << 10, Duration::from_millis(40));
        bodies.push((format!("crash-{i:02}.bin"), len, body));
    }
    let expected: HashMap<String, (u64, String)> = bodies
        .iter()
        .map(|(name, len, body)| (name.clone(), (*len, body.expected_sha256())))
        .collect();

    let uploads = futures::future::join_all(bodies.iter().map(|(name, len, body)| {
        let (server, http, acked) = (&server, &http, Arc::clone(&acked));
        async move {
            let reply = server
                .upload_stream(http, "default", name, body, *len)
                .await;
            let reply = reply.ok().filter(|r| r.status == 201 || r.status == 202)?;
            acked.fetch_add(1, Ordering::SeqCst);
            Some(reply.json()["files"][0].clone())
        }
    }));
    let killer = async {
        wait_for(
            "the first acknowledged uploads",
            Duration::from_secs(120),
            || acked.load(Ordering::SeqCst) >= KILL_AFTER,
        )
        .await;
        server.signal("KILL");
    };
    let (results, ()) = tokio::join!(uploads, killer);
    let in_flight = bodies
        .iter()
        .zip(&results)
        .filter(|((_, len, body), r)| r.is_none() && body.sent.load(Ordering::SeqCst) < *len)
        .count();
    let acknowledged: Vec<_> = results.into_iter().flatten().collect();
    eprintln!(
        "at the kill: {} acknowledged, {in_flight} mid-body",
        acknowledged.len()
    );
    assert!(
        in_flight > 0,
        "the kill landed after every upload had finished sending"
    );

    server.restart().await;
    let listed = server.list_all(&server.admin_auth(), "default").await;
    let mut listed_names = HashMap::new();
    for file in &listed {
        let name = str_field(file, "original_filename");
        let (len, sha) = expected
            .get(&name)
            .unwrap_or_else(|| panic!("unknown file listed: {file}"));
        assert_eq!(
            (file["size"].as_u64(), &str_field(file, "sha256")),
            (Some(*len), sha),
            "a half file is visible: {file}"
        );
        listed_names.insert(name, str_field(file, "id"));
    }
    for file in &acknowledged {
        let name = str_field(file, "original_filename");
        let (len, sha) = &expected[&name];
        assert_eq!(
            &str_field(file, "sha256"),
            sha,
            "acknowledged hash of {name}"
        );
        let id = str_field(file, "id");
        assert_eq!(
            listed_names.get(&name),
            Some(&id),
            "acknowledged {name} is not listed after the restart"
        );
        let (status, got_len, got_sha) = server.download_sha256(&http, &id).await;
        assert_eq!(
            (status, got_len, &got_sha),
            (200, *len, sha),
            "bytes of {name} after the kill"
        );
    }
    eprintln!(
        "after restart: {} listed, {} of them committed without an answer",
        listed.len(),
        listed.len() - acknowledged.len()
    );
    server.assert_no_staging_or_orphans().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_upload_in_flight_finish_then_exits_0() {
    const LEN: u64 = 40 << 20;
    let mut server = Server::start_with(|cfg| {
        cfg.server("shutdown_timeout", "\"30s\"");
    })
    .await;
    let http = client(Some(Duration::from_secs(120)));
    // About 12 MiB/s, so the upload lasts a few seconds.
    let body = Generated::new(77, LEN).throttled(256 << 10, Duration::from_millis(20));
    let upload = server.upload_stream(&http, "default", "in-flight.bin", &body, LEN);
    let terminate = async {
        // 16 MiB is more than the socket buffers hold: the server is reading.
        wait_for("16 MiB sent", Duration::from_secs(60), || {
            body.sent.load(Ordering::SeqCst) >= 16 << 20
        })
        .await;
        server.terminate();
    };
    let (reply, ()) = tokio::join!(upload, terminate);
    let reply = reply.expect("the upload in flight completes after SIGTERM");
    let file = reply.expect_uploaded("upload during shutdown").json()["files"][0].clone();
    assert_eq!(
        str_field(&file, "sha256"),
        body.sha256().expect("sent whole")
    );
    let status = server.wait_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "exit status after SIGTERM: {status}");
    let staging = files_under(&server.data_dir().join("staging"));
    assert!(
        staging.is_empty(),
        "staging after a graceful exit: {staging:?}"
    );
}
