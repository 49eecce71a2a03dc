//! Upload intents with the S3 store: the browser's form goes straight to the
//! bucket (Garage), uploads nobody completes are found by the workers,
//! download URLs redirect to presigned GETs of the bucket once the file may
//! be served, and Python clients (requests, boto3's form) do all of it.
//! Needs `INTAKE_TEST_S3_*`, `INTAKE_TEST_DATABASE_URL` and
//! `INTAKE_TEST_CLAMD` (scripts/test.sh starts all three).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::dialect_mailing::clients_dir;
use crate::fixtures::{pdf, sha256_hex};
use crate::harness::{Config, Server, run_json, str_field};
use crate::http::{FINAL, Reply};
use crate::scale_out::{Deployment, announcements, env, garage_storage, post_form, ready_events};

/// The EICAR test file: every scanner reports it, it harms nothing.
const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// A client that does not follow redirects, to see them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn create_intent(node: &Server, project: &str, body: Value) -> Value {
    node.post(&format!("/v1/projects/{project}/upload-intents"), body)
        .await
        .expect_status(201, "intent")
        .json()
}

/// POSTs the intent's form straight to the bucket with `data` as the file.
async fn post_direct(intent: &Value, data: &[u8]) {
    let key = str_field(intent, "key");
    let filename = key.rsplit('/').next().unwrap_or_default();
    let (status, answer) = post_form(intent, filename, data).await;
    assert!(
        (200..300).contains(&status),
        "Garage took the form: {status} {answer}"
    );
}

/// An intent from `node` whose form was POSTed with `data` as the file.
async fn upload_direct(node: &Server, project: &str, body: Value, data: &[u8]) -> Value {
    let intent = create_intent(node, project, body).await;
    post_direct(&intent, data).await;
    intent
}

async fn complete(node: &Server, intent: &Value) -> Value {
    node.post(
        &format!("/v1/upload-intents/{}/complete", str_field(intent, "id")),
        json!({}),
    )
    .await
    .expect_status(200, "complete")
    .json()
}

/// Waits until the file exists and its status is final; nobody completes
/// the upload here, so a 404 means "not yet".
async fn appears_settled(node: &Server, id: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let reply = node.get(&format!("/v1/files/{id}?wait=5s")).await;
        if reply.status == 200 {
            let file = reply.json();
            if FINAL.contains(&file["status"].as_str().unwrap_or_default()) {
                return file;
            }
        } else {
            reply.expect_problem(404, "file_not_found", "before the upload is found");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(
            Instant::now() < deadline,
            "file {id} did not appear settled within {limit:?}\n{}",
            node.log_tail(40)
        );
    }
}

/// Asserts an S3 store's refusal: a 403 with an `<Error>` document.
#[track_caller]
fn expect_refused(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 403, "{what}: {}", reply.text());
    assert!(reply.text().contains("<Error>"), "{what}: {}", reply.text());
}

