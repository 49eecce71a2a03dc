//! 004, project uploads, driven by the seed's three samples: curl against
//! `POST /v2/{team}/project/{project}/upload`, Python `requests`
//! (`create_upload`, `tests/clients/projects_upload.py`) and Node 20's
//! `fetch`/`FormData`/`File` (`tests/clients/projects_upload.mjs`) against
//! `POST /api/v1/uploads`. Uploads are read again until their tasks end;
//! the Node sample's `File(['file content'], 'document.pdf')` is text named
//! as a PDF, so it is accepted and its task ends failed with reason
//! `format`. Then the 400, 401, 403 and 413 cases.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Server, run};
use crate::http::{Auth, Form};

const TEAM: &str = "team_123456";
const PROJECT: &str = "proj_123456";
const META: &str =
    r#"[{"name":"category", "value":"invoice"},{"name":"department", "value":"finance"}]"#;

/// How long a test waits for processing to end.
const PROCESSING: Duration = Duration::from_secs(30);

fn clients() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// The team with its project and a key; returns the key.
async fn set_up(server: &Server, policy: &str) -> String {
    server.admin(&["tenant", "create", TEAM]).await;
    server
        .admin(&[
            "project", "create", PROJECT, "--tenant", TEAM, "--policy", policy,
        ])
        .await;
    server
        .admin(&["key", "create", "--tenant", TEAM])
        .await
        .trim()
        .to_owned()
}

/// Runs a command; returns (success, stdout, stderr).
async fn client(cmd: Command) -> (bool, String, String) {
    let out = run(cmd, None).await;
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// `curl -X POST URL -H "Authorization: Bearer KEY" -F … -w '\n%{http_code}'`:
/// (status, body).
async fn curl(url: &str, key: &str, args: &[&str]) -> (u16, String) {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sS",
        "-X",
        "POST",
        url,
        "-H",
        &format!("Authorization: Bearer {key}"),
    ])
    .args(args)
    .args(["-w", "\n%{http_code}"]);
    let (ok, stdout, stderr) = client(cmd).await;
    assert!(ok, "curl failed: {stderr}");
    let (body, status) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
    (
        status
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("no status in {stdout:?}")),
        body.to_owned(),
    )
}

