//! Configured limits (`[limits]` in the config file): parts, files,
//! header bytes, field bytes, file size (413 before the body is read
//! whole), and clients that go quiet or hang up mid-body. Nothing may
//! remain of any of these requests.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use crate::bad_input::{Case, run_cases};
use crate::fixtures::{pdf, pseudo_random};
use crate::harness::{Server, files_under};
use crate::http::Form;
use crate::raw;

const MAX_FILE: usize = 1 << 20;

async fn limited_server() -> Server {
    Server::start_with(|cfg| {
        cfg.limit("max_file_size", MAX_FILE)
            .limit("max_files", 2)
            .limit("max_parts", 4)
            .limit("max_field_bytes", 1024)
            .limit("idle_timeout", "\"2s\"");
    })
    .await
}

fn pdf_part(form: Form) -> Form {
    form.file("file", b"letter.pdf", "application/pdf", &pdf())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_shape_limits_are_enforced() {
    let server = limited_server().await;
    let cases = vec![
        Case::new("three files, two allowed", 400, &["too_many_files"])
            .form(pdf_part(pdf_part(pdf_part(Form::new())))),
        Case::new("five parts, four allowed", 400, &["too_many_parts"]).form(
            pdf_part(pdf_part(Form::new()))
                .field("name", "n")
                .field("meta", "{}")
                .field("folder_id", "0"),
        ),
        Case::new("field over 1 KiB", 413, &["field_too_large"])
            .form(pdf_part(Form::new()).field("name", &"n".repeat(2000))),
        Case::new("file one byte over 1 MiB", 413, &["payload_too_large"]).form(Form::new().file(
            "file",
            b"big.bin",
            "application/octet-stream",
            &pseudo_random(1, MAX_FILE + 1),
        )),
    ];
    run_cases(&server, cases).await;

    // The limit itself is allowed.
    let data = pseudo_random(2, MAX_FILE);
    server
        .upload_one("default", "exact.bin", &data, "application/octet-stream")
        .await;
}

/// The header limit bounds a part's headers, not the file bytes that
/// arrive in the same read as them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part_header_limit_counts_header_bytes_only() {
    let server = Server::start_with(|cfg| {
        cfg.limit("max_part_header_bytes", 1024);
    })
    .await;
    let padding = format!(
        "Content-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\nX-Padding: {}",
        "p".repeat(2000)
    );
    let cases = vec![
        Case::new("part headers over 1 KiB", 400, &["part_headers_too_large"])
            .form(Form::new().part(padding.as_bytes(), &pdf())),
    ];
    run_cases(&server, cases).await;

    // Ordinary parts whose bytes far exceed the header limit are fine.
    let (a, b) = (pseudo_random(8, 100_000), pseudo_random(9, 5_000));
    let reply = server
        .upload(
            "default",
            &[
                ("a.bin", &a, "application/octet-stream"),
                ("b.bin", &b, "application/octet-stream"),
            ],
            &[("name", "two parts")],
        )
        .await;
    reply.expect_uploaded("a 100 KB upload under a 1 KiB header limit");
}

