//! Uploads that should succeed: bytes round-trip with equal SHA-256 from
//! 0 B to 1 GiB, several files per request, `name`/`meta`, and the format
//! detected from the bytes rather than the file name.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::fixtures::{Generated, pdf, png, pseudo_random, sha256_hex};
use crate::harness::{Server, client, str_field};

/// Checks the File fields every upload answer must carry.
fn assert_file_shape(file: &Value, filename: &str, data: &[u8]) {
    let id = str_field(file, "id");
    assert!(
        id.starts_with("file_") && id.len() > 20,
        "id {id:?} is not an unguessable file id"
    );
    assert_eq!(
        file["size"].as_u64(),
        Some(data.len() as u64),
        "size in {file}"
    );
    assert_eq!(
        str_field(file, "sha256"),
        sha256_hex(data),
        "sha256 in {file}"
    );
    assert_eq!(
        str_field(file, "original_filename"),
        filename,
        "original_filename in {file}"
    );
    for key in [
        "project_id",
        "upload_id",
        "name",
        "detected_format",
        "status",
        "created_at",
        "updated_at",
    ] {
        assert!(
            file.get(key).is_some_and(|v| !v.is_null()),
            "{key} missing in {file}"
        );
    }
    assert!(file["links"]["self"].is_string(), "links.self in {file}");
    assert!(
        file["links"]["content"].is_string(),
        "links.content in {file}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_files_round_trip_with_equal_sha256() {
    let server = Server::start().await;
    for (i, len) in [0usize, 1, 1 << 20].into_iter().enumerate() {
        let data = pseudo_random(i as u64, len);
        let filename = format!("data-{len}.bin");
        let file = server
            .upload_one("default", &filename, &data, "application/octet-stream")
            .await;
        assert_file_shape(&file, &filename, &data);
        let id = str_field(&file, "id");
        server.settled(&id).await;

        let content = server.get(&format!("/v1/files/{id}/content")).await;
        let content = content.expect_status(200, "download");
        assert_eq!(content.body.len(), len, "downloaded length of {len} B");
        assert_eq!(
            sha256_hex(&content.body),
            sha256_hex(&data),
            "downloaded bytes of {len} B"
        );
        assert_eq!(
            content.header("content-length"),
            Some(len.to_string().as_str())
        );
        let etag = content.header("etag").unwrap_or_default();
        assert_eq!(etag, format!("\"{}\"", sha256_hex(&data)), "ETag");

        let meta = server
            .get(&format!("/v1/files/{id}"))
            .await
            .expect_status(200, "metadata")
            .json();
        assert_eq!(meta["sha256"], file["sha256"]);
        assert_eq!(meta["size"], file["size"]);
    }
    server.assert_no_staging_or_orphans().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1_gib_file_streams_through_with_equal_sha256() {
    const LEN: u64 = 1 << 30;
    let server = Server::start().await;
    let client = client(Some(Duration::from_secs(900)));
    let body = Generated::new(0x1_0000, LEN);

    let started = Instant::now();
    let reply = server
        .upload_stream(&client, "default", "big.bin", &body, LEN)
        .await
        .expect("the 1 GiB upload completes");
    let upload_time = started.elapsed();
    let answer = reply.expect_uploaded("1 GiB upload").json();
    let sent_sha = body.sha256().expect("the whole body was sent");
    let file = &answer["files"][0];
    assert_eq!(file["size"].as_u64(), Some(LEN));
    assert_eq!(
        str_field(file, "sha256"),
        sent_sha,
        "server's sha256 of the 1 GiB file"
    );

    let started = Instant::now();
    let (status, len, sha) = server
        .download_sha256(&client, &str_field(file, "id"))
        .await;
    // VmHWM is the server's peak resident memory: it must not grow with the file.
    let proc_status =
        std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap_or_default();
    let peak = proc_status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: ?");
    eprintln!(
        "1 GiB: upload {upload_time:?}, download {:?} (debug build, hashing on both sides); server {peak}",
        started.elapsed()
    );
    assert_eq!((status, len), (200, LEN));
    assert_eq!(sha, sent_sha, "downloaded 1 GiB differs");
    let staging = crate::harness::files_under(&server.data_dir().join("staging"));
    assert!(staging.is_empty(), "staging after the upload: {staging:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_files_in_one_request_become_separate_files() {
    let server = Server::start().await;
    let (a, b, c) = (pdf(), png(), pseudo_random(7, 3000));
    let files: [(&str, &[u8], &str); 3] = [
        ("letter.pdf", &a, "application/pdf"),
        ("pixel.png", &b, "image/png"),
        ("blob.bin", &c, "application/octet-stream"),
    ];
    let answer = server
        .upload("default", &files, &[])
        .await
        .expect_uploaded("upload")
        .json();
    let got = answer["files"].as_array().expect("files array");
    assert_eq!(got.len(), 3, "three files in {answer}");
    let upload_id = str_field(&answer, "upload_id");
    let mut ids = std::collections::HashSet::new();
    for ((filename, data, _), file) in files.iter().zip(got) {
        assert_file_shape(file, filename, data);
        assert_eq!(str_field(file, "upload_id"), upload_id);
        ids.insert(str_field(file, "id"));
        server.settled(&str_field(file, "id")).await;
        let content = server
            .get(&format!("/v1/files/{}/content", str_field(file, "id")))
            .await;
        assert_eq!(&content.expect_status(200, "download").body[..], *data);
    }
    assert_eq!(ids.len(), 3, "ids must differ");
    assert_eq!(server.file_count("default").await, 3);
    server.assert_no_staging_or_orphans().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_and_meta_are_stored_and_returned() {
    let server = Server::start().await;
    let data = pdf();
    let reply = server
        .upload(
            "default",
            &[("letter.pdf", &data, "application/pdf")],
            &[
                ("name", "Letter to Ms Ünal"),
                ("meta", r#"{"customer":"42","batch":"b-7"}"#),
            ],
        )
        .await;
    let file = reply.expect_uploaded("upload").json()["files"][0].clone();
    let expected_meta = json!({"customer": "42", "batch": "b-7"});
    assert_eq!(str_field(&file, "name"), "Letter to Ms Ünal");
    assert_eq!(file["metadata"], expected_meta);
    assert_eq!(str_field(&file, "declared_content_type"), "application/pdf");

    let stored = server
        .get(&format!("/v1/files/{}", str_field(&file, "id")))
        .await
        .expect_status(200, "get file")
        .json();
    assert_eq!(str_field(&stored, "name"), "Letter to Ms Ünal");
    assert_eq!(str_field(&stored, "original_filename"), "letter.pdf");
    assert_eq!(stored["metadata"], expected_meta);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detected_format_comes_from_the_bytes_not_the_name() {
    let server = Server::start().await;
    let cases: [(&str, Vec<u8>, &str, &str); 3] = [
        ("scan.bin", pdf(), "application/octet-stream", "pdf"),
        ("picture", png(), "application/octet-stream", "png"),
        ("letter.pdf", pdf(), "application/pdf", "pdf"),
    ];
    for (filename, data, content_type, format) in cases {
        let file = server
            .upload_one("default", filename, &data, content_type)
            .await;
        assert_eq!(
            str_field(&file, "detected_format"),
            format,
            "{filename}: {file}"
        );
    }
}
