//! Signed direct uploads on the local store: upload intents
//! (`POST /v1/projects/{p}/upload-intents`), intake's S3 POST endpoint
//! (`/s3/{bucket}`) with forms made by boto3's `generate_presigned_post`
//! (`tests/clients/s3_presigned_post.py`, SigV4 and boto3's default SigV2)
//! and by intents, the presigned download URLs, and every refusal: each
//! answers S3's status and `<Error><Code>`, and leaves nothing stored.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::dialect_mailing::clients_dir;
use crate::fixtures::{pdf, png, sha256_hex};
use crate::harness::{Server, run_json, str_field};
use crate::http::{Auth, Form, Reply};

/// `<Name>…</Name>` in an S3 XML body.
pub fn xml_element(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(
        xml[start..end]
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// Asserts an S3 error answer: the status and `<Error><Code>`.
#[track_caller]
pub fn expect_s3_error(reply: &Reply, status: u16, code: &str, what: &str) {
    let body = reply.text();
    assert_eq!(reply.status, status, "{what}: {body}");
    assert_eq!(
        reply.header("content-type"),
        Some("application/xml"),
        "{what}: {body}"
    );
    assert_eq!(
        xml_element(&body, "Code").as_deref(),
        Some(code),
        "{what}: {body}"
    );
    assert!(xml_element(&body, "Message").is_some(), "{what}: {body}");
}

/// An API key with an S3 credential, made by `intake admin key create --s3`:
/// (token, access key id, secret).
async fn s3_key(server: &Server, tenant: &str) -> (String, String, String) {
    let out = server
        .admin(&["key", "create", "--tenant", tenant, "--s3"])
        .await;
    let lines: Vec<&str> = out.lines().collect();
    let [token, access, secret] = lines.as_slice() else {
        panic!("expected token, access key id and secret: {out:?}");
    };
    assert!(access.starts_with("IKAK") && access.len() == 20, "{access}");
    assert_eq!(secret.len(), 40);
    ((*token).into(), (*access).into(), (*secret).into())
}

/// Runs the boto3 client; returns its JSON.
async fn boto3(
    server: &Server,
    access: &str,
    secret: &str,
    bucket: &str,
    key: &str,
    options: &[&str],
) -> Value {
    let mut cmd = Command::new("python3");
    cmd.arg(clients_dir().join("s3_presigned_post.py"))
        .arg(server.url("/s3"))
        .args([access, secret, bucket, key])
        .args(options);
    run_json(
        cmd,
        "the boto3 client failed (is boto3 installed? see scripts/ci-install.sh)",
    )
    .await
}

/// The form's fields in order.
fn fields(form: &Value) -> Vec<(String, String)> {
    form["fields"]
        .as_object()
        .expect("fields")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("a string field").to_owned()))
        .collect()
}

/// POSTs `fields` and then the file part to `url` (absolute).
async fn post_form(
    server: &Server,
    url: &str,
    fields: &[(String, String)],
    file: Option<(&str, &[u8], &str)>,
) -> Reply {
    let mut form = Form::new();
    for (name, value) in fields {
        form = form.field(name, value);
    }
    if let Some((filename, data, content_type)) = file {
        form = form.file("file", filename.as_bytes(), content_type, data);
    }
    let content_type = form.content_type();
    Reply::from(
        server
            .client()
            .post(url)
            .header("content-type", content_type)
            .body(form.finish()),
    )
    .await
}

fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    match fields
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        Some(field) => field.1 = value.to_owned(),
        None => fields.push((name.to_owned(), value.to_owned())),
    }
}

fn without(fields: &[(String, String)], name: &str) -> Vec<(String, String)> {
    fields
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
        .cloned()
        .collect()
}

/// Creates an intent as `auth` in `project`.
async fn intent(server: &Server, auth: &Auth, project: &str, body: Value) -> Value {
    server
        .call(
            auth,
            reqwest::Method::POST,
            &format!("/v1/projects/{project}/upload-intents"),
            Some(&body),
        )
        .await
        .expect_status(201, "create an upload intent")
        .json()
}

