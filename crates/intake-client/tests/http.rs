//! The client's own behaviour over real HTTP: verified downloads that leave
//! no file behind on failure, problem+json errors, and the shape of upload
//! requests. A bare `TcpListener` answers canned responses and records what
//! it was sent; it holds no server logic, so these tests say nothing about
//! the real server (the black-box suite in the `intake` crate does that).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use intake_client::{FilesCommand, ServerArgs, UploadArgs, files, upload};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One canned answer: raw bytes written after the request was read.
#[derive(Clone)]
struct Route {
    path: &'static str,
    answer: Vec<u8>,
}

/// Requests as received: head and body.
type Log = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

async fn responder(routes: Vec<Route>) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let log: Log = Arc::default();
    let seen = Arc::clone(&log);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (routes, seen) = (routes.clone(), Arc::clone(&seen));
            tokio::spawn(async move {
                let (head, body) = read_request(&mut sock).await;
                let path = head.split(' ').nth(1).unwrap_or_default().to_owned();
                seen.lock().expect("log").push((head, body));
                let answer = routes
                    .iter()
                    .find(|r| r.path == path)
                    .map(|r| r.answer.clone())
                    .unwrap_or_else(|| answer(404, "text/plain", b"no route"));
                let _ = sock.write_all(&answer).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (url, log)
}

async fn read_request(sock: &mut tokio::net::TcpStream) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = sock.read(&mut chunk).await.expect("read");
        assert!(n > 0, "connection closed before the request head ended");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .map_or(0, |v| v.parse::<usize>().expect("length"));
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut chunk).await.expect("read body");
        assert!(n > 0, "body ended early");
        body.extend_from_slice(&chunk[..n]);
    }
    (head, body)
}

fn answer(status: u16, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn file_json(size: usize, sha: &str, original: &str) -> Vec<u8> {
    format!(
        r#"{{"id":"file_1","project_id":"prj_1","folder_id":0,"upload_id":"upl_1","name":"n","original_filename":{original:?},
        "size":{size},"sha256":"{sha}","detected_format":"txt","metadata":{{}},"status":"ready","created_at":"2024-01-01T00:00:00Z"}}"#
    )
    .into_bytes()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Connection flags for the responder, with an empty explicit config file so
/// the developer's own `~/.config/intake/client.toml` cannot interfere.
fn server(url: &str, dir: &Path) -> ServerArgs {
    let config = dir.join("client.toml");
    std::fs::write(&config, "").expect("config");
    ServerArgs {
        url: Some(url.to_owned()),
        key: Some("test-key".into()),
        client_config: Some(config),
    }
}

fn get(url: &str, dir: &Path, output: PathBuf, force: bool) -> FilesCommand {
    FilesCommand::Get {
        id: "file_1".into(),
        output: Some(output),
        force,
        server: server(url, dir),
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn download_routes(meta: Vec<u8>, content: Vec<u8>) -> Vec<Route> {
    vec![
        Route {
            path: "/v1/files/file_1",
            answer: answer(200, "application/json", &meta),
        },
        Route {
            path: "/v1/files/file_1/content",
            answer: content,
        },
    ]
}

#[tokio::test]
async fn verified_download_lands_under_its_sanitised_name() {
    let body = b"hello world".to_vec();
    let routes = download_routes(
        file_json(body.len(), &sha(&body), "../../evil.txt"),
        answer(200, "text/plain", &body),
    );
    let (url, log) = responder(routes).await;
    let (cfg, out) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );

    files(get(&url, cfg.path(), out.path().to_path_buf(), false))
        .await
        .expect("download");
    assert_eq!(entries(out.path()), ["evil.txt"]);
    assert_eq!(
        std::fs::read(out.path().join("evil.txt")).expect("read"),
        body
    );
    let heads = log.lock().expect("log");
    assert!(
        heads
            .iter()
            .all(|(h, _)| h.contains("authorization: Bearer test-key")),
        "{heads:?}"
    );
}

#[tokio::test]
async fn hash_mismatch_leaves_no_file_and_fails() {
    let routes = download_routes(
        file_json(5, &sha(b"hello"), "a.txt"),
        answer(200, "text/plain", b"HELLO"),
    );
    let (url, _) = responder(routes).await;
    let (cfg, out) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );

    let err = files(get(&url, cfg.path(), out.path().join("a.txt"), false))
        .await
        .expect_err("mismatch");
    assert!(format!("{err:#}").contains("SHA-256 mismatch"), "{err:#}");
    assert!(entries(out.path()).is_empty(), "{:?}", entries(out.path()));
}

