//! Several nodes on one PostgreSQL catalog and one Garage bucket (the
//! README's "Running several nodes"): any node answers for any file, every
//! job runs once across the nodes, and a node killed mid-job leaves its jobs
//! to the others. Needs `INTAKE_TEST_DATABASE_URL` and `INTAKE_TEST_S3_*`
//! (scripts/test.sh starts both).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use intake_catalog::testing::TestDatabase;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::fixtures::{pdf, pseudo_random};
use crate::harness::{Config, Server, str_field};
use crate::processing::receive_one;

pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run the tests with scripts/test.sh, or start the test \
             Garage with eval \"$(scripts/garage/start.sh /tmp/intake-garage)\""
        )
    })
}

/// `[storage]` on the test Garage's bucket, under `prefix`.
pub fn garage_storage(prefix: &str) -> String {
    format!(
        "[storage]\nbackend = \"s3\"\n\n[storage.s3]\nendpoint = {:?}\nbucket = {:?}\n\
         region = {:?}\naccess_key_id = {:?}\nsecret_access_key = {:?}\nprefix = {:?}\n",
        env("INTAKE_TEST_S3_ENDPOINT"),
        env("INTAKE_TEST_S3_BUCKET"),
        env("INTAKE_TEST_S3_REGION"),
        env("INTAKE_TEST_S3_ACCESS_KEY_ID"),
        env("INTAKE_TEST_S3_SECRET_ACCESS_KEY"),
        prefix,
    )
}

/// One deployment: its database, and a bucket prefix of its own.
pub struct Deployment {
    pub database: TestDatabase,
    pub prefix: String,
}

impl Deployment {
    pub async fn new() -> Deployment {
        Deployment {
            database: TestDatabase::create().await,
            prefix: format!("scale-out-{}/", crate::harness::random_u64()),
        }
    }