async fn get(server: &Server, url: &str) -> Reply {
    Reply::from(server.client().get(url)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_forms_are_accepted_and_the_file_is_processed() {
    let server = Server::start().await;
    let (token, access, secret) = s3_key(&server, "default").await;
    let dir = server.temp_dir();
    let letter = pdf();
    let path = dir.join("letter.pdf");
    std::fs::write(&path, &letter).expect("write");
    let path = path.display().to_string();

    // SigV4 (signature_version="s3v4"), 201 with S3's XML body.
    let answer = boto3(
        &server,
        &access,
        &secret,
        "default",
        "docs/letter.pdf",
        &[
            "--content-type",
            "application/pdf",
            "--meta",
            "customer=42",
            "--range",
            "1",
            "1000000",
            "--status",
            "201",
            "--upload",
            &path,
        ],
    )
    .await;
    assert_eq!(answer["url"], server.url("/s3/default"), "{answer}");
    assert_eq!(answer["fields"]["x-amz-algorithm"], "AWS4-HMAC-SHA256");
    assert_eq!(answer["status"], 201, "{answer}");
    let body = answer["body"].as_str().expect("body");
    assert!(body.contains("<PostResponse>"), "{body}");
    assert_eq!(xml_element(body, "Bucket").as_deref(), Some("default"));
    assert_eq!(xml_element(body, "Key").as_deref(), Some("docs/letter.pdf"));
    let etag = format!("\"{}\"", sha256_hex(&letter));
    assert_eq!(xml_element(body, "ETag"), Some(etag));
    let location = xml_element(body, "Location").expect("Location");
    let file_id = location.rsplit('/').next().expect("an id").to_owned();
    assert_eq!(answer["headers"]["x-intake-file-id"], file_id.as_str());

    // The file enters the normal lifecycle: processed, then served.
    let file = server.settled(&file_id).await;
    assert_eq!(file["status"], "ready", "{file}");
    assert_eq!(file["name"], "letter.pdf");
    assert_eq!(file["metadata"]["customer"], "42");
    assert_eq!(file["detected_format"], "pdf");
    let tasks: Vec<&str> = file["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        tasks.contains(&"inspect") && tasks.contains(&"checks"),
        "{file}"
    );
    let content = server
        .call(
            &Auth::bearer(&token),
            reqwest::Method::GET,
            &format!("/v1/files/{file_id}/content"),
            None,
        )
        .await
        .expect_status(200, "content");
    assert_eq!(&content.body[..], &letter[..]);

    // boto3's default for a custom endpoint (SigV2), S3's default 204.
    let answer = boto3(
        &server,
        &access,
        &secret,
        "default",
        "docs/${filename}",
        &["--sigv2", "--upload", &path],
    )
    .await;
    assert!(answer["fields"]["AWSAccessKeyId"].is_string(), "{answer}");
    assert_eq!(answer["status"], 204, "{answer}");
    assert!(answer["headers"]["ETag"].is_string() || answer["headers"]["etag"].is_string());
    assert_eq!(server.file_count("default").await, 2);
    server.assert_no_staging_or_orphans().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_never_writes_into_another_tenant() {
    let server = Server::start().await;
    let other = server.create_tenant("other").await;
    let (_, access, secret) = s3_key(&server, "default").await;
    let dir = server.temp_dir();
    let path = dir.join("letter.pdf");
    std::fs::write(&path, pdf()).expect("write");
    let path = path.display().to_string();

    // "main" is a project of the other tenant only: no such bucket here.
    let answer = boto3(
        &server,
        &access,
        &secret,
        "main",
        "a.pdf",
        &["--upload", &path],
    )
    .await;
    assert_eq!(answer["status"], 404, "{answer}");
    let body = answer["body"].as_str().unwrap_or_default();
    assert_eq!(xml_element(body, "Code").as_deref(), Some("NoSuchBucket"));
    // Both have "default": the key's tenant gets the file, never the other.
    let answer = boto3(
        &server,
        &access,
        &secret,
        "default",
        "a.pdf",
        &["--upload", &path],
    )
    .await;
    assert_eq!(answer["status"], 204, "{answer}");
    assert_eq!(server.file_count("default").await, 1);
    assert!(server.all_files(&other).await.is_empty());

    // An intent of the other tenant, posted to this tenant's bucket.
    let grant = intent(&server, &other, "main", json!({"filename": "a.pdf"})).await;
    let url = server.url("/s3/default");
    let reply = post_form(
        &server,
        &url,
        &fields(&grant),
        Some(("a.pdf", &pdf(), "application/pdf")),
    )
    .await;
    expect_s3_error(&reply, 403, "AccessDenied", "another tenant's intent");
    assert_eq!(server.file_count("default").await, 1);
    assert!(server.all_files(&other).await.is_empty());

    // A key limited to one project reaches no other bucket.
    let key = server
        .post(
            "/v1/keys",
            json!({"scopes": ["files:write"], "projects": ["default"], "s3": true}),
        )
        .await
        .expect_status(201, "a limited key")
        .json();
    server.create_project("letters", json!({})).await;
    let limited = (
        str_field(&key, "s3_access_key_id"),
        str_field(&key, "s3_secret_access_key"),
    );
    let answer = boto3(
        &server,
        &limited.0,
        &limited.1,
        "letters",
        "a.pdf",
        &["--upload", &path],
    )
    .await;
    assert_eq!(answer["status"], 404, "{answer}");
    assert_eq!(server.file_count("letters").await, 0);
    server.assert_no_staging_or_orphans().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_intent_uploads_one_file_then_serves_it() {
    let server = Server::start().await;
    let admin = server.admin_auth();
    let letter = pdf();
    let grant = intent(
        &server,
        &admin,
        "default",
        json!({"filename": "letter.pdf", "content_type": "application/pdf", "metadata": {"customer": "42"}}),
    )
    .await;
    let file_id = str_field(&grant, "file_id");
    assert_eq!(grant["url"], server.url("/s3/default"));
    assert_eq!(grant["key"], format!("uploads/{file_id}/letter.pdf"));
    let f = &grant["fields"];
    for name in [
        "key",
        "Content-Type",
        "x-amz-meta-customer",
        "success_action_status",
        "policy",
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-signature",
    ] {
        assert!(f[name].is_string(), "{name} in {grant}");
    }
    // The policy: expiration 60 s on, the key's prefix, the project's size
    // limit, the content type and metadata, the SigV4 fields.
    let policy: Value = {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(f["policy"].as_str().expect("policy"))
            .expect("base64");
        serde_json::from_slice(&raw).expect("policy JSON")
    };
    let conditions = policy["conditions"].to_string();
    assert!(
        conditions.contains(&format!(r#"["starts-with","$key","uploads/{file_id}/"]"#)),
        "{policy}"
    );
    assert!(
        conditions.contains(r#"["content-length-range",0,5368709120]"#),
        "{policy}"
    );
    assert!(
        conditions.contains(r#"{"Content-Type":"application/pdf"}"#),
        "{policy}"
    );
    assert!(
        conditions.contains(r#"{"x-amz-meta-customer":"42"}"#),
        "{policy}"
    );
    let expires: chrono::DateTime<chrono::Utc> =
        str_field(&grant, "expires_at").parse().expect("expires_at");
    let window = expires - chrono::Utc::now();
    assert!(
        window.num_seconds() > 50 && window.num_seconds() <= 60,
        "{window}"
    );
    let download = str_field(&grant, "download_url");
    assert!(download.contains("X-Amz-Expires=86400"), "{download}");

    // Before the upload: the download URL answers a clear 404, the file does not exist.
    let before = get(&server, &download).await;
    expect_s3_error(&before, 404, "NoSuchKey", "download before the upload");
    assert!(
        before.text().contains("not been uploaded yet"),
        "{}",
        before.text()
    );
    assert_eq!(
        server.get(&format!("/v1/files/{file_id}")).await.status,
        404
    );

    // The upload: 201 with S3's body; the file has the promised id.
    let url = str_field(&grant, "url");
    let reply = post_form(
        &server,
        &url,
        &fields(&grant),
        Some(("anything.pdf", &letter, "application/octet-stream")),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(
        xml_element(&reply.text(), "Key"),
        Some(format!("uploads/{file_id}/letter.pdf"))
    );
    let file = server.settled(&file_id).await;
    assert_eq!(file["status"], "ready", "{file}");
    assert_eq!(file["name"], "letter.pdf");
    assert_eq!(file["declared_content_type"], "application/pdf");
    assert_eq!(file["metadata"]["customer"], "42");

    // The download URL now serves the bytes, without credentials.
    let after = get(&server, &download).await;
    assert_eq!(after.status, 200, "{}", after.text());
    assert_eq!(&after.body[..], &letter[..]);
    assert_eq!(after.header("content-type"), Some("application/pdf"));
    // A tampered URL (another key) is refused.
    let tampered = download.replace("letter.pdf", "other.pdf");
    expect_s3_error(
        &get(&server, &tampered).await,
        403,
        "SignatureDoesNotMatch",
        "tampered URL",
    );
    let unsigned = download.split('?').next().expect("a path").to_owned();
    expect_s3_error(
        &get(&server, &unsigned).await,
        403,
        "AccessDenied",
        "unsigned URL",
    );

    // An intent uploads one file: the form cannot be used again.
    let again = post_form(
        &server,
        &url,
        &fields(&grant),
        Some(("x.pdf", &letter, "application/pdf")),
    )
    .await;
    expect_s3_error(&again, 403, "AccessDenied", "the form used twice");
    assert_eq!(server.file_count("default").await, 1);
    server.assert_no_staging_or_orphans().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_urls_expire_with_the_projects_window() {
    let server = Server::start().await;
    server
        .create_project("short", json!({"download_url_seconds": 2}))
        .await;
    let grant = intent(
        &server,
        &server.admin_auth(),
        "short",
        json!({"filename": "a.png"}),
    )
    .await;
    let download = str_field(&grant, "download_url");
    assert!(download.contains("X-Amz-Expires=2&"), "{download}");
    let reply = post_form(
        &server,
        &str_field(&grant, "url"),
        &fields(&grant),
        Some(("a.png", &png(), "image/png")),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(get(&server, &download).await.status, 200);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    expect_s3_error(
        &get(&server, &download).await,
        403,
        "AccessDenied",
        "expired URL",
    );
    // Invalid windows are refused with the policy.
    let reply = server
        .post(
            "/v1/projects",
            json!({"slug": "bad", "policy": {"download_url_seconds": 0}}),
        )
        .await;
    reply.expect_problem(400, "invalid_policy", "download_url_seconds 0");
}

/// Every refusal of the S3 endpoint, with what S3 answers, and nothing stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_expired_and_malformed_forms_are_refused_and_store_nothing() {
    let server = Server::start().await;
    server
        .create_project("small", json!({"max_file_size": 1000}))
        .await;
    let (_, access, secret) = s3_key(&server, "default").await;
    let admin = server.admin_auth();
    let letter = pdf();
    let file = Some(("letter.pdf", &letter[..], "application/pdf"));
    let fresh = || async {
        intent(
            &server,
            &admin,
            "default",
            json!({"filename": "letter.pdf", "content_type": "application/pdf"}),
        )
        .await
    };
    let grant = fresh().await;
    let url = str_field(&grant, "url");
    let good = fields(&grant);

    // Tampered policy: a larger size limit, re-encoded, signature unchanged.
    let mut tampered = good.clone();
    {
        use base64::Engine;
        let engine = base64::engine::general_purpose::STANDARD;
        let policy = good
            .iter()
            .find(|(n, _)| n == "policy")
            .expect("policy")
            .1
            .clone();
        let text = String::from_utf8(engine.decode(policy).expect("base64")).expect("UTF-8");
        let text = text.replace("5368709120", "99999999999");
        set(&mut tampered, "policy", &engine.encode(text));
    }
    let reply = post_form(&server, &url, &tampered, file).await;
    expect_s3_error(&reply, 403, "SignatureDoesNotMatch", "tampered policy");

    // Tampered signature.
    let mut tampered = good.clone();
    set(&mut tampered, "x-amz-signature", &"0".repeat(64));
    expect_s3_error(
        &post_form(&server, &url, &tampered, file).await,
        403,
        "SignatureDoesNotMatch",
        "tampered signature",
    );

    // A key outside the allowed prefix.
    let mut moved = good.clone();
    set(
        &mut moved,
        "key",
        "uploads/file_00000000000000000000000000/letter.pdf",
    );
    expect_s3_error(
        &post_form(&server, &url, &moved, file).await,
        403,
        "AccessDenied",
        "key outside the prefix",
    );

    // A missing field the policy names, and a missing signature field.
    let missing = without(&good, "Content-Type");
    expect_s3_error(
        &post_form(&server, &url, &missing, file).await,
        403,
        "AccessDenied",
        "missing Content-Type",
    );
    let unsigned = without(&good, "x-amz-signature");
    expect_s3_error(
        &post_form(&server, &url, &unsigned, file).await,
        400,
        "InvalidArgument",
        "missing signature",
    );
    let keyless = without(&good, "key");
    expect_s3_error(
        &post_form(&server, &url, &keyless, file).await,
        400,
        "InvalidArgument",
        "missing key",
    );

    // An extra field no condition names.
    let mut extra = good.clone();
    extra.push(("x-amz-meta-extra".into(), "1".into()));
    let reply = post_form(&server, &url, &extra, file).await;
    expect_s3_error(&reply, 403, "AccessDenied", "extra field");
    assert!(
        reply
            .text()
            .contains("Extra input fields: x-amz-meta-extra"),
        "{}",
        reply.text()
    );

    // Another content type than the policy's.
    let mut retyped = good.clone();
    set(&mut retyped, "Content-Type", "image/png");
    expect_s3_error(
        &post_form(&server, &url, &retyped, file).await,
        403,
        "AccessDenied",
        "another content type",
    );

    // An unknown access key.
    let mut stranger = good.clone();
    let credential = good
        .iter()
        .find(|(n, _)| n == "x-amz-credential")
        .expect("credential")
        .1
        .clone();
    let (_, scope) = credential.split_once('/').expect("a scope");
    set(
        &mut stranger,
        "x-amz-credential",
        &format!("IKAKNOTAKEY000000000/{scope}"),
    );
    expect_s3_error(
        &post_form(&server, &url, &stranger, file).await,
        403,
        "InvalidAccessKeyId",
        "unknown access key",
    );

    // A body that is not a whole multipart form, and a form without a file.
    let mut form = Form::new();
    for (name, value) in &good {
        form = form.field(name, value);
    }
    let content_type = form.content_type();
    let mut body = form
        .file("file", b"letter.pdf", "application/pdf", &letter)
        .unfinished();
    body.truncate(body.len() - 10);
    let reply = Reply::from(
        server
            .client()
            .post(&url)
            .header("content-type", content_type)
            .body(body),
    )
    .await;
    expect_s3_error(&reply, 400, "MalformedPOSTRequest", "truncated body");
    expect_s3_error(
        &post_form(&server, &url, &good, None).await,
        400,
        "InvalidArgument",
        "no file",
    );

    // Outside content-length-range: over the project's limit (intent), and
    // under a boto3 policy's minimum.
    let small = intent(&server, &admin, "small", json!({"filename": "big.bin"})).await;
    let big = vec![7u8; 5000];
    let reply = post_form(
        &server,
        &str_field(&small, "url"),
        &fields(&small),
        Some(("big.bin", &big, "application/octet-stream")),
    )
    .await;
    expect_s3_error(&reply, 400, "EntityTooLarge", "over the size limit");
    let tiny = server.temp_dir().join("tiny.txt");
    std::fs::write(&tiny, b"hello").expect("write");
    let answer = boto3(
        &server,
        &access,
        &secret,
        "default",
        "tiny.txt",
        &[
            "--range",
            "100",
            "1000",
            "--upload",
            &tiny.display().to_string(),
        ],
    )
    .await;
    assert_eq!(answer["status"], 400, "{answer}");
    assert_eq!(
        xml_element(answer["body"].as_str().unwrap_or_default(), "Code").as_deref(),
        Some("EntityTooSmall")
    );

    // A policy document that is signed but not a policy.
    for doc in [
        "not json",
        r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["in","$key","x"]]}"#,
        r#"{"conditions":[]}"#,
    ] {
        let tiny_path = tiny.display().to_string();
        let answer = boto3(
            &server,
            &access,
            &secret,
            "default",
            "tiny.txt",
            &["--policy-json", doc, "--upload", &tiny_path],
        )
        .await;
        assert_eq!(answer["status"], 400, "{doc}: {answer}");
        assert_eq!(
            xml_element(answer["body"].as_str().unwrap_or_default(), "Code").as_deref(),
            Some("InvalidPolicyDocument"),
            "{doc}"
        );
    }

    // An expired form: a one-second window.
    let short = intent(
        &server,
        &admin,
        "default",
        json!({"filename": "letter.pdf", "content_type": "application/pdf", "expires_in": 1}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let reply = post_form(&server, &str_field(&short, "url"), &fields(&short), file).await;
    expect_s3_error(&reply, 403, "AccessDenied", "expired form");
    assert!(reply.text().contains("Policy expired"), "{}", reply.text());
    // An expired boto3 form too.
    let answer = boto3(
        &server,
        &access,
        &secret,
        "default",
        "late.pdf",
        &["--expires", "1"],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let reply = post_form(&server, &str_field(&answer, "url"), &fields(&answer), file).await;
    expect_s3_error(&reply, 403, "AccessDenied", "expired boto3 form");

    // A revoked key's forms stop working.
    let (token, access, secret) = s3_key(&server, "default").await;
    let answer = boto3(&server, &access, &secret, "default", "r.pdf", &[]).await;
    let keys = server
        .get("/v1/keys")
        .await
        .expect_status(200, "keys")
        .json();
    let id = keys
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| token.starts_with(k["prefix"].as_str().unwrap_or("-")))
        .and_then(|k| k["id"].as_str())
        .expect("the key")
        .to_owned();
    server
        .call(
            &admin,
            reqwest::Method::DELETE,
            &format!("/v1/keys/{id}"),
            None,
        )
        .await
        .expect_status(200, "revoke");
    let reply = post_form(&server, &str_field(&answer, "url"), &fields(&answer), file).await;
    expect_s3_error(&reply, 403, "AccessDenied", "revoked key");

    // None of it stored anything; the good form still works once.
    assert_eq!(server.file_count("default").await, 0);
    assert_eq!(server.file_count("small").await, 0);
    server.assert_no_staging_or_orphans().await;
    let reply = post_form(&server, &url, &good, file).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(server.file_count("default").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intents_need_write_access_and_valid_requests() {
    let server = Server::start().await;
    let (_, reader) = server.create_key(&["files:read"]).await;
    let reply = server
        .call(
            &Auth::bearer(&reader),
            reqwest::Method::POST,
            "/v1/projects/default/upload-intents",
            Some(&json!({"filename": "a.pdf"})),
        )
        .await;
    reply.expect_problem(403, "forbidden", "a read-only key");
    for (body, code) in [
        (json!({"filename": "../a.pdf"}), "invalid_filename"),
        (json!({"filename": ""}), "invalid_filename"),
        (
            json!({"filename": "a.pdf", "expires_in": 0}),
            "invalid_field",
        ),
        (
            json!({"filename": "a.pdf", "metadata": {"bad name": "x"}}),
            "invalid_metadata",
        ),
        (
            json!({"filename": "a.pdf", "success_action_status": 302}),
            "invalid_field",
        ),
        (json!({"name": "a.pdf"}), "invalid_body"),
    ] {
        let reply = server
            .post("/v1/projects/default/upload-intents", body.clone())
            .await;
        reply.expect_problem(400, code, &body.to_string());
    }
    let reply = server
        .post(
            "/v1/projects/nope/upload-intents",
            json!({"filename": "a.pdf"}),
        )
        .await;
    assert_eq!(reply.status, 404);
    // The OpenAPI document describes the endpoint.
    let doc = server
        .get("/openapi.json")
        .await
        .expect_status(200, "openapi")
        .json();
    assert!(
        doc["paths"]["/v1/projects/{project}/upload-intents"]["post"].is_object(),
        "upload-intents is documented"
    );
}