#[tokio::test]
async fn truncated_download_leaves_no_file_and_fails() {
    // Announces 10 bytes, sends 4, closes.
    let mut short = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n".to_vec();
    short.extend_from_slice(b"0123");
    let routes = download_routes(file_json(10, &sha(b"0123456789"), "a.txt"), short);
    let (url, _) = responder(routes).await;
    let (cfg, out) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );

    files(get(&url, cfg.path(), out.path().join("a.txt"), false))
        .await
        .expect_err("truncated");
    assert!(entries(out.path()).is_empty());
}

#[tokio::test]
async fn existing_files_are_kept_unless_forced() {
    let body = b"new".to_vec();
    let routes = download_routes(
        file_json(3, &sha(&body), "a.txt"),
        answer(200, "text/plain", &body),
    );
    let (url, _) = responder(routes).await;
    let (cfg, out) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let target = out.path().join("a.txt");
    std::fs::write(&target, "old").expect("write");

    let err = files(get(&url, cfg.path(), target.clone(), false))
        .await
        .expect_err("exists");
    assert!(err.to_string().contains("--force"), "{err}");
    assert_eq!(std::fs::read(&target).expect("read"), b"old");

    files(get(&url, cfg.path(), target.clone(), true))
        .await
        .expect("forced");
    assert_eq!(std::fs::read(&target).expect("read"), b"new");
    assert_eq!(entries(out.path()), ["a.txt"]);
}

#[tokio::test]
async fn problems_show_code_detail_and_request_id() {
    let problem = br#"{"type":"about:blank","title":"Not Found","status":404,"detail":"no such file","code":"file_not_found","request_id":"req_42"}"#;
    let routes = vec![Route {
        path: "/v1/files/file_1",
        answer: answer(404, "application/problem+json", problem),
    }];
    let (url, _) = responder(routes).await;
    let cfg = tempfile::tempdir().expect("tmp");

    let cmd = FilesCommand::Info {
        id: "file_1".into(),
        json: false,
        server: server(&url, cfg.path()),
    };
    let err = format!("{:#}", files(cmd).await.expect_err("404"));
    for needle in ["file_not_found", "no such file", "req_42", "404"] {
        assert!(err.contains(needle), "{needle} missing from {err}");
    }
}

#[tokio::test]
async fn uploads_stream_one_request_per_file_and_report_failures_after_the_rest() {
    let answer_json = br#"{"upload_id":"upl_1","files":[{"id":"file_1","name":"a.pdf","size":9,"status":"received"}]}"#;
    let routes = vec![Route {
        path: "/v1/projects/acme/files",
        answer: answer(201, "application/json", answer_json),
    }];
    let (url, log) = responder(routes).await;
    let dir = tempfile::tempdir().expect("tmp");
    let pdf = dir.path().join("a.pdf");
    std::fs::write(&pdf, b"%PDF-1.7\n").expect("write");

    let args = UploadArgs {
        files: vec![pdf, dir.path().join("missing.pdf")],
        project: "acme".into(),
        name: None,
        meta: Some(r#"{"customer": "42"}"#.into()),
        folder: Some(0),
        json: false,
        concurrency: 2,
        server: server(&url, dir.path()),
    };
    let err = upload(args).await.expect_err("one file is missing");
    assert_eq!(err.to_string(), "1 of 2 files failed to upload");

    let log = log.lock().expect("log");
    assert_eq!(log.len(), 1, "only the existing file is sent");
    let (head, body) = &log[0];
    assert!(head.starts_with("POST /v1/projects/acme/files "), "{head}");
    assert!(
        head.contains("content-length:"),
        "the length is announced up front: {head}"
    );
    let body = String::from_utf8_lossy(body);
    let meta = body.find(r#"{"customer":"42"}"#).expect("meta field");
    let folder = body.find("name=\"folder_id\"").expect("folder field");
    let file = body
        .find("name=\"file\"; filename=\"a.pdf\"")
        .expect("file part");
    assert!(
        meta < file && folder < file,
        "text fields precede the file: {body}"
    );
    assert!(
        body.contains("Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"),
        "{body}"
    );
}