    /// A node's configuration: the shared catalog and store, short leases.
    pub fn node<'a>(&'a self, clamd: &'a str) -> impl FnOnce(&mut Config) + 'a {
        move |cfg: &mut Config| {
            cfg.database_url(self.database.url())
                .workers("clamd", format!("{clamd:?}"))
                .workers("lease", "\"2s\"")
                .workers("workers", 2)
                .sections(&garage_storage(&self.prefix));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_uploaded_through_one_node_is_read_and_deleted_through_another() {
    let deployment = Deployment::new().await;
    let clamd = env("INTAKE_TEST_CLAMD");
    let a = Server::start_with(deployment.node(&clamd)).await;
    let b = a.start_peer(deployment.node(&clamd)).await;

    // 12 MiB: a multipart upload to the bucket.
    let data = pseudo_random(7, 12 << 20);
    let file = a
        .upload_one("default", "big.bin", &data, "application/octet-stream")
        .await;
    let id = str_field(&file, "id");
    let settled = b.settled(&id).await;
    assert_eq!(settled["status"], "ready", "{settled}");
    let (status, size, sha) = b.download_sha256(b.client(), &id).await;
    assert_eq!((status, size), (200, data.len() as u64));
    assert_eq!(sha, str_field(&file, "sha256"));

    let range = b
        .request(
            &b.admin_auth(),
            reqwest::Method::GET,
            &format!("/v1/files/{id}/content"),
        )
        .header("range", "bytes=1000-1999");
    let range = crate::http::Reply::from(range)
        .await
        .expect_status(206, "range via B");
    assert_eq!(&range.body[..], &data[1000..2000]);

    b.call(
        &b.admin_auth(),
        reqwest::Method::DELETE,
        &format!("/v1/files/{id}"),
        None,
    )
    .await
    .expect_status(204, "delete via B");
    a.get(&format!("/v1/files/{id}")).await.expect_problem(
        404,
        "file_not_found",
        "deleted through the other node",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_run_once_across_nodes_and_survive_a_killed_node() {
    let deployment = Deployment::new().await;
    let clamd = env("INTAKE_TEST_CLAMD");

    // Node A's scanner takes connections and never answers, so its jobs are
    // in flight when it is killed.
    let black_hole = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hole = format!("tcp://{}", black_hole.local_addr().expect("addr"));
    let held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = black_hole.accept().await {
            sockets.push(socket);
        }
    });
    let mut a = Server::start_with(deployment.node(&hole)).await;

    let mut received = ready_events(&a).await;

    let mut ids = Vec::new();
    for i in 0..4u64 {
        let data = pseudo_random(200 + i, 50_000);
        let file = a
            .upload_one(
                "default",
                &format!("a{i}.bin"),
                &data,
                "application/octet-stream",
            )
            .await;
        ids.push(str_field(&file, "id"));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut processing = 0;
        for id in &ids {
            let file = a.get(&format!("/v1/files/{id}")).await.json();
            processing += usize::from(file["status"] == "processing");
        }
        if processing == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "node A never took the jobs");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.kill();
    held.abort();

    // Two healthy nodes take over A's jobs and share new ones.
    let b = a.start_peer(deployment.node(&clamd)).await;
    let c = a.start_peer(deployment.node(&clamd)).await;
    for i in 0..10u64 {
        let node = if i % 2 == 0 { &b } else { &c };
        let file = node
            .upload_one(
                "default",
                &format!("b{i}.pdf"),
                &pdf_variant(i),
                "application/pdf",
            )
            .await;
        ids.push(str_field(&file, "id"));
    }
    for id in &ids {
        let file = b.settled(id).await;
        assert_eq!(file["status"], "ready", "{file}");
    }

    // Every file announced exactly once across the nodes.
    let announced = announcements(&mut received, ids.len()).await;
    let mut expected: Vec<String> = ids.clone();
    expected.sort();
    assert_eq!(announced.keys().cloned().collect::<Vec<_>>(), expected);
    assert!(announced.values().all(|&n| n == 1), "{announced:?}");
}

/// Registers a `file.ready` webhook in `node`'s default project; answers
/// the events' bodies, read as they come so no sender waits on us (and
/// retries).
pub async fn ready_events(node: &Server) -> UnboundedReceiver<Vec<u8>> {
    let receiver = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hook_url = format!("http://{}/hook", receiver.local_addr().expect("addr"));
    node.post(
        "/v1/projects/default/webhooks",
        json!({"url": hook_url, "events": ["file.ready"]}),
    )
    .await
    .expect_status(201, "webhook");
    let (events, received) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let request = receive_one(&receiver).await;
            if events.send(request.body).is_err() {
                break;
            }
        }
    });
    received
}

/// How many times each file was announced, once `n` announcements came
/// (within a minute) and no other in the 3 s after them.
pub async fn announcements(
    received: &mut UnboundedReceiver<Vec<u8>>,
    n: usize,
) -> BTreeMap<String, usize> {
    let mut announced: BTreeMap<String, usize> = BTreeMap::new();
    while announced.values().sum::<usize>() < n {
        let body = tokio::time::timeout(Duration::from_secs(60), received.recv())
            .await
            .expect("every file announced within a minute")
            .expect("the receiver runs");
        let event: Value = serde_json::from_slice(&body).expect("JSON event");
        *announced
            .entry(str_field(&event["data"]["file"], "id"))
            .or_default() += 1;
    }
    // Anything sent twice would arrive within moments.
    let extra = tokio::time::timeout(Duration::from_secs(3), received.recv()).await;
    assert!(extra.is_err(), "an event was delivered twice");
    announced
}

/// A valid PDF whose bytes differ per `i` (a trailing comment), so each is
/// its own blob.
fn pdf_variant(i: u64) -> Vec<u8> {
    let mut bytes = pdf();
    bytes.extend_from_slice(format!("% variant {i}\n").as_bytes());
    bytes
}