/// Multipart framing around one file part: (before the bytes, after, Content-Type).
fn framing() -> (Vec<u8>, Vec<u8>, String) {
    let boundary = "early-413-boundary";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"huge.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    (
        head.into_bytes(),
        tail.into_bytes(),
        format!("multipart/form-data; boundary={boundary}"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_upload_is_answered_413_before_the_body_is_sent() {
    const BODY: u64 = 50 << 20;
    let server = limited_server().await;
    let (head, tail, content_type) = framing();
    let total = head.len() as u64 + BODY + tail.len() as u64;
    let request_head = raw::upload_head(
        &server.addr(),
        "/v1/projects/default/files",
        server.admin_key(),
        &content_type,
        total,
    );
    let (mut reader, mut writer) = raw::connect(&server.addr()).await.into_split();
    let sent = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&sent);
    let writing = tokio::spawn(async move {
        writer.write_all(&request_head).await?;
        writer.write_all(&head).await?;
        let chunk = pseudo_random(3, 64 << 10);
        let mut left = BODY;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            writer.write_all(&chunk[..n]).await?;
            left -= n as u64;
            counter.fetch_add(n as u64, Ordering::SeqCst);
            // About 30 MiB/s: slow enough that a server reading everything
            // before answering is caught, fast enough to keep the test short.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        writer.write_all(&tail).await?;
        Ok::<_, std::io::Error>(writer)
    });
    let reply = raw::read_reply(&mut reader, Duration::from_secs(60)).await;
    let sent_when_answered = sent.load(Ordering::SeqCst);
    writing.abort();
    let reply = reply
        .expect("a response")
        .expect("a response before the connection closed");
    assert_eq!(reply.status, 413, "{}", reply.describe());
    assert_eq!(
        reply.code().as_deref(),
        Some("payload_too_large"),
        "{}",
        reply.describe()
    );
    assert!(
        sent_when_answered < BODY,
        "the 413 came only after the whole {BODY}-byte body was sent"
    );
    eprintln!(
        "413 arrived after {} KiB of {} KiB",
        sent_when_answered >> 10,
        BODY >> 10
    );
    assert_eq!(server.file_count("default").await, 0);
    server.assert_no_staging_or_orphans().await;
}

/// Sends the head and `first` bytes of a file whose declared length is
/// far larger, and returns the connection still open.
async fn start_partial_upload(server: &Server, first: usize) -> tokio::net::TcpStream {
    const DECLARED: u64 = 10 << 20;
    let (head, tail, content_type) = framing();
    let total = head.len() as u64 + DECLARED + tail.len() as u64;
    let mut stream = raw::connect(&server.addr()).await;
    let request_head = raw::upload_head(
        &server.addr(),
        "/v1/projects/default/files",
        server.admin_key(),
        &content_type,
        total,
    );
    stream.write_all(&request_head).await.expect("send head");
    stream.write_all(&head).await.expect("send part head");
    stream
        .write_all(&pseudo_random(4, first))
        .await
        .expect("send the first bytes");
    stream.flush().await.expect("flush");
    stream
}

/// Waits (bounded) for a staging file to appear, so the test knows the
/// server is mid-upload; returns whether one did.
async fn staging_appears(server: &Server) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if !files_under(&server.data_dir().join("staging")).is_empty() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_sending_is_cut_off_and_cleaned_up() {
    let server = limited_server().await;
    let mut stream = start_partial_upload(&server, 100 << 10).await;
    let mid_upload = staging_appears(&server).await;
    let started = Instant::now();
    let reply = raw::read_reply(&mut stream, Duration::from_secs(30))
        .await
        .expect("the server cuts the idle client off within 30 s (idle_timeout is 2 s)");
    let waited = started.elapsed();
    if let Some(reply) = &reply {
        assert_eq!(reply.status, 408, "{}", reply.describe());
        assert_eq!(
            reply.code().as_deref(),
            Some("request_timeout"),
            "{}",
            reply.describe()
        );
    }
    assert!(
        waited < Duration::from_secs(15),
        "cut off only after {waited:?}"
    );
    eprintln!(
        "idle client cut off after {waited:?} (staging seen: {mid_upload}, answer: {reply:?})"
    );
    assert_eq!(server.file_count("default").await, 0);
    server.assert_no_staging_or_orphans().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_mid_body_leaves_nothing() {
    let server = limited_server().await;
    let stream = start_partial_upload(&server, 512 << 10).await;
    staging_appears(&server).await;
    drop(stream);
    assert_eq!(server.file_count("default").await, 0);
    server.assert_no_staging_or_orphans().await;
    // The server is still healthy afterwards.
    server
        .get("/healthz")
        .await
        .expect_status(200, "healthz after a hang-up");
}
