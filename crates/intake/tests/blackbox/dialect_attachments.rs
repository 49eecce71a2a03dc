//! 003, conversation attachments (`POST
//! /dana/conversation/http/rest/file/upload`), driven by curl with the
//! seed's exact flags: `-i -X POST -u user@company:pw`, an explicit
//! `Content-Type: multipart/form-data` (curl still adds the boundary; the
//! test checks what went on the wire), `Accept: application/json`,
//! `X-DEBUG: 1`, `-F file=@…`. The `fileID` resolves through the native
//! API, files are kept 7 days unless the project says otherwise, and the
//! 400 and 401 cases answer the dialect's JSON.

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::Value;

use crate::harness::{Server, run};
use crate::http::{Auth, encode};

const COMPANY: &str = "companycode";
const PATH: &str = "/dana/conversation/http/rest/file/upload";

/// What curl printed: the status, response headers (lower-case names),
/// body, and its verbose log (the request as sent).
struct Curl {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    sent: String,
}

impl Curl {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// `curl -i -X POST -u CREDENTIALS URL <the seed's headers> ARGS…`.
async fn curl(server: &Server, credentials: Option<&str>, debug: bool, args: &[&str]) -> Curl {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-v", "-i", "-X", "POST"]);
    if let Some(credentials) = credentials {
        cmd.args(["-u", credentials]);
    }
    cmd.arg(server.url(PATH)).args([
        "-H",
        "Content-Type: multipart/form-data",
        "-H",
        "Accept: application/json",
    ]);
    if debug {
        cmd.args(["-H", "X-DEBUG: 1"]);
    }
    cmd.args(args);
    let out = run(cmd, None).await;
    let stdout = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    let sent = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "curl failed: {sent}");
    let mut rest = stdout.as_str();
    // Interim answers (`100 Continue`, for a body of unknown length) first.
    while rest.starts_with("HTTP/1.1 100") {
        rest = rest.split_once("\n\n").map_or("", |(_, after)| after);
    }
    let (head, body) = rest.split_once("\n\n").unwrap_or((rest, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {stdout:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Curl {
        status,
        headers,
        body: body.to_owned(),
        sent,
    }
}

/// The company (tenant), its API user, a read key; and another tenant's key.
async fn set_up(server: &Server) -> (Auth, Auth) {
    server.admin(&["tenant", "create", COMPANY]).await;
    let out = server
        .admin_output(
            &[
                "user",
                "create",
                "agent",
                "--tenant",
                COMPANY,
                "--password-stdin",
            ],
            Some("s3cret-pass\n"),
        )
        .await;
    assert!(
        out.status.success(),
        "user create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = server
        .admin(&[
            "key",
            "create",
            "--tenant",
            COMPANY,
            "--scopes",
            "files:read",
        ])
        .await;
    server.admin(&["tenant", "create", "rival"]).await;
    let rival = server
        .admin(&[
            "key",
            "create",
            "--tenant",
            "rival",
            "--scopes",
            "files:read",
        ])
        .await;
    (Auth::bearer(key.trim()), Auth::bearer(rival.trim()))
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write a test file");
    format!("file=@{}", path.display())
}

fn timestamp(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a timestamp: {value}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_curl_sample_uploads_and_the_file_id_resolves() {
    let server = Server::start().await;
    let (reader, rival) = set_up(&server).await;
    let file = write(server.temp_dir(), "FileTest.pdf", &crate::fixtures::pdf());
    let credentials = format!("agent@{COMPANY}:s3cret-pass");

    let answer = curl(&server, Some(&credentials), true, &["-F", &file]).await;
    // curl replaced our bare multipart/form-data with one that has a boundary.
    assert!(
        answer
            .sent
            .lines()
            .any(|l| l.starts_with("> Content-Type: multipart/form-data; boundary=")),
        "what curl sent:\n{}",
        answer.sent
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    let file_id = body["fileID"].as_str().expect("fileID").to_owned();
    let now = Utc::now();
    let prefix = format!("s3://WS/{}/{}/", now.format("%Y"), now.format("%-m"));
    let hex = file_id
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{file_id} does not start with {prefix}"));
    assert!(
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{file_id}"
    );
    assert_eq!(body["fileName"], "FileTest.pdf");
    assert_eq!(body["idCompany"], COMPANY);
    assert_eq!(
        body["requestID"].as_str(),
        answer.header("x-request-id"),
        "requestID is the request's id"
    );
    assert_eq!(body.as_object().map(|o| o.len()), Some(4), "{body}");

    // The fileID resolves through the native API, for this tenant only.
    let path = format!("/v1/files/by-external-id?id={}", encode(&file_id));
    let stored = server
        .call(&reader, Method::GET, &path, None)
        .await
        .expect_status(200, "by external id")
        .json();
    assert_eq!(stored["external_id"], file_id.as_str());
    assert_eq!(stored["original_filename"], "FileTest.pdf");
    let kept = timestamp(&stored["expires_at"]) - timestamp(&stored["created_at"]);
    assert_eq!(kept.num_seconds(), 7 * 24 * 3600, "kept 7 days by default");
    server
        .call(&rival, Method::GET, &path, None)
        .await
        .expect_status(404, "another tenant's fileID");
    let unknown = format!(
        "/v1/files/by-external-id?id={}",
        encode(&format!("{prefix}{}", "0".repeat(32)))
    );
    server
        .call(&reader, Method::GET, &unknown, None)
        .await
        .expect_status(404, "an unknown fileID");

    // Without X-DEBUG there is no requestID.
    let plain = curl(&server, Some(&credentials), false, &["-F", &file]).await;
    assert_eq!(plain.status, 200, "{}", plain.body);
    let plain = plain.json();
    assert!(plain.get("requestID").is_none(), "{plain}");
    assert_ne!(
        plain["fileID"],
        file_id.as_str(),
        "every upload gets its own fileID"
    );

    // The project's own retention wins over the 7 days.
    server
        .admin(&[
            "project",
            "set-policy",
            "default",
            "--tenant",
            COMPANY,
            "--policy",
            r#"{"retention_seconds":3600}"#,
        ])
        .await;
    let hour = curl(&server, Some(&credentials), false, &["-F", &file])
        .await
        .json();
    let path = format!(
        "/v1/files/by-external-id?id={}",
        encode(hour["fileID"].as_str().expect("fileID"))
    );
    let stored = server
        .call(&reader, Method::GET, &path, None)
        .await
        .expect_status(200, "by external id")
        .json();
    let kept = timestamp(&stored["expires_at"]) - timestamp(&stored["created_at"]);
    assert_eq!(kept.num_seconds(), 3600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_bad_requests_answer_400_and_bad_credentials_401() {
    let server = Server::start().await;
    set_up(&server).await;
    let dir = server.temp_dir();
    let file = write(dir, "a.pdf", &crate::fixtures::pdf());
    let other = write(dir, "b.png", &crate::fixtures::png());
    let credentials = format!("agent@{COMPANY}:s3cret-pass");

    // (what, curl arguments, acceptable intake codes)
    let bad_requests: Vec<(&str, Vec<&str>, &[&str])> = vec![
        ("no file", vec!["-F", "note=hello"], &["missing_file"]),
        (
            "two files",
            vec!["-F", &file, "-F", &other],
            &["too_many_files"],
        ),
        (
            "a file under another name",
            vec!["-F", "attachment=@/dev/null"],
            &["unexpected_file"],
        ),
        // The seed's multipart header stays; a JSON body has no boundary.
        (
            "a JSON body",
            vec!["-H", "Content-Type: application/json", "--data", "{}"],
            &[
                "malformed_content_type",
                "unsupported_content_type",
                "missing_boundary",
            ],
        ),
        ("an empty body", vec!["--data", ""], &["missing_boundary"]),
        (
            "a truncated body",
            vec![
                "--data-binary",
                "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF",
            ],
            &["truncated_body"],
        ),
    ];
    for (what, args, code) in bad_requests {
        let answer = curl(&server, Some(&credentials), true, &args).await;
        assert_eq!(answer.status, 400, "{what}: {}", answer.body);
        let body = answer.json();
        assert_eq!(body["error"]["code"], 400, "{what}: {body}");
        assert!(
            body["error"]["type"]
                .as_str()
                .is_some_and(|t| code.contains(&t)),
            "{what}: {body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        assert_eq!(
            body["requestID"].as_str(),
            answer.header("x-request-id"),
            "{what}: {body}"
        );
    }

    for (what, credentials) in [
        ("wrong password", Some(format!("agent@{COMPANY}:nope"))),
        (
            "unknown company",
            Some("agent@nowhere:s3cret-pass".to_owned()),
        ),
        ("no credentials", None),
    ] {
        let answer = curl(&server, credentials.as_deref(), false, &["-F", &file]).await;
        assert_eq!(answer.status, 401, "{what}: {}", answer.body);
        assert_eq!(answer.json()["error"]["code"], 401, "{what}");
        assert!(
            answer
                .header("www-authenticate")
                .is_some_and(|v| v.starts_with("Basic")),
            "{what}"
        );
        assert!(
            answer.json().get("requestID").is_none(),
            "no X-DEBUG, no requestID"
        );
    }
}