/// POSTs an intent's form (its fields, then the file) where it says.
pub async fn post_form(intent: &Value, filename: &str, data: &[u8]) -> (u16, String) {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in intent["fields"].as_object().expect("fields") {
        form = form.text(name.clone(), value.as_str().unwrap_or_default().to_owned());
    }
    let part = reqwest::multipart::Part::bytes(data.to_vec())
        .file_name(filename.to_owned())
        .mime_str("application/pdf")
        .expect("mime");
    let response = reqwest::Client::new()
        .post(str_field(intent, "url"))
        .multipart(form.part("file", part))
        .send()
        .await
        .expect("POST the form");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_intents_go_straight_to_the_bucket() {
    let deployment = Deployment::new().await;
    let clamd = env("INTAKE_TEST_CLAMD");
    let node = Server::start_with(deployment.node(&clamd)).await;
    let intent = node
        .post(
            "/v1/projects/default/upload-intents",
            json!({"filename": "letter.pdf", "content_type": "application/pdf"}),
        )
        .await
        .expect_status(201, "intent")
        .json();
    let endpoint = env("INTAKE_TEST_S3_ENDPOINT");
    assert!(
        str_field(&intent, "url").starts_with(&endpoint),
        "the form goes to the bucket: {intent}"
    );
    let (id, file_id) = (str_field(&intent, "id"), str_field(&intent, "file_id"));
    let complete = format!("/v1/upload-intents/{id}/complete");

    // Before the upload: no file, and completing finds nothing.
    node.get(&format!("/v1/files/{file_id}"))
        .await
        .expect_problem(404, "file_not_found", "before the upload");
    node.post(&complete, json!({})).await.expect_problem(
        409,
        "upload_not_found",
        "complete before the upload",
    );
    let download =
        crate::http::Reply::from(node.client().get(str_field(&intent, "download_url"))).await;
    assert_eq!(
        download.status,
        404,
        "download before the upload: {}",
        download.text()
    );

    // The browser's POST goes to Garage, which checks the signed policy.
    let data = pdf();
    let (status, body) = post_form(&intent, "letter.pdf", &data).await;
    assert!(
        (200..300).contains(&status),
        "Garage took the form: {status} {body}"
    );
    let file = node
        .post(&complete, json!({}))
        .await
        .expect_status(200, "complete")
        .json();
    assert_eq!(str_field(&file, "id"), file_id);
    let again = node
        .post(&complete, json!({}))
        .await
        .expect_status(200, "again")
        .json();
    assert_eq!(again["id"], file["id"]);
    let file = node.settled(&file_id).await;
    assert_eq!(file["status"], "ready", "{file}");
    assert_eq!(file["properties"]["pages"], 1, "{file}");
    let (status, size, sha) = node.download_sha256(node.client(), &file_id).await;
    assert_eq!((status, size), (200, data.len() as u64));
    assert_eq!(sha, crate::fixtures::sha256_hex(&data));
    let download =
        crate::http::Reply::from(node.client().get(str_field(&intent, "download_url"))).await;
    assert_eq!(download.status, 200, "{}", download.text());
    assert_eq!(&download.body[..], &data[..]);

    // The bucket enforces the form's size range itself.
    node.create_project("small", json!({"max_file_size": 100}))
        .await;
    let small = node
        .post(
            "/v1/projects/small/upload-intents",
            json!({"filename": "letter.pdf", "content_type": "application/pdf"}),
        )
        .await
        .expect_status(201, "intent")
        .json();
    let (status, body) = post_form(&small, "letter.pdf", &data).await;
    assert_eq!(status, 400, "over the range: {body}");
    // Garage says InvalidRequest ("File size does not match policy"); S3
    // says EntityTooLarge.
    assert!(body.contains("<Error>"), "{body}");
    node.post(
        &format!("/v1/upload-intents/{}/complete", str_field(&small, "id")),
        json!({}),
    )
    .await
    .expect_problem(409, "upload_not_found", "nothing stored");
}