/// Asserts the store's refusal of an expired presigned GET: S3 says 403
/// `AccessDenied` ("Request has expired"), Garage 400 `InvalidRequest`
/// ("Date is too old").
#[track_caller]
fn expect_expired(reply: &Reply, what: &str) {
    let body = reply.text();
    let s3 = reply.status == 403 && body.contains("<Code>AccessDenied</Code>");
    let garage = reply.status == 400 && body.contains("Date is too old");
    assert!(s3 || garage, "{what}: {} {body}", reply.status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_nobody_completes_are_found_and_announced_once() {
    let deployment = Deployment::new().await;
    let clamd = env("INTAKE_TEST_CLAMD");
    let node = |cfg: &mut Config| {
        deployment.node(&clamd)(cfg);
        cfg.sections("[signed]\ncompletion_interval = \"1s\"\ncompletion_grace = \"3s\"\n");
    };
    let a = Server::start_with(node).await;
    let b = a.start_peer(node).await;

    let mut received = ready_events(&a).await;

    // Three uploads straight to the bucket, no completion call.
    let mut files = BTreeMap::new();
    for i in 0..3u64 {
        let mut data = pdf();
        data.extend_from_slice(format!("% {i}\n").as_bytes());
        let body = json!({"filename": format!("letter{i}.pdf"), "content_type": "application/pdf"});
        let intent = upload_direct(&a, "default", body, &data).await;
        files.insert(str_field(&intent, "file_id"), (intent, data));
    }
    // And one completed by calls on both nodes at once, racing the workers:
    // one file all the same.
    let mut data = pdf();
    data.extend_from_slice(b"% raced\n");
    let raced = upload_direct(&a, "default", json!({"filename": "raced.pdf"}), &data).await;
    let (x, y) = tokio::join!(complete(&a, &raced), complete(&b, &raced));
    assert_eq!(x["id"], raced["file_id"], "{x}");
    assert_eq!(y["id"], raced["file_id"], "{y}");
    files.insert(str_field(&raced, "file_id"), (raced, data));
    // An intent whose form is never used.
    let unused = create_intent(
        &a,
        "default",
        json!({"filename": "never.pdf", "expires_in": 1}),
    )
    .await;

    // Both nodes see them ready; the bytes are the browser's.
    for (id, (intent, data)) in &files {
        let file = appears_settled(&b, id, Duration::from_secs(60)).await;
        assert_eq!(file["status"], "ready", "{file}");
        assert_eq!(file["sha256"], sha256_hex(data), "{file}");
        let (status, size, sha) = a.download_sha256(a.client(), id).await;
        assert_eq!(
            (status, size, sha),
            (200, data.len() as u64, sha256_hex(data))
        );
        // Completing now answers the same file.
        assert_eq!(complete(&b, intent).await["id"], id.as_str());
    }

    // Each announced once, whichever node found it.
    let announced = announcements(&mut received, files.len()).await;
    assert_eq!(
        announced.keys().collect::<Vec<_>>(),
        files.keys().collect::<Vec<_>>()
    );
    assert!(announced.values().all(|&n| n == 1), "{announced:?}");

    // Nothing is looked for forever: once the unused form's window and the
    // grace period are over, no completion job is left in the queue.
    let unused_id = str_field(&unused, "id");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deployment
            .database
            .count("SELECT count(*) FROM jobs WHERE kind = 'complete_upload'")
            .await;
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{left} complete_upload jobs still queued (the unused intent is {unused_id})"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    a.get(&format!("/v1/files/{}", str_field(&unused, "file_id")))
        .await
        .expect_problem(404, "file_not_found", "the unused intent's file");
    a.post(
        &format!("/v1/upload-intents/{unused_id}/complete"),
        json!({}),
    )
    .await
    .expect_problem(409, "upload_not_found", "the unused intent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_urls_redirect_to_presigned_gets_of_the_bucket() {
    let deployment = Deployment::new().await;
    let clamd = env("INTAKE_TEST_CLAMD");
    let node = Server::start_with(|cfg| {
        deployment.node(&clamd)(cfg);
        cfg.sections("[signed]\nredirect_window = \"3s\"\n");
    })
    .await;
    let endpoint = env("INTAKE_TEST_S3_ENDPOINT");
    let client = no_redirects();
    let intent = create_intent(
        &node,
        "default",
        json!({"filename": "Brief ü.pdf", "content_type": "application/pdf"}),
    )
    .await;
    let download = str_field(&intent, "download_url");

    // Before the upload: intake's own clear 404, no redirect.
    let before = Reply::from(client.get(&download)).await;
    assert_eq!(before.status, 404, "{}", before.text());
    assert!(before.text().contains("<Code>NoSuchKey</Code>"));
    assert!(before.header("location").is_none());

    let data = pdf();
    post_direct(&intent, &data).await;
    let file_id = str_field(&complete(&node, &intent).await, "id");
    assert_eq!(node.settled(&file_id).await["status"], "ready");

    // Ready: 307 to a short-lived presigned GET of the bucket.
    let redirect = Reply::from(client.get(&download)).await;
    assert_eq!(redirect.status, 307, "{}", redirect.text());
    assert_eq!(redirect.header("cache-control"), Some("no-store"));
    assert_eq!(redirect.header("x-intake-file-id"), Some(file_id.as_str()));
    let location = redirect.header("location").expect("Location").to_owned();
    assert!(
        location.starts_with(&format!("{endpoint}/{}/", env("INTAKE_TEST_S3_BUCKET"))),
        "{location}"
    );
    assert!(location.contains("X-Amz-Expires=3&"), "{location}");
    assert!(
        location.contains("response-content-disposition="),
        "{location}"
    );

    // The bucket serves the exact bytes, named and typed as uploaded.
    let served = Reply::from(client.get(&location)).await;
    assert_eq!(served.status, 200, "{}", served.text());
    assert_eq!(sha256_hex(&served.body), sha256_hex(&data));
    assert_eq!(served.header("content-type"), Some("application/pdf"));
    let disposition = served.header("content-disposition").unwrap_or_default();
    assert!(
        disposition.starts_with("attachment; filename=\"Brief _.pdf\"")
            && disposition.contains("filename*=UTF-8''Brief%20%C3%BC%2Epdf"),
        "{disposition}"
    );
    let range = Reply::from(client.get(&location).header("range", "bytes=0-7")).await;
    assert_eq!(range.status, 206);
    assert_eq!(&range.body[..], &data[..8]);
    // Following the redirect is what a browser does.
    let followed = Reply::from(node.client().get(&download)).await;
    assert_eq!(followed.status, 200);
    assert_eq!(sha256_hex(&followed.body), sha256_hex(&data));

    // Its signature covers the response headers and the key, and the bucket
    // checks it.
    let retyped = location.replace("application%2Fpdf", "text%2Fhtml");
    assert_ne!(retyped, location);
    expect_refused(&Reply::from(client.get(&retyped)).await, "tampered type");
    let sig_at = location.find("X-Amz-Signature=").expect("signature") + 16;
    let mut tampered = location.clone();
    let flipped = if &location[sig_at..sig_at + 1] == "0" {
        "1"
    } else {
        "0"
    };
    tampered.replace_range(sig_at..sig_at + 1, flipped);
    expect_refused(
        &Reply::from(client.get(&tampered)).await,
        "tampered signature",
    );
    // It expires after redirect_window; intake's URL goes on redirecting.
    tokio::time::sleep(Duration::from_millis(4000)).await;
    expect_expired(
        &Reply::from(client.get(&location)).await,
        "expired presigned GET",
    );
    let again = Reply::from(client.get(&download)).await;
    assert_eq!(again.status, 307);
    assert_ne!(again.header("location"), Some(location.as_str()));

    // An infected file is never redirected to.
    let virus = upload_direct(&node, "default", json!({"filename": "eicar.txt"}), EICAR).await;
    let virus_id = str_field(&complete(&node, &virus).await, "id");
    assert_eq!(node.settled(&virus_id).await["status"], "infected");
    let refused = Reply::from(client.get(str_field(&virus, "download_url"))).await;
    assert_eq!(refused.status, 409, "{}", refused.text());
    assert!(
        refused.text().contains("<Code>FileInfected</Code>"),
        "{}",
        refused.text()
    );
    assert!(refused.header("location").is_none());

    // After intake's URL expires: 403, not a redirect.
    node.create_project("short", json!({"download_url_seconds": 5}))
        .await;
    let short = upload_direct(&node, "short", json!({"filename": "a.pdf"}), &data).await;
    complete(&node, &short).await;
    let short_url = str_field(&short, "download_url");
    let left = Reply::from(client.get(&short_url)).await;
    assert_eq!(left.status, 307, "{}", left.text());
    let short_location = left.header("location").expect("Location").to_owned();
    let expires: chrono::DateTime<chrono::Utc> = str_field(&short, "download_expires_at")
        .parse()
        .expect("download_expires_at");
    let left = (expires - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(500)).await;
    let expired = Reply::from(client.get(&short_url)).await;
    assert_eq!(expired.status, 403, "{}", expired.text());
    assert!(expired.text().contains("<Code>AccessDenied</Code>"));
    assert!(expired.header("location").is_none());
    // The presigned GET it gave out lived no longer than intake's URL.
    expect_expired(&Reply::from(client.get(&short_location)).await, "outlived");
}

/// A node whose files never get processed (no workers), with redirects on
/// or off: a file that is not ready is never redirected to, and off, intake
/// streams the bytes itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unready_files_are_not_redirected_and_redirects_can_be_off() {
    let prefix = format!("direct-{}/", crate::harness::random_u64());
    let idle = Server::start_with(|cfg| {
        cfg.workers("workers", 0).sections(&garage_storage(&prefix));
    })
    .await;
    idle.create_project("quick", json!({"wait_seconds": 1}))
        .await;
    let data = pdf();
    let intent = upload_direct(&idle, "quick", json!({"filename": "a.pdf"}), &data).await;
    let file = complete(&idle, &intent).await;
    assert_eq!(file["status"], "received");
    let reply = Reply::from(no_redirects().get(str_field(&intent, "download_url"))).await;
    assert_eq!(reply.status, 409, "{}", reply.text());
    assert!(
        reply.text().contains("<Code>FileNotReady</Code>"),
        "{}",
        reply.text()
    );
    assert!(reply.header("location").is_none());
    drop(idle);

    let streaming = Server::start_with(|cfg| {
        cfg.sections(&garage_storage(&prefix))
            .sections("[signed]\nredirect_downloads = false\n");
    })
    .await;
    let intent = upload_direct(
        &streaming,
        "default",
        json!({"filename": "b.pdf", "content_type": "application/pdf"}),
        &data,
    )
    .await;
    let id = str_field(&complete(&streaming, &intent).await, "id");
    assert_eq!(streaming.settled(&id).await["status"], "ready");
    let reply = Reply::from(no_redirects().get(str_field(&intent, "download_url"))).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(sha256_hex(&reply.body), sha256_hex(&data));
    assert_eq!(reply.header("content-type"), Some("application/pdf"));
    assert!(
        reply
            .header("content-disposition")
            .is_some_and(|d| d.contains("filename=\"b.pdf\"")),
        "{:?}",
        reply.header("content-disposition")
    );
}

/// Runs `tests/clients/garage_direct.py` against `node` with `file`; answers its JSON.
async fn python_client(node: &Server, token: &str, file: &Path, options: &[&str]) -> Value {
    let mut cmd = Command::new("python3");
    cmd.arg(clients_dir().join("garage_direct.py"))
        .arg(node.base_url())
        .args([token, "default"])
        .arg(file)
        .args(options);
    run_json(
        cmd,
        "the Python client failed (are requests and boto3 installed? see scripts/ci-install.sh)",
    )
    .await
}

/// A policy's conditions as (operator, field) → value, so two policies can
/// be compared condition by condition.
fn conditions(list: &Value) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for condition in list.as_array().expect("conditions") {
        match condition {
            Value::Object(map) => {
                for (field, value) in map {
                    out.insert(("eq".to_owned(), field.to_ascii_lowercase()), value.clone());
                }
            }
            Value::Array(items) => {
                let op = items[0].as_str().expect("an operator").to_owned();
                if op == "content-length-range" {
                    out.insert((op, String::new()), json!([items[1], items[2]]));
                } else {
                    let field = items[1].as_str().expect("a field");
                    let field = field.trim_start_matches('$').to_ascii_lowercase();
                    out.insert((op, field), items[2].clone());
                }
            }
            other => panic!("not a condition: {other}"),
        }
    }
    out
}

/// Asserts what the Python client saw: Garage took the form, intake
/// completed the intent's file, and its download URL redirected to the
/// bucket, which served the exact bytes.
#[track_caller]
fn expect_round_trip(answer: &Value, data: &[u8]) {
    let intent = &answer["intent"];
    assert_eq!(answer["upload"]["status"], 201, "{answer}");
    let body = answer["upload"]["body"].as_str().unwrap_or_default();
    assert!(body.contains("<Key>"), "Garage's PostObject answer: {body}");
    assert_eq!(answer["complete"]["status"], 200, "{answer}");
    assert_eq!(
        answer["complete"]["body"]["id"], intent["file_id"],
        "{answer}"
    );
    let download = &answer["download"];
    assert_eq!(download["status"], 200, "{answer}");
    assert_eq!(download["redirects"], json!([307]), "{answer}");
    let endpoint = env("INTAKE_TEST_S3_ENDPOINT");
    let url = download["url"].as_str().unwrap_or_default();
    assert!(url.starts_with(&endpoint), "served by the bucket: {url}");
    assert_eq!(download["sha256"], sha256_hex(data), "{answer}");
    assert_eq!(download["size"], data.len(), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_requests_and_boto3_forms_go_straight_to_garage() {
    let deployment = Deployment::new().await;
    let clamd = env("INTAKE_TEST_CLAMD");
    let node = Server::start_with(deployment.node(&clamd)).await;
    let (_, token) = node.create_key(&["files:write", "files:read"]).await;
    let data = pdf();
    let file = node.temp_dir().join("letter.pdf");
    std::fs::write(&file, &data).expect("write");
    let typed = ["--content-type", "application/pdf", "--meta", "customer=42"];

    // The intent's own form, POSTed by requests as a browser would.
    let answer = python_client(&node, &token, &file, &typed).await;
    expect_round_trip(&answer, &data);
    assert_eq!(
        answer["download"]["headers"]["content-type"], "application/pdf",
        "{answer}"
    );
    let file_id = str_field(&answer["intent"], "file_id");
    let stored = node.settled(&file_id).await;
    assert_eq!(stored["metadata"]["customer"], "42", "{stored}");

    // A form boto3's generate_presigned_post makes with the bucket's key for
    // the intent's object and conditions: the same fields and conditions,
    // accepted by Garage, and intake adopts the object as the intent's file.
    let mut options = vec!["--boto3-form"];
    options.extend(typed);
    let answer = python_client(&node, &token, &file, &options).await;
    let ours = answer["intent"]["fields"].as_object().expect("fields");
    let boto3 = answer["form"]["fields"].as_object().expect("fields");
    assert_eq!(
        ours.keys().collect::<BTreeSet<_>>(),
        boto3.keys().collect::<BTreeSet<_>>(),
        "the same field names"
    );
    for name in [
        "Content-Type",
        "x-amz-meta-customer",
        "success_action_status",
        "x-amz-algorithm",
    ] {
        assert_eq!(ours[name], boto3[name], "{name}");
    }
    let ours = conditions(&answer["intent_conditions"]);
    let boto3 = conditions(&answer["boto3_conditions"]);
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        boto3.keys().collect::<Vec<_>>(),
        "the same conditions"
    );
    for (condition, value) in &ours {
        // The date and the credential's day are each signer's own moment.
        if !["x-amz-date", "x-amz-credential"].contains(&condition.1.as_str()) {
            assert_eq!(value, &boto3[condition], "{condition:?}");
        }
    }
    assert_eq!(
        answer["form"]["url"], answer["intent"]["url"],
        "both go to the bucket"
    );
    expect_round_trip(&answer, &data);
}
