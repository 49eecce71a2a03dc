//! Processing through the real binary: the workers inside `intake serve`
//! scan with the test clamd, inspect, check against the project's policy,
//! deliver signed webhooks, expire files, and pick up after a SIGKILL.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::fixtures::{pdf, pseudo_random};
use crate::harness::{Server, str_field};
use crate::http::FINAL;

/// The EICAR test file: every scanner reports it, it harms nothing.
pub const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// How long webhooks and expiry may take to show in these tests.
const SETTLE: Duration = Duration::from_secs(60);

fn task<'a>(file: &'a Value, name: &str) -> &'a Value {
    file["tasks"]
        .as_array()
        .and_then(|tasks| tasks.iter().find(|t| t["name"] == name))
        .unwrap_or_else(|| panic!("no {name} task in {file}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_files_become_ready_and_eicar_infected() {
    let server = Server::start_with(|cfg| {
        cfg.clamd();
    })
    .await;

    let reply = server
        .upload("default", &[("letter.pdf", &pdf(), "application/pdf")], &[])
        .await
        .expect_status(201, "async upload: 201 once durable");
    let id = str_field(&reply.json()["files"][0], "id");
    assert_eq!(reply.header("location"), Some(&*format!("/v1/files/{id}")));
    let file = server.settled(&id).await;
    assert_eq!(file["status"], "ready", "{file}");
    assert_eq!(task(&file, "scan")["state"], "done", "{file}");
    assert_eq!(task(&file, "scan")["result"]["verdict"], "clean", "{file}");
    assert_eq!(task(&file, "inspect")["state"], "done", "{file}");
    assert_eq!(file["properties"]["pages"], 1, "{file}");
    let page = &file["properties"]["page_sizes"][0];
    assert_eq!(
        (page["width_pt"].as_f64(), page["height_pt"].as_f64()),
        (Some(595.0), Some(842.0))
    );
    let (status, size, sha) = server.download_sha256(server.client(), &id).await;
    assert_eq!((status, size), (200, pdf().len() as u64));
    assert_eq!(sha, str_field(&file, "sha256"));

    let infected = server
        .upload_one("default", "eicar.txt", EICAR, "text/plain")
        .await;
    let id = str_field(&infected, "id");
    let file = server.settled(&id).await;
    assert_eq!(file["status"], "infected", "{file}");
    let scan = task(&file, "scan");
    assert_eq!(scan["state"], "failed", "{file}");
    assert!(
        scan["result"].to_string().contains("Eicar"),
        "the signature is named: {scan}"
    );
    server
        .get(&format!("/v1/files/{id}/content"))
        .await
        .expect_problem(409, "file_infected", "infected content");
    server.assert_no_staging_or_orphans().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_projects_answer_the_final_status_with_reasons() {
    let server = Server::start_with(|cfg| {
        cfg.clamd();
    })
    .await;
    server
        .create_project(
            "letters",
            json!({"respond": "sync", "wait_seconds": 30, "default_document_class": "Letter 8.5 x 11"}),
        )
        .await;
    server
        .create_project("any", json!({"respond": "sync", "wait_seconds": 30}))
        .await;

    let ready = server
        .upload("any", &[("a4.pdf", &pdf(), "application/pdf")], &[])
        .await
        .expect_status(201, "sync upload");
    let file = &ready.json()["files"][0];
    assert_eq!(file["status"], "ready", "{file}");
    assert_eq!(file["properties"]["pages"], 1, "{file}");

    // An A4 page is not a US letter.
    let wrong_size = server
        .upload("letters", &[("a4.pdf", &pdf(), "application/pdf")], &[])
        .await
        .expect_status(201, "sync upload, refused by the class");
    let file = &wrong_size.json()["files"][0];
    assert_eq!(file["status"], "rejected", "{file}");
    assert_eq!(file["reason"], "dimensions", "{file}");
    assert_eq!(task(file, "checks")["state"], "failed", "{file}");

    // PDF bytes up front, nothing parseable after.
    let broken = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R\ngarbage".to_vec();
    let unrenderable = server
        .upload("any", &[("broken.pdf", &broken, "application/pdf")], &[])
        .await
        .expect_status(201, "sync upload of a broken PDF");
    let file = &unrenderable.json()["files"][0];
    assert_eq!(file["status"], "rejected", "{file}");
    assert_eq!(file["reason"], "unrenderable", "{file}");
    server
        .get(&format!("/v1/files/{}/content", str_field(file, "id")))
        .await
        .expect_problem(409, "file_not_ready", "a rejected file is not served");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_scanning_never_passes_a_file_unscanned() {
    // Nothing listens on port 9 of loopback.
    let server = Server::start_with(|cfg| {
        cfg.workers("clamd", "\"tcp://127.0.0.1:9\"")
            .workers("clamd_timeout", "\"2s\"")
            .workers("process_attempts", 3)
            .workers("retry_base", "\"100ms\"")
            .workers("retry_cap", "\"200ms\"");
    })
    .await;
    server
        .create_project("strict", json!({"scan": "required"}))
        .await;
    server
        .create_project("lenient", json!({"scan": "optional"}))
        .await;

    let strict = server
        .upload_one("strict", "a.pdf", &pdf(), "application/pdf")
        .await;
    let file = server.settled(&str_field(&strict, "id")).await;
    assert_eq!(file["status"], "failed", "{file}");
    let scan = task(&file, "scan");
    assert_eq!(scan["state"], "failed", "{file}");
    assert!(
        scan["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{file}"
    );
    server
        .get(&format!("/v1/files/{}/content", str_field(&file, "id")))
        .await
        .expect_problem(409, "file_not_ready", "an unscanned file");

    let lenient = server
        .upload_one("lenient", "a.pdf", &pdf(), "application/pdf")
        .await;
    let file = server.settled(&str_field(&lenient, "id")).await;
    assert_eq!(file["status"], "ready", "{file}");
    let scan = task(&file, "scan");
    assert_eq!(scan["state"], "skipped", "{file}");
    assert!(
        scan["error"].as_str().is_some_and(|e| !e.is_empty()),
        "says why: {file}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_survive_a_sigkill_and_finish_after_a_restart() {
    // A "clamd" that takes connections and never answers holds every scan
    // in flight, so the kill lands while jobs run.
    let black_hole = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hole = format!("tcp://{}", black_hole.local_addr().expect("addr"));
    let held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = black_hole.accept().await {
            sockets.push(socket);
        }
    });
    let mut server = Server::start_with(|cfg| {
        cfg.workers("clamd", format!("{hole:?}"))
            .workers("clamd_timeout", "\"10m\"")
            .workers("lease", "\"2s\"")
            .workers("workers", 2);
    })
    .await;
    let mut ids = Vec::new();
    for i in 0..6u64 {
        let data = pseudo_random(100 + i, 200_000);
        let file = server
            .upload_one(
                "default",
                &format!("f{i}.bin"),
                &data,
                "application/octet-stream",
            )
            .await;
        ids.push(str_field(&file, "id"));
    }
    let deadline = Instant::now() + SETTLE;
    loop {
        let mut processing = 0;
        for id in &ids {
            let file = server.get(&format!("/v1/files/{id}")).await.json();
            assert!(
                !FINAL.contains(&file["status"].as_str().unwrap_or_default()),
                "{file}"
            );
            processing += usize::from(file["status"] == "processing");
        }
        if processing == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the workers never took the jobs");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    server.kill();
    held.abort();
    server.reconfigure(|cfg| {
        cfg.clamd().workers("lease", "\"2s\"").workers("workers", 2);
    });
    server.restart().await;
    for id in &ids {
        let file = server.settled(id).await;
        assert_eq!(file["status"], "ready", "{file}");
        assert_eq!(task(&file, "scan")["state"], "done", "scanned: {file}");
        assert_eq!(task(&file, "scan")["result"]["verdict"], "clean", "{file}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_files_are_gone() {
    let server = Server::start_with(|cfg| {
        cfg.workers("retention_interval", "\"200ms\"");
    })
    .await;
    server
        .create_project("short", json!({"retention_seconds": 1}))
        .await;
    let file = server
        .upload_one("short", "a.pdf", &pdf(), "application/pdf")
        .await;
    assert!(file["expires_at"].is_string(), "{file}");
    let id = str_field(&file, "id");
    let deadline = Instant::now() + SETTLE;
    loop {
        let file = server.get(&format!("/v1/files/{id}")).await.json();
        if file["status"] == "expired" {
            break;
        }
        assert!(Instant::now() < deadline, "never expired: {file}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server
        .get(&format!("/v1/files/{id}/content"))
        .await
        .expect_problem(410, "file_expired", "expired content");
    server.assert_no_staging_or_orphans().await;
}

/// One HTTP request as a webhook receiver sees it.
pub struct Received {
    pub head: String,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Accepts one connection, reads one request, answers 204.
pub async fn receive_one(listener: &TcpListener) -> Received {
    let (mut socket, _) = tokio::time::timeout(SETTLE, listener.accept())
        .await
        .expect("a webhook within the time")
        .expect("accept");
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let (head, body_start) = loop {
        let n = socket.read(&mut buf).await.expect("read the request");
        assert!(n > 0, "the connection closed before the headers ended");
        data.extend_from_slice(&buf[..n]);
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break (String::from_utf8_lossy(&data[..end]).into_owned(), end + 4);
        }
    };
    let mut received = Received {
        head,
        body: data[body_start..].to_vec(),
    };
    let length: usize = received
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .expect("a Content-Length");
    while received.body.len() < length {
        let n = socket.read(&mut buf).await.expect("read the body");
        assert!(n > 0, "the connection closed mid-body");
        received.body.extend_from_slice(&buf[..n]);
    }
    socket
        .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        .await
        .expect("answer");
    received
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_and_recorded() {
    let server = Server::start().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let hook = server
        .post(
            "/v1/projects/default/webhooks",
            json!({"url": url, "events": ["file.ready"]}),
        )
        .await
        .expect_status(201, "webhook")
        .json();
    let secret = str_field(&hook, "secret");
    let file = server
        .upload_one("default", "a.pdf", &pdf(), "application/pdf")
        .await;

    let request = receive_one(&listener).await;
    assert!(request.head.starts_with("POST /hook "), "{}", request.head);
    assert_eq!(request.header("intake-event"), Some("file.ready"));
    let signature = request.header("intake-signature").expect("signed");
    let (t, v1) = signature
        .split_once(",v1=")
        .and_then(|(t, v1)| Some((t.strip_prefix("t=")?, v1)))
        .unwrap_or_else(|| panic!("signature format: {signature}"));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(&request.body);
    let expected = hex::encode(ring::hmac::sign(&key, &signed).as_ref());
    assert_eq!(v1, expected, "HMAC-SHA256 of \"<t>.<body>\"");
    let event: Value = serde_json::from_slice(&request.body).expect("JSON body");
    assert_eq!(event["event"], "file.ready");
    assert_eq!(event["data"]["file"]["id"], file["id"]);
    assert_eq!(event["data"]["file"]["status"], "ready");

    let hook_id = str_field(&hook, "id");
    let deadline = Instant::now() + SETTLE;
    loop {
        let deliveries = server
            .get(&format!("/v1/webhooks/{hook_id}/deliveries"))
            .await
            .expect_status(200, "deliveries")
            .json();
        let first = &crate::harness::items(&deliveries)[0];
        if first["state"] == "delivered" {
            assert_eq!(first["event"], "file.ready");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never marked delivered: {deliveries}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
