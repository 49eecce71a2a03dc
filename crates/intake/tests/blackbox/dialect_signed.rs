//! 002, signed direct upload, driven by the seed's Python sample with the
//! vendor's client library (`closeio`, its `Client` pointed at the server)
//! and `requests` (`tests/clients/signed_closeio.py`): `files/upload`
//! answers `upload.url`, `upload.fields` and `download.url`; the download
//! URL fails clearly before the upload; the multipart POST of the fields
//! plus `file` answers 201 within the window and is refused after it; the
//! download URL then serves the bytes, for 24 hours (a project's shorter
//! window is shown to end). Then the API's own error rows: missing fields
//! (400 field errors, the library's `ValidationError`) and bad credentials
//! (401).

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::dialect_mailing::clients_dir;
use crate::fixtures::sha256_hex;
use crate::harness::{Server, run_json};
use crate::signed_uploads::xml_element;

/// A small real JPEG (JFIF, 800 × 600 in its header), as the seed's
/// `image.jpg`.
fn jpeg() -> Vec<u8> {
    let mut out = vec![0xff, 0xd8];
    // APP0 JFIF 1.1, 72 dpi.
    out.extend_from_slice(&[0xff, 0xe0, 0, 16]);
    out.extend_from_slice(b"JFIF\0");
    out.extend_from_slice(&[1, 1, 1, 0, 72, 0, 72, 0, 0]);
    // SOF0: precision 8, height 600, width 800, 3 components.
    out.extend_from_slice(&[0xff, 0xc0, 0, 17, 8, 0x02, 0x58, 0x03, 0x20, 3]);
    out.extend_from_slice(&[1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    out.extend_from_slice(&[0xff, 0xda, 0, 2, 0xff, 0xd9]);
    out
}

/// Runs the seed's sample; returns what it printed (one JSON object).
async fn closeio(server: &Server, key: &str, file: &Path, options: &[&str]) -> Value {
    let mut cmd = Command::new("python3");
    cmd.arg(clients_dir().join("signed_closeio.py"))
        .arg(server.base_url())
        .arg(key)
        .arg(file)
        .args(options);
    run_json(
        cmd,
        "the 002 sample failed (is `pip install closeio` done? see scripts/ci-install.sh)",
    )
    .await
}

/// A tenant with a key for the dialect; returns the key.
async fn set_up(server: &Server) -> String {
    // Through the API, so the orphan check counts the tenant's files.
    server.create_tenant("close").await;
    server
        .admin(&["key", "create", "--tenant", "close"])
        .await
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_sample_uploads_and_downloads_within_the_windows() {
    let server = Server::start().await;
    let key = set_up(&server).await;
    let image = jpeg();
    let path = server.temp_dir().join("image.jpg");
    std::fs::write(&path, &image).expect("write");

    let answer = closeio(&server, &key, &path, &[]).await;
    // files/upload: the form and the download URL.
    let upload = &answer["upload"];
    assert_eq!(upload["url"], server.url("/s3/default"), "{answer}");
    for field in [
        "key",
        "Content-Type",
        "policy",
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-signature",
        "success_action_status",
    ] {
        assert!(upload["fields"][field].is_string(), "{field}: {answer}");
    }
    assert_eq!(upload["fields"]["Content-Type"], "image/jpeg");
    assert_eq!(upload["fields"]["success_action_status"], "201");
    let key_field = upload["fields"]["key"].as_str().unwrap_or_default();
    assert!(key_field.ends_with("/image.jpg"), "{key_field}");
    let download = answer["download"]["url"].as_str().unwrap_or_default();
    assert!(
        download.contains("X-Amz-Expires=86400"),
        "24 hours: {download}"
    );

    // Before the upload: a clear failure.
    assert_eq!(answer["before"], 404, "{answer}");
    let before = answer["before_body"].as_str().unwrap_or_default();
    assert_eq!(xml_element(before, "Code").as_deref(), Some("NoSuchKey"));
    assert!(before.contains("not been uploaded yet"), "{before}");

    // The S3 POST: 201, as the sample asserts.
    assert_eq!(answer["s3_status"], 201, "{answer}");
    let body = answer["s3_body"].as_str().unwrap_or_default();
    assert_eq!(xml_element(body, "Key").as_deref(), Some(key_field));
    // Then the download URL serves the bytes.
    assert_eq!(answer["after"], 200, "{answer}");
    assert_eq!(answer["after_sha256"], sha256_hex(&image).as_str());

    // The file is the tenant's, in the dialect's project, and processed.
    let location = xml_element(body, "Location").expect("Location");
    let id = location.rsplit('/').next().expect("an id");
    // (The download answered once processing was over.)
    let file = server
        .call(
            &crate::http::Auth::bearer(&key),
            reqwest::Method::GET,
            &format!("/v1/files/{id}"),
            None,
        )
        .await
        .expect_status(200, "the file, as its tenant")
        .json();
    assert_eq!(file["status"], "ready", "{file}");
    assert_eq!(file["name"], "image.jpg");
    assert_eq!(file["detected_format"], "jpeg");
    server.assert_no_staging_or_orphans().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_is_refused_after_the_window_and_the_download_url_expires() {
    let server = Server::start_with(|cfg| {
        cfg.sections("[signed]\nupload_window = \"2s\"\n");
    })
    .await;
    let key = set_up(&server).await;
    let path = server.temp_dir().join("image.jpg");
    std::fs::write(&path, jpeg()).expect("write");

    // Posted after the window: refused, nothing stored, never downloadable.
    let answer = closeio(&server, &key, &path, &["--sleep", "3"]).await;
    assert_eq!(answer["s3_status"], 403, "{answer}");
    let body = answer["s3_body"].as_str().unwrap_or_default();
    assert_eq!(xml_element(body, "Code").as_deref(), Some("AccessDenied"));
    assert!(body.contains("Policy expired"), "{body}");
    let download = answer["download"]["url"].as_str().unwrap_or_default();
    let reply = crate::http::Reply::from(server.client().get(download)).await;
    assert_eq!(reply.status, 404, "{}", reply.text());
    server.assert_no_staging_or_orphans().await;

    // A project whose download URLs last 2 seconds: served, then 403.
    server
        .admin(&[
            "project",
            "set-policy",
            "default",
            "--tenant",
            "close",
            "--policy",
            r#"{"download_url_seconds":2}"#,
        ])
        .await;
    let answer = closeio(&server, &key, &path, &[]).await;
    assert_eq!(answer["s3_status"], 201, "{answer}");
    assert_eq!(answer["after"], 200, "{answer}");
    let download = answer["download"]["url"].as_str().unwrap_or_default();
    assert!(download.contains("X-Amz-Expires=2&"), "{download}");
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let reply = crate::http::Reply::from(server.client().get(download)).await;
    assert_eq!(reply.status, 403, "{}", reply.text());
    assert_eq!(
        xml_element(&reply.text(), "Code").as_deref(),
        Some("AccessDenied")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_and_credentials_are_refused_in_the_vendors_shape() {
    let server = Server::start().await;
    let key = set_up(&server).await;
    let path = server.temp_dir().join("image.jpg");
    std::fs::write(&path, jpeg()).expect("write");

    // Missing fields: 400 with field errors (the library's ValidationError).
    for field in ["filename", "content_type"] {
        let answer = closeio(&server, &key, &path, &["--omit", field]).await;
        assert_eq!(answer["error_status"], 400, "{answer}");
        assert!(
            answer["error_body"]["field-errors"][field].is_string(),
            "{answer}"
        );
    }
    // A file name with a path.
    let answer = closeio(&server, &key, &path, &["--filename", "../image.jpg"]).await;
    assert_eq!(answer["error_status"], 400, "{answer}");
    assert!(
        answer["error_body"]["field-errors"]["filename"].is_string(),
        "{answer}"
    );
    // An unknown key: 401.
    let answer = closeio(&server, "ik_notakey", &path, &[]).await;
    assert_eq!(answer["error_status"], 401, "{answer}");
    assert!(answer["error_body"]["error"].is_string(), "{answer}");

    // Both paths (with and without the trailing slash) answer; a body that
    // is not JSON is a 400; a key without files:write is refused.
    for path in ["/api/v1/files/upload", "/api/v1/files/upload/"] {
        let reply = server
            .client()
            .post(server.url(path))
            .basic_auth(&key, Some(""))
            .json(&json!({"filename": "a.pdf", "content_type": "application/pdf"}))
            .send()
            .await
            .expect("request");
        assert_eq!(reply.status(), 200, "{path}");
    }
    let reply = server
        .client()
        .post(server.url("/api/v1/files/upload"))
        .basic_auth(&key, Some(""))
        .body("not json")
        .send()
        .await
        .expect("request");
    assert_eq!(reply.status(), 400);
    let reader = server
        .admin(&[
            "key",
            "create",
            "--tenant",
            "close",
            "--scopes",
            "files:read",
        ])
        .await;
    let answer = closeio(&server, reader.trim(), &path, &[]).await;
    assert_eq!(answer["error_status"], 403, "{answer}");
    assert_eq!(server.file_count("default").await, 0);
}