/// Reads the upload again until no task is processing.
async fn until_done(server: &Server, key: &str, path: &str) -> Value {
    let auth = Auth::bearer(key);
    let deadline = Instant::now() + PROCESSING;
    loop {
        let upload = server
            .call(&auth, reqwest::Method::GET, path, None)
            .await
            .expect_status(200, path)
            .json();
        if upload["status"] != "processing" {
            return upload;
        }
        assert!(
            Instant::now() < deadline,
            "still processing after {PROCESSING:?} (are the workers running in `intake serve`?): {upload}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn check_answer(upload: &Value, name: &str, size: u64) {
    let id = upload["id"].as_str().unwrap_or_default();
    assert!(id.starts_with("upl_"), "{upload}");
    assert_eq!(upload["name"], name, "{upload}");
    assert_eq!(upload["projectId"], PROJECT, "{upload}");
    assert_eq!(upload["status"], "processing", "{upload}");
    assert_eq!(upload["fileSize"], size, "{upload}");
    for key in ["createdAt", "updatedAt"] {
        let at = upload[key].as_str().unwrap_or_default();
        assert!(
            at.parse::<chrono::DateTime<chrono::Utc>>().is_ok(),
            "{key} {at:?}"
        );
    }
    assert_eq!(upload["meta"][0]["name"], "category", "{upload}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_seed_samples_create_uploads_and_read_them_again() {
    let server = Server::start().await;
    let key = set_up(&server, "{}").await;
    let dir = server.temp_dir();
    let pdf = crate::fixtures::pdf();
    let png = crate::fixtures::png();
    std::fs::write(dir.join("document.pdf"), &pdf).expect("write");
    std::fs::write(dir.join("image.png"), &png).expect("write");

    // curl, the seed's sample, against the team/project path.
    let url = server.url(&format!("/v2/{TEAM}/project/{PROJECT}/upload"));
    let file = format!("file=@{}", dir.join("document.pdf").display());
    let (status, body) = curl(
        &url,
        &key,
        &[
            "-F",
            &file,
            "-F",
            "name=Important Document",
            "-F",
            &format!("meta={META}"),
        ],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let upload = json(&body);
    check_answer(&upload, "Important Document", pdf.len() as u64);
    assert_eq!(upload["fileType"], "pdf");
    assert_eq!(
        upload["tasks"].as_array().map(Vec::len),
        Some(1),
        "{upload}"
    );
    let path = format!(
        "/v2/{TEAM}/project/{PROJECT}/upload/{}",
        upload["id"].as_str().unwrap_or_default()
    );
    let done = until_done(&server, &key, &path).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["tasks"][0]["status"], "completed", "{done}");

    // Several file fields: one upload, one task per file; the first file's
    // type and the total size.
    let image = format!("file=@{}", dir.join("image.png").display());
    let (status, body) = curl(
        &url,
        &key,
        &[
            "-F",
            &image,
            "-F",
            &file,
            "-F",
            "name=Two",
            "-F",
            &format!("meta={META}"),
        ],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let two = json(&body);
    check_answer(&two, "Two", (pdf.len() + png.len()) as u64);
    assert_eq!(two["fileType"], "png", "{two}");
    let tasks = two["tasks"].as_array().cloned().unwrap_or_default();
    assert_eq!(tasks.len(), 2, "{two}");
    assert_eq!(
        (&tasks[0]["fileName"], &tasks[1]["fileName"]),
        (&"image.png".into(), &"document.pdf".into())
    );
    assert_ne!(tasks[0]["id"], tasks[1]["id"]);

    // Python requests, the seed's create_upload, with projectId as a field.
    let mut cmd = Command::new("python3");
    cmd.arg(clients().join("projects_upload.py"))
        .args([server.base_url(), &key, PROJECT])
        .arg(dir.join("document.pdf"));
    let (ok, stdout, stderr) = client(cmd).await;
    assert!(ok, "python sample: {stderr}");
    let upload = json(&stdout);
    check_answer(&upload, "Important Document", pdf.len() as u64);
    let done = until_done(
        &server,
        &key,
        &format!(
            "/api/v1/uploads/{}",
            upload["id"].as_str().unwrap_or_default()
        ),
    )
    .await;
    assert_eq!(done["status"], "completed", "{done}");

    // Node 20, the seed's TypeScript sample: 'file content' named document.pdf.
    let mut cmd = Command::new("node");
    cmd.arg(clients().join("projects_upload.mjs"))
        .args([server.base_url(), &key, PROJECT]);
    let (ok, stdout, stderr) = client(cmd).await;
    assert!(ok, "node sample: {stderr}");
    let upload = json(&stdout);
    check_answer(&upload, "Important Document", "file content".len() as u64);
    assert_eq!(upload["tasks"][0]["fileName"], "document.pdf");
    let done = until_done(
        &server,
        &key,
        &format!(
            "/api/v1/uploads/{}",
            upload["id"].as_str().unwrap_or_default()
        ),
    )
    .await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["tasks"][0]["status"], "failed", "{done}");
    assert_eq!(done["tasks"][0]["reason"], "format", "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_errors_answer_400_401_403_413() {
    let server = Server::start().await;
    let key = set_up(&server, r#"{"max_file_size":1000}"#).await;
    // Another project of the team, and a key limited to it.
    server
        .admin(&["project", "create", "private", "--tenant", TEAM])
        .await;
    let limited = server
        .admin(&["key", "create", "--tenant", TEAM, "--project", "private"])
        .await
        .trim()
        .to_owned();
    server.admin(&["tenant", "create", "rival"]).await;
    server
        .admin(&["project", "create", "theirs", "--tenant", "rival"])
        .await;
    let dir = server.temp_dir();
    std::fs::write(dir.join("document.pdf"), crate::fixtures::pdf()).expect("write");
    std::fs::write(dir.join("big.bin"), crate::fixtures::pseudo_random(3, 5000)).expect("write");
    let file = format!("file=@{}", dir.join("document.pdf").display());
    let big = format!("file=@{}", dir.join("big.bin").display());
    let v2 =
        |team: &str, project: &str| server.url(&format!("/v2/{team}/project/{project}/upload"));
    let api = server.url("/api/v1/uploads");

    let cases: Vec<(&str, String, &str, Vec<String>, u16)> = vec![
        (
            "malformed meta",
            v2(TEAM, PROJECT),
            &key,
            vec![file.clone(), "meta={\"name\":1}".into()],
            400,
        ),
        (
            "meta not JSON",
            v2(TEAM, PROJECT),
            &key,
            vec![file.clone(), "meta=[{".into()],
            400,
        ),
        (
            "no file",
            v2(TEAM, PROJECT),
            &key,
            vec!["name=x".into()],
            400,
        ),
        ("no projectId", api.clone(), &key, vec![file.clone()], 400),
        (
            "no file, api",
            api.clone(),
            &key,
            vec![format!("projectId={PROJECT}")],
            400,
        ),
        (
            "bad key",
            v2(TEAM, PROJECT),
            "ik_wrong",
            vec![file.clone()],
            401,
        ),
        (
            "bad key, api",
            api.clone(),
            "ik_wrong",
            vec![file.clone(), format!("projectId={PROJECT}")],
            401,
        ),
        (
            "another team",
            v2("rival", "theirs"),
            &key,
            vec![file.clone()],
            403,
        ),
        (
            "no such project",
            v2(TEAM, "nope"),
            &key,
            vec![file.clone()],
            403,
        ),
        (
            "another team's project, api",
            api.clone(),
            &key,
            vec![file.clone(), "projectId=theirs".into()],
            403,
        ),
        (
            "a project the key cannot reach",
            v2(TEAM, PROJECT),
            &limited,
            vec![file.clone()],
            403,
        ),
        (
            "a project the key cannot reach, api",
            api.clone(),
            &limited,
            vec![file.clone(), format!("projectId={PROJECT}")],
            403,
        ),
        (
            "over the size limit",
            v2(TEAM, PROJECT),
            &key,
            vec![big.clone()],
            413,
        ),
        (
            "over the size limit, api",
            api.clone(),
            &key,
            vec![format!("projectId={PROJECT}"), big.clone()],
            413,
        ),
    ];
    let mut failures = Vec::new();
    for (what, url, key, fields, expected) in cases {
        let args: Vec<&str> = fields.iter().flat_map(|f| ["-F", f.as_str()]).collect();
        let (status, body) = curl(&url, key, &args).await;
        let shape = serde_json::from_str::<Value>(&body).ok().filter(|b| {
            b["statusCode"] == expected
                && b["message"].as_str().is_some_and(|m| !m.is_empty())
                && b["error"].is_string()
        });
        if status != expected || shape.is_none() {
            failures.push(format!("{what}: expected {expected}, got {status} {body}"));
        }
        if expected == 403 && !body.contains("you don't have access to this project") {
            failures.push(format!("{what}: 403 without the seed's message: {body}"));
        }
    }
    assert!(
        failures.is_empty(),
        "wrong answers:\n{}",
        failures.join("\n")
    );

    // Reading an upload: another team's path is 403, an unknown id 404.
    let (status, body) = curl(&v2(TEAM, PROJECT), &key, &["-F", &file]).await;
    assert_eq!(status, 201, "{body}");
    let id = json(&body)["id"].as_str().unwrap_or_default().to_owned();
    let auth = Auth::bearer(&key);
    let get = reqwest::Method::GET;
    let path = format!("/v2/rival/project/theirs/upload/{id}");
    server
        .call(&auth, get.clone(), &path, None)
        .await
        .expect_status(403, "another team");
    let path = format!("/v2/{TEAM}/project/private/upload/{id}");
    server
        .call(&auth, get.clone(), &path, None)
        .await
        .expect_status(404, "another project's path");
    server
        .call(&auth, get.clone(), "/api/v1/uploads/upl_unknown", None)
        .await
        .expect_status(404, "unknown upload");
    let path = format!("/api/v1/uploads/{id}");
    let again = server
        .call(&auth, get, &path, None)
        .await
        .expect_status(200, "read again")
        .json();
    assert_eq!(again["id"], id.as_str());

    // A multipart body the server cannot read is a 400 in the same shape.
    let form = Form::new().field("name", "x");
    let reply = server
        .post_body(
            &auth,
            &format!("/v2/{TEAM}/project/{PROJECT}/upload"),
            &[("content-type", "multipart/form-data")],
            form.unfinished(),
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.json()["statusCode"], 400);
}
