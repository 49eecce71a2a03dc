//! Project policies: the three duplicate modes (and bytes stored once per
//! tenant), allowed formats, and per-project size and count limits below
//! the server's.

use serde_json::{Value, json};

use crate::bad_input::{Case, run_cases};
use crate::fixtures::{pdf, png, pseudo_random};
use crate::harness::{Server, files_under, str_field};
use crate::http::Form;

fn blob_count(server: &Server) -> usize {
    files_under(&server.data_dir().join("blobs")).len()
}

async fn upload_pdf(server: &Server, project: &str, filename: &str) -> crate::http::Reply {
    let data = pdf();
    server
        .upload(project, &[(filename, &data, "application/pdf")], &[])
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_allowed_get_new_ids_but_one_blob() {
    let server = Server::start().await;
    server
        .create_project("allow", json!({"duplicates": "allow"}))
        .await;
    let first = upload_pdf(&server, "allow", "a.pdf")
        .await
        .expect_uploaded("first")
        .json();
    let second = upload_pdf(&server, "allow", "b.pdf")
        .await
        .expect_uploaded("second")
        .json();
    let (a, b) = (&first["files"][0], &second["files"][0]);
    assert_ne!(a["id"], b["id"], "allow: two files");
    assert_eq!(a["sha256"], b["sha256"]);
    assert_eq!(server.file_count("allow").await, 2);
    assert_eq!(blob_count(&server), 1, "identical bytes are stored once");

    // Still once per tenant when another project of the tenant has them too.
    upload_pdf(&server, "default", "c.pdf")
        .await
        .expect_uploaded("third");
    assert_eq!(
        blob_count(&server),
        1,
        "identical bytes are stored once per tenant"
    );
    server.assert_no_staging_or_orphans().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_rejected_get_409_naming_the_existing_file() {
    let server = Server::start().await;
    server
        .create_project("reject", json!({"duplicates": "reject"}))
        .await;
    let first = upload_pdf(&server, "reject", "a.pdf")
        .await
        .expect_uploaded("first")
        .json();
    let id = str_field(&first["files"][0], "id");
    let reply = upload_pdf(&server, "reject", "again.pdf").await;
    reply.expect_problem(409, "duplicate", "second upload of the same bytes");
    let existing: Value = reply.json()["existing_file"].clone();
    let existing_id = existing
        .as_str()
        .map(str::to_owned)
        .or_else(|| existing["id"].as_str().map(str::to_owned));
    assert_eq!(
        existing_id.as_deref(),
        Some(id.as_str()),
        "existing_file in {}",
        reply.text()
    );
    assert_eq!(server.file_count("reject").await, 1);

    // Other bytes are fine, and so are the same bytes in another project.
    let other = pseudo_random(5, 100);
    server
        .upload_one("reject", "other.bin", &other, "application/octet-stream")
        .await;
    upload_pdf(&server, "default", "a.pdf")
        .await
        .expect_uploaded("same bytes elsewhere");
    server.assert_no_staging_or_orphans().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_reused_answer_the_existing_file() {
    let server = Server::start().await;
    server
        .create_project("reuse", json!({"duplicates": "reuse"}))
        .await;
    let first = upload_pdf(&server, "reuse", "a.pdf")
        .await
        .expect_uploaded("first")
        .json();
    let reply = upload_pdf(&server, "reuse", "again.pdf").await;
    assert!(
        matches!(reply.status, 200..=202),
        "reuse answered {} {}",
        reply.status,
        reply.text()
    );
    let second = reply.json();
    assert_eq!(
        second["files"][0]["id"], first["files"][0]["id"],
        "reuse: the same id"
    );
    assert_eq!(server.file_count("reuse").await, 1);
    assert_eq!(blob_count(&server), 1);
    server.assert_no_staging_or_orphans().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_policy_limits_formats_sizes_and_counts() {
    let server = Server::start().await;
    let project = server
        .create_project(
            "strict",
            json!({"allowed_formats": ["pdf"], "max_file_size": 4096, "max_files_per_request": 1}),
        )
        .await;
    assert_eq!(
        project["policy"]["allowed_formats"],
        json!(["pdf"]),
        "policy echoed: {project}"
    );
    let path = "/v1/projects/strict/files";
    let cases = vec![
        Case::new(
            "PNG where only PDF is allowed",
            415,
            &["format_not_allowed"],
        )
        .path(path)
        .form(Form::new().file("file", b"p.png", "image/png", &png())),
        Case::new("file over the project's 4 KiB", 413, &["payload_too_large"])
            .path(path)
            .form(Form::new().file(
                "file",
                b"big.pdf",
                "application/pdf",
                &[pdf(), pseudo_random(6, 5000)].concat(),
            )),
        Case::new("two files, one allowed", 400, &["too_many_files"])
            .path(path)
            .form(
                Form::new()
                    .file("file", b"a.pdf", "application/pdf", &pdf())
                    .file("file", b"b.pdf", "application/pdf", &pdf()),
            ),
    ];
    run_cases(&server, cases).await;
    assert_eq!(server.file_count("strict").await, 0);
    upload_pdf(&server, "strict", "ok.pdf")
        .await
        .expect_uploaded("an allowed PDF");

    // Loosening the policy takes effect for the next upload.
    let reply = server
        .call(
            &server.admin_auth(),
            reqwest::Method::PATCH,
            "/v1/projects/strict",
            Some(&json!({"policy": {"allowed_formats": ["pdf", "png"]}})),
        )
        .await;
    reply.expect_status(200, "patch policy");
    server
        .upload_one("strict", "p.png", &png(), "image/png")
        .await;

    let reply = server
        .post(
            "/v1/projects",
            json!({"slug": "bad", "policy": {"duplicates": "sometimes"}}),
        )
        .await;
    if let Err(e) = reply.check_problem(400, &["invalid_policy", "invalid_body"]) {
        panic!("unknown duplicate mode: {e}");
    }
}
