//! Reading files back: byte ranges, ETag revalidation, a safe
//! Content-Disposition, deletion, and listing with cursors and filters.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::fixtures::{pseudo_random, sha256_hex};
use crate::harness::{Server, str_field};
use crate::http::{Reply, encode};

async fn get_with(server: &Server, path: &str, header: (&str, &str)) -> Reply {
    let request = server
        .request(&server.admin_auth(), Method::GET, path)
        .header(header.0, header.1);
    Reply::from(request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_requests_return_exactly_the_asked_bytes() {
    let server = Server::start().await;
    let data = pseudo_random(11, 1000);
    let file = server
        .upload_one("default", "r.bin", &data, "application/octet-stream")
        .await;
    server.settled(&str_field(&file, "id")).await;
    let path = format!("/v1/files/{}/content", str_field(&file, "id"));

    let full = server.get(&path).await.expect_status(200, "full read");
    assert_eq!(full.header("accept-ranges"), Some("bytes"));

    for (range, from, to) in [
        ("bytes=0-9", 0, 9),
        ("bytes=500-599", 500, 599),
        ("bytes=-10", 990, 999),
        ("bytes=900-", 900, 999),
        ("bytes=995-5000", 995, 999),
    ] {
        let reply = get_with(&server, &path, ("range", range)).await;
        let reply = reply.expect_status(206, range);
        assert_eq!(&reply.body[..], &data[from..=to], "{range}");
        assert_eq!(
            reply.header("content-range"),
            Some(format!("bytes {from}-{to}/1000").as_str()),
            "{range}"
        );
        assert_eq!(
            reply.header("content-length"),
            Some((to - from + 1).to_string().as_str())
        );
    }

    for range in ["bytes=1000-", "bytes=5000-6000"] {
        let reply = get_with(&server, &path, ("range", range)).await;
        reply.expect_problem(416, "invalid_range", range);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etag_revalidation_answers_304() {
    let server = Server::start().await;
    let data = pseudo_random(12, 100);
    let file = server
        .upload_one("default", "e.bin", &data, "application/octet-stream")
        .await;
    server.settled(&str_field(&file, "id")).await;
    let path = format!("/v1/files/{}/content", str_field(&file, "id"));
    let etag = format!("\"{}\"", sha256_hex(&data));

    let reply = get_with(&server, &path, ("if-none-match", &etag)).await;
    assert_eq!(reply.status, 304, "matching ETag: {}", reply.text());
    assert!(reply.body.is_empty(), "304 carries no body");
    let reply = get_with(&server, &path, ("if-none-match", "\"something-else\"")).await;
    assert_eq!(&reply.expect_status(200, "other ETag").body[..], &data[..]);
}

/// Splits `attachment; filename="…"; filename*=UTF-8''…` and checks that the
/// quoted form cannot be broken out of; returns the decoded `filename*`.
fn parse_disposition(value: &str) -> String {
    assert!(
        value.is_ascii() && !value.contains(['\r', '\n']),
        "not plain ASCII: {value:?}"
    );
    assert!(value.starts_with("attachment"), "{value:?}");
    let quoted = value
        .split_once("filename=\"")
        .expect("a quoted filename")
        .1;
    let mut escaped = false;
    let mut end = None;
    for (i, c) in quoted.char_indices() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '"') => {
                end = Some(i);
                break;
            }
            _ => {}
        }
    }
    let rest = &quoted[end.expect("the quoted filename ends") + 1..];
    assert!(
        rest.trim_start().is_empty() || rest.trim_start().starts_with(';'),
        "junk after the quoted name: {value:?}"
    );
    let star = value
        .split_once("filename*=UTF-8''")
        .expect("an RFC 8187 filename*")
        .1;
    let star = star.split(';').next().unwrap_or_default().trim();
    assert!(
        !star.contains(['"', ' ', '\\']),
        "filename* must be percent-encoded: {star:?}"
    );
    percent_decode(star)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
            out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("filename* decodes to UTF-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_disposition_is_safe_for_quotes_and_unicode() {
    let server = Server::start().await;
    let data = pseudo_random(13, 10);
    for (filename, name) in [
        ("résumé ü.bin", None),
        ("plain.bin", Some(r#"Report "final"; v2 ü"#)),
        ("x.bin", Some("semi;colon\\back")),
    ] {
        let fields: Vec<(&str, &str)> = name.map(|n| ("name", n)).into_iter().collect();
        let reply = server
            .upload(
                "default",
                &[(filename, &data, "application/octet-stream")],
                &fields,
            )
            .await;
        let file = reply.expect_uploaded("upload").json()["files"][0].clone();
        server.settled(&str_field(&file, "id")).await;
        let content = server
            .get(&format!("/v1/files/{}/content", str_field(&file, "id")))
            .await
            .expect_status(200, "download");
        let disposition = content
            .header("content-disposition")
            .expect("Content-Disposition");
        let decoded = parse_disposition(disposition);
        let candidates = [
            str_field(&file, "name"),
            str_field(&file, "original_filename"),
        ];
        assert!(
            candidates.contains(&decoded),
            "filename* {decoded:?} is neither of {candidates:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_files_are_gone_with_their_blob() {
    let server = Server::start().await;
    let kept = server
        .upload_one(
            "default",
            "kept.bin",
            &pseudo_random(14, 100),
            "application/octet-stream",
        )
        .await;
    let doomed = server
        .upload_one(
            "default",
            "doomed.bin",
            &pseudo_random(15, 100),
            "application/octet-stream",
        )
        .await;
    let id = str_field(&doomed, "id");
    let reply = server
        .call(
            &server.admin_auth(),
            Method::DELETE,
            &format!("/v1/files/{id}"),
            None,
        )
        .await;
    reply.expect_status(204, "delete");
    server.get(&format!("/v1/files/{id}")).await.expect_problem(
        404,
        "file_not_found",
        "metadata after delete",
    );
    server
        .get(&format!("/v1/files/{id}/content"))
        .await
        .expect_problem(404, "file_not_found", "content after delete");
    let reply = server
        .call(
            &server.admin_auth(),
            Method::DELETE,
            &format!("/v1/files/{id}"),
            None,
        )
        .await;
    reply.expect_problem(404, "file_not_found", "second delete");
    server
        .get(&format!("/v1/files/{}", str_field(&kept, "id")))
        .await
        .expect_status(200, "the other file");
    server.assert_no_staging_or_orphans().await;
}

fn ids(files: &[Value]) -> Vec<String> {
    files.iter().map(|f| str_field(f, "id")).collect()
}

async fn list(server: &Server, query: &str) -> Vec<String> {
    let page = server
        .get(&format!("/v1/projects/default/files?{query}"))
        .await
        .expect_status(200, query)
        .json();
    ids(page["files"].as_array().expect("files"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_pages_with_cursors_and_filters() {
    let server = Server::start().await;
    let mut early = Vec::new();
    let mut late = Vec::new();
    for i in 0..7 {
        if i == 3 {
            // Timestamps may have one-second precision: keep the batches apart.
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
        let prefix = if i < 3 { "alpha" } else { "beta" };
        let name = format!("{prefix}-{i}");
        let data = pseudo_random(100 + i, 64);
        let reply = server
            .upload(
                "default",
                &[(&format!("{name}.bin"), &data, "application/octet-stream")],
                &[("name", &name)],
            )
            .await;
        let file = reply.expect_uploaded("upload").json()["files"][0].clone();
        if i < 3 { &mut early } else { &mut late }.push(file);
    }

    // Pages of three, following next_cursor to the end.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for page_no in 0.. {
        assert!(page_no < 5, "more pages than 7 files need");
        let mut path = "/v1/projects/default/files?limit=3".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", encode(c)));
        }
        let page = server.get(&path).await.expect_status(200, "page").json();
        let files = page["files"].as_array().expect("files");
        assert!(files.len() <= 3, "page {page_no} has {} files", files.len());
        seen.extend(ids(files));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let mut all: Vec<String> = ids(&early).into_iter().chain(ids(&late)).collect();
    assert_eq!(seen.len(), 7, "every file once: {seen:?}");
    seen.sort();
    all.sort();
    assert_eq!(seen, all);

    let mut alpha = list(&server, "name_prefix=alpha").await;
    alpha.sort();
    let mut expected = ids(&early);
    expected.sort();
    assert_eq!(alpha, expected, "name_prefix=alpha");
    assert_eq!(list(&server, "name_prefix=gamma").await.len(), 0);

    // A cut between the two batches, from the server's own timestamps.
    let last_early = early.iter().map(created).max().expect("early");
    let first_late = late.iter().map(created).min().expect("late");
    assert!(last_early < first_late, "batches overlap in time");
    let cut = last_early + (first_late - last_early) / 2;
    let cut = encode(&cut.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    let mut after = list(&server, &format!("created_after={cut}")).await;
    let mut before = list(&server, &format!("created_before={cut}")).await;
    after.sort();
    before.sort();
    let (mut want_after, mut want_before) = (ids(&late), ids(&early));
    want_after.sort();
    want_before.sort();
    assert_eq!(after, want_after, "created_after");
    assert_eq!(before, want_before, "created_before");

    // Status: every listed file has the asked status; nothing is infected.
    let status = str_field(&early[0], "status");
    let page = server
        .get(&format!("/v1/projects/default/files?status={status}"))
        .await
        .expect_status(200, "status filter")
        .json();
    for file in page["files"].as_array().expect("files") {
        assert_eq!(str_field(file, "status"), status);
    }
    assert_eq!(list(&server, "status=infected").await.len(), 0);
    server
        .get("/v1/projects/default/files?status=bogus")
        .await
        .expect_problem(400, "invalid_query", "unknown status");
}

fn created(file: &Value) -> chrono::DateTime<chrono::Utc> {
    let text = str_field(file, "created_at");
    chrono::DateTime::parse_from_rfc3339(&text)
        .unwrap_or_else(|e| panic!("created_at {text:?}: {e}"))
        .with_timezone(&chrono::Utc)
}
