//! 001, library files, folders, contact lists and activities
//! (`/v2/library/…`, `/v2/lists…`, `/v2/contacts`, `/v2/activities/…`),
//! driven by the seed's own kind of client: Java with Apache HttpClient 4
//! and httpmime from Debian's `libhttpclient-java` and `libhttpmime-java`
//! (`/usr/share/java`). The two seed samples (`tests/clients/
//! LibraryFileUpload.java`, `RemoveFromLists.java`) are compiled with
//! `javac` into the test's temporary directory and run with `java`; a third
//! class in the same style (`LibraryApi.java`) makes folders, lists and
//! contacts and polls the `Location` each answer gives until the file is
//! `Active`/`VirusFound`/`Failed` or the activity `COMPLETE`/`ERROR`.
//!
//! Every success path goes through Java; raw HTTP is used for the error rows
//! the samples cannot produce (a body that is not multipart, a missing part),
//! and the native API to check what really happened: the bytes, the list
//! members, the counts. The servers scan with the test clamd
//! (`INTAKE_TEST_CLAMD`, started by `scripts/test.sh`).

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Server, run, str_field};
use crate::http::{Auth, Form, Reply};

/// The EICAR test file: every scanner reports it, it harms nothing.
const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// Debian's jars for Apache HttpClient 4 and httpmime, with what they need.
const JARS: [&str; 5] = [
    "httpclient",
    "httpmime",
    "httpcore",
    "commons-logging",
    "commons-codec",
];

/// How long the Java poller waits for a final status.
const POLL_SECONDS: &str = "60";

/// The seed's three privileges, and reading (to list and download).
const PRIVILEGES: &[&str] = &[
    "mylibrary:file:create",
    "mylibrary:folder:create",
    "contacts:write",
    "files:read",
];

// --- the Java clients ----------------------------------------------------------------------

/// The compiled clients and the classpath to run them with.
struct Java {
    classpath: String,
}

/// What a seed sample printed: the status line (with headers), the body.
#[derive(Debug)]
struct Sample {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Sample {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("the answer is not JSON ({e}): {self:?}"))
    }
}

/// What `LibraryApi POLL` printed.
#[derive(Debug)]
struct Polled {
    /// Each status (or comma-separated statuses) in the order seen.
    seen: Vec<String>,
    status: u16,
    body: Value,
}

impl Java {
    /// Compiles the three clients into the server's temporary directory.
    async fn compile(server: &Server) -> Java {
        let jars: Vec<PathBuf> = JARS
            .iter()
            .map(|j| Path::new("/usr/share/java").join(format!("{j}.jar")))
            .collect();
        if let Some(missing) = jars.iter().find(|j| !j.exists()) {
            panic!(
                "{} is missing: install libhttpclient-java libhttpmime-java (see scripts/ci-install.sh)",
                missing.display()
            );
        }
        let classes = server.temp_dir().join("java");
        std::fs::create_dir_all(&classes).expect("mkdir java");
        let clients = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
        let jar_path = jars
            .iter()
            .map(|j| j.display().to_string())
            .collect::<Vec<_>>()
            .join(":");
        let mut cmd = Command::new("javac");
        cmd.args(["-nowarn", "-encoding", "UTF-8", "-cp", &jar_path, "-d"])
            .arg(&classes);
        for class in ["LibraryFileUpload", "RemoveFromLists", "LibraryApi"] {
            cmd.arg(clients.join(format!("{class}.java")));
        }
        let out = match std::process::Command::new("javac").arg("-version").output() {
            Ok(_) => run(cmd, None).await,
            Err(e) => panic!(
                "javac not found ({e}): install default-jdk-headless (see scripts/ci-install.sh)"
            ),
        };
        assert!(
            out.status.success(),
            "javac failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Java {
            classpath: format!("{}:{jar_path}", classes.display()),
        }
    }

    /// Runs a class; returns its stdout (it must exit with `code`).
    async fn run(&self, class: &str, args: &[&str], code: i32) -> String {
        let mut cmd = Command::new("java");
        // Short-lived clients: start fast rather than optimise.
        cmd.args([
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-Xshare:auto",
        ])
        .args(["-cp", &self.classpath, class])
        .args(args);
        let out = run(cmd, None).await;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "java {class} {args:?}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// The first line is `HTTP/1.1 202 Accepted [headers…] entity`, the
    /// body is the last line.
    fn sample(stdout: &str) -> Sample {
        let mut lines = stdout.lines().filter(|l| !l.trim().is_empty());
        let first = lines.next().unwrap_or_default();
        let status = first
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {stdout:?}"));
        let lower = first.to_ascii_lowercase();
        let location = lower.find("location: ").map(|at| {
            let rest = &first[at + "location: ".len()..];
            let end = rest.find([',', ']']).unwrap_or(rest.len());
            rest[..end].trim().to_owned()
        });
        let body = stdout
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or_default();
        let body = if body == first || body.starts_with("org.apache.http") {
            String::new()
        } else {
            body.to_owned()
        };
        Sample {
            status,
            location,
            body,
        }
    }

    /// The seed's library upload: `file_type` JPG and `folder_id` -1 unless given.
    async fn upload(
        &self,
        server: &Server,
        token: &str,
        file: &Path,
        file_type: Option<&str>,
        folder_id: Option<&str>,
    ) -> Sample {
        self.upload_to(
            &server.url("/v2/library/files"),
            token,
            file,
            file_type,
            folder_id,
        )
        .await
    }

    async fn upload_to(
        &self,
        url: &str,
        token: &str,
        file: &Path,
        file_type: Option<&str>,
        folder_id: Option<&str>,
    ) -> Sample {
        let file = file.display().to_string();
        let mut args = vec![url, token, &file];
        let file_type = file_type.or(folder_id.map(|_| "JPG"));
        args.extend(file_type);
        args.extend(folder_id);
        Java::sample(&self.run("LibraryFileUpload", &args, 0).await)
    }

    /// The seed's removal: lists "1,4" unless given.
    async fn remove(
        &self,
        server: &Server,
        token: &str,
        file: &Path,
        lists: Option<&str>,
    ) -> Sample {
        let url = server.url("/v2/activities/removefromlists");
        let file = file.display().to_string();
        let mut args = vec![url.as_str(), token, &file];
        args.extend(lists);
        Java::sample(&self.run("RemoveFromLists", &args, 0).await)
    }

    /// `LibraryApi GET|POST`: (status, Location, body).
    async fn call(
        &self,
        method: &str,
        url: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Option<String>, Value) {
        let body = body.map(|b| b.to_string());
        let mut args = vec![method, url, token];
        args.extend(body.as_deref());
        let stdout = self.run("LibraryApi", &args, 0).await;
        let mut lines = stdout.lines();
        let status = lines
            .next()
            .and_then(|l| l.strip_prefix("STATUS "))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no STATUS in {stdout:?}"));
        let location = lines
            .next()
            .and_then(|l| l.strip_prefix("LOCATION "))
            .filter(|l| *l != "-")
            .map(str::to_owned);
        let text = lines.collect::<Vec<_>>().join("\n");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, location, body)
    }

    async fn get(&self, server: &Server, path: &str, token: &str) -> Value {
        let (status, _, body) = self.call("GET", &server.url(path), token, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    async fn post(
        &self,
        server: &Server,
        path: &str,
        token: &str,
        body: Value,
    ) -> (Option<String>, Value) {
        let (status, location, body) = self
            .call("POST", &server.url(path), token, Some(body))
            .await;
        assert_eq!(status, 201, "POST {path}: {body}");
        (location, body)
    }

    /// Polls a Location, as it came, until its status is final.
    async fn poll(&self, location: &str, token: &str) -> Polled {
        let stdout = self
            .run("LibraryApi", &["POLL", location, token, POLL_SECONDS], 0)
            .await;
        let mut seen = Vec::new();
        let mut status = None;
        let mut body = String::new();
        for line in stdout.lines() {
            if let Some(s) = line.strip_prefix("SEEN ") {
                seen.push(s.to_owned());
            } else if let Some(s) = line.strip_prefix("STATUS ") {
                status = s.parse().ok();
            } else if status.is_some() {
                body.push_str(line);
            }
        }
        Polled {
            seen,
            status: status.unwrap_or_else(|| panic!("no STATUS in {stdout:?}")),
            body: serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}")),
        }
    }
}

/// A request body and its Content-Type.
type RawBody = (Vec<u8>, String);

// --- set-up and checks ---------------------------------------------------------------------

/// A tenant `acme` (its `default` project is the library) with a key
/// holding the seed's privileges; returns (tenant admin, that key).
async fn set_up(server: &Server) -> (Auth, String) {
    let admin = server.create_tenant("acme").await;
    let token = key(server, &admin, PRIVILEGES).await;
    (admin, token)
}

/// A key of the tenant `admin` belongs to, with these scopes (the seed's
/// privilege names are accepted as they are).
async fn key(server: &Server, admin: &Auth, scopes: &[&str]) -> String {
    let reply = server
        .call(
            admin,
            Method::POST,
            "/v1/keys",
            Some(&json!({"name": scopes.join(" "), "scopes": scopes})),
        )
        .await
        .expect_status(201, "create a key");
    str_field(&reply.json(), "token")
}

/// Asserts the vendor's error shape: `[{"error_key", "error_message"}]`.
fn check_vendor(status: u16, body: &str, want_status: u16, want_key: &str) -> Result<(), String> {
    if status != want_status {
        return Err(format!(
            "expected {want_status} {want_key}, got {status} {body}"
        ));
    }
    let value: Value =
        serde_json::from_str(body).map_err(|_| format!("not JSON: {status} {body}"))?;
    let first = &value[0];
    if first["error_key"] != want_key {
        return Err(format!(
            "expected error_key {want_key}, got {status} {body}"
        ));
    }
    if first["error_message"].as_str().is_none_or(str::is_empty) {
        return Err(format!("no error_message: {body}"));
    }
    Ok(())
}

fn expect_vendor(reply: &Reply, status: u16, key: &str, what: &str) {
    if let Err(e) = check_vendor(reply.status, &reply.text(), status, key) {
        panic!("{what}: {e}");
    }
}

fn expect_sample_error(sample: &Sample, status: u16, key: &str, what: &str) {
    if let Err(e) = check_vendor(sample.status, &sample.body, status, key) {
        panic!("{what}: {e}");
    }
}

/// The file id at the end of an upload-status Location.
fn file_id(location: &str) -> String {
    location
        .rsplit('/')
        .next()
        .filter(|id| id.starts_with("file_"))
        .unwrap_or_else(|| panic!("no file id in {location}"))
        .to_owned()
}

/// Sorted addresses of a list, through the dialect (one page is enough here).
async fn dialect_members(java: &Java, server: &Server, token: &str, list: u32) -> Vec<String> {
    let page = java
        .get(
            server,
            &format!("/v2/lists/{list}/contacts?limit=500"),
            token,
        )
        .await;
    let mut members: Vec<String> = page["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {page}"))
        .iter()
        .map(|c| {
            c["email_addresses"][0]["email_address"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    members.sort();
    members
}

/// Sorted addresses of a list, through the native API.
async fn native_members(server: &Server, auth: &Auth, list: u32) -> Vec<String> {
    let page = server
        .call(
            auth,
            Method::GET,
            &format!("/v1/lists/{list}/members?limit=1000"),
            None,
        )
        .await
        .expect_status(200, "native members")
        .json();
    let mut members: Vec<String> = page["members"]
        .as_array()
        .unwrap_or_else(|| panic!("no members in {page}"))
        .iter()
        .map(|m| m.as_str().unwrap_or_default().to_owned())
        .collect();
    members.sort();
    members
}

fn strings(items: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

// --- test files ----------------------------------------------------------------------------

/// A JPEG header that sniffers and the inspector read: JFIF, then a
/// baseline frame of `width` × `height`.
fn jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut out = vec![0xff, 0xd8];
    out.extend_from_slice(&[0xff, 0xe0, 0, 16]);
    out.extend_from_slice(b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00");
    out.extend_from_slice(&[0xff, 0xc0, 0, 17, 8]);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    out.extend_from_slice(&[0xff, 0xda, 0, 2, 0xff, 0xd9]);
    out
}

/// A 1×1 GIF89a.
fn gif() -> Vec<u8> {
    let mut out = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff".to_vec();
    out.extend_from_slice(b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;");
    out
}

/// An OLE compound file as far as the sniffer and the inspector look.
fn ole() -> Vec<u8> {
    let mut out = vec![0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
    out.resize(1536, 0);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// A ZIP of stored (uncompressed) entries.
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = u32::try_from(out.len()).expect("small zip");
        let size = u32::try_from(data.len()).expect("small entry");
        let name_len = u16::try_from(name.len()).expect("short name");
        let crc = crc32(data);
        // version 20, no flags, stored, time 0, date 1980-01-01
        let common = |v: &mut Vec<u8>| {
            for part in [
                &20u16.to_le_bytes()[..],
                &[0, 0],
                &[0, 0],
                &[0, 0],
                &[0x21, 0],
            ] {
                v.extend_from_slice(part);
            }
            v.extend_from_slice(&crc.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&name_len.to_le_bytes());
            v.extend_from_slice(&[0, 0]); // extra
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // made by
        common(&mut central);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&[0; 4]); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let count = u16::try_from(entries.len()).expect("few entries");
    let cd_offset = u32::try_from(out.len()).expect("small zip");
    let cd_size = u32::try_from(central.len()).expect("small zip");
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

fn content_types(main: &str, content_type: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/{main}" ContentType="{content_type}"/></Types>"#
    )
}

fn docx(extra: &[(&str, &[u8])]) -> Vec<u8> {
    let types = content_types(
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    );
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", types.as_bytes()),
        ("word/document.xml", b"<w:document/>"),
    ];
    entries.extend_from_slice(extra);
    zip(&entries)
}

fn xlsx() -> Vec<u8> {
    let types = content_types(
        "xl/workbook.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    );
    zip(&[
        ("[Content_Types].xml", types.as_bytes()),
        (
            "xl/workbook.xml",
            b"<workbook><sheets><sheet name=\"One\"/><sheet name=\"Two\"/></sheets></workbook>",
        ),
    ])
}

fn pptx() -> Vec<u8> {
    let types = content_types(
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    );
    zip(&[
        ("[Content_Types].xml", types.as_bytes()),
        (
            "ppt/presentation.xml",
            b"<presentation><sldIdLst><sldId/><sldId/><sldId/></sldIdLst></presentation>",
        ),
    ])
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write a test file");
    path
}

// --- the tests -----------------------------------------------------------------------------

/// The seed's library sample, unchanged (file_type JPG, folder_id -1):
/// 202, an absolute Location polled until `Active`, the bytes readable
/// through the native API; then every listed file type, folders with a
/// parent and files listed per folder, EICAR to `VirusFound`, a package
/// that is no document to `Failed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn library_seed_sample_uploads_and_polls_to_active_virus_found_and_failed() {
    let server = Server::start_with(|cfg| {
        cfg.clamd();
    })
    .await;
    let (admin, token) = set_up(&server).await;
    let java = Java::compile(&server).await;
    let dir = server.temp_dir().join("library");
    std::fs::create_dir_all(&dir).expect("mkdir");

    // The seed's sample as it is: a JPG into the root (folder_id -1).
    let plate = jpeg(800, 600);
    let path = write(&dir, "dinnerplate-special.jpg", &plate);
    let sample = java.upload(&server, &token, &path, None, None).await;
    assert_eq!(sample.status, 202, "{sample:?}");
    let location = sample.location.clone().expect("a Location");
    assert!(
        location.starts_with(&server.url("/v2/library/files/uploadstatus/file_")),
        "an absolute Location to the upload status: {location}"
    );
    let id = file_id(&location);
    let answer = sample.json();
    assert_eq!(answer["id"], id.as_str(), "{answer}");
    assert_eq!(answer["name"], "dinnerplate-special.jpg", "{answer}");
    assert_eq!(answer["description"], "Oppa Gangnam Style", "{answer}");
    assert_eq!(answer["source"], "MYCOMPUTER", "{answer}");
    assert_eq!(answer["file_type"], "JPG", "{answer}");
    assert_eq!(answer["folder_id"], "0", "-1 is the root: {answer}");
    assert_eq!(answer["size"], plate.len(), "{answer}");
    assert!(
        ["Processing", "Active"].contains(&answer["status"].as_str().unwrap_or_default()),
        "{answer}"
    );

    // Polled with the same kind of client, at the Location as it came.
    let polled = java.poll(&location, &token).await;
    assert_eq!(polled.status, 200, "{polled:?}");
    assert_eq!(polled.seen.last().map(String::as_str), Some("Active"));
    assert!(
        polled
            .seen
            .iter()
            .all(|s| s == "Processing" || s == "Active"),
        "{polled:?}"
    );
    assert_eq!(polled.body[0]["file_id"], id.as_str(), "{polled:?}");

    // The bytes, through the native API once ready; the scan ran.
    let content = server
        .call(
            &admin,
            Method::GET,
            &format!("/v1/files/{id}/content"),
            None,
        )
        .await
        .expect_status(200, "the library file's content");
    assert_eq!(&content.body[..], &plate[..], "the bytes as sent");
    let native = server
        .call(&admin, Method::GET, &format!("/v1/files/{id}"), None)
        .await
        .expect_status(200, "the file in the native API")
        .json();
    assert_eq!(native["status"], "ready", "{native}");
    assert_eq!(native["metadata"]["description"], "Oppa Gangnam Style");
    let scan = native["tasks"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "scan"))
        .unwrap_or_else(|| panic!("no scan task: {native}"));
    assert_eq!(scan["result"]["verdict"], "clean", "{native}");
    // The library's own view, with what inspection found.
    let file = java
        .get(&server, &format!("/v2/library/files/{id}"), &token)
        .await;
    assert_eq!(
        (file["width"].as_u64(), file["height"].as_u64()),
        (Some(800), Some(600))
    );
    assert_eq!(file["status"], "Active", "{file}");

    // Folders: one at the root, one inside it.
    let (folder_location, specials) = java
        .post(
            &server,
            "/v2/library/folders",
            &token,
            json!({"name": "Specials", "parent_id": "0"}),
        )
        .await;
    let specials_id = str_field(&specials, "id");
    assert_eq!(
        folder_location.as_deref(),
        Some(&*server.url(&format!("/v2/library/folders/{specials_id}")))
    );
    assert_eq!(
        (specials["level"].as_u64(), &specials["parent_id"]),
        (Some(1), &json!("0"))
    );
    let (_, year) = java
        .post(
            &server,
            "/v2/library/folders",
            &token,
            json!({"name": "2026", "parent_id": specials_id}),
        )
        .await;
    let year_id = str_field(&year, "id");
    assert_eq!(year["parent_id"], specials_id.as_str(), "{year}");
    assert_eq!(year["level"], 2, "{year}");
    let tree = java
        .get(
            &server,
            &format!("/v2/library/folders/{specials_id}"),
            &token,
        )
        .await;
    assert_eq!(tree["children"][0]["id"], year_id.as_str(), "{tree}");
    let all = java.get(&server, "/v2/library/folders", &token).await;
    assert_eq!(all["results"][0]["children"][0]["name"], "2026", "{all}");

    // Every file type the seed lists, the nested folder for the images.
    let cases: [(&str, &str, Vec<u8>, Option<&str>); 10] = [
        ("JPEG", "menu.jpeg", jpeg(64, 48), Some(year_id.as_str())),
        ("GIF", "dot.gif", gif(), Some(year_id.as_str())),
        (
            "PNG",
            "dot.png",
            crate::fixtures::png(),
            Some(year_id.as_str()),
        ),
        ("PDF", "flyer.pdf", crate::fixtures::pdf(), Some("0")),
        ("DOC", "recipe.doc", ole(), Some("0")),
        ("DOCX", "recipe.docx", docx(&[]), Some("0")),
        ("XLS", "prices.xls", ole(), Some("0")),
        ("XLSX", "prices.xlsx", xlsx(), Some("0")),
        ("PPT", "slides.ppt", ole(), Some("0")),
        ("PPTX", "slides.pptx", pptx(), Some("0")),
    ];
    let mut ids = Vec::new();
    for (file_type, name, bytes, folder) in &cases {
        let path = write(&dir, name, bytes);
        let sample = java
            .upload(&server, &token, &path, Some(file_type), *folder)
            .await;
        assert_eq!(sample.status, 202, "{file_type}: {sample:?}");
        let location = sample.location.expect("a Location");
        ids.push(file_id(&location));
    }
    // The vendor's upload status takes several ids at once.
    let status_url = server.url(&format!("/v2/library/files/uploadstatus/{}", ids.join(",")));
    let polled = java.poll(&status_url, &token).await;
    let statuses: Vec<&str> = polled
        .body
        .as_array()
        .expect("an array")
        .iter()
        .map(|s| s["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(statuses, vec!["Active"; cases.len()], "{polled:?}");
    let listed = java
        .get(&server, "/v2/library/files?limit=100", &token)
        .await;
    for (id, (file_type, name, bytes, folder)) in ids.iter().zip(&cases) {
        let file = listed["results"]
            .as_array()
            .and_then(|files| files.iter().find(|f| f["id"] == id.as_str()))
            .unwrap_or_else(|| panic!("{name} is not listed: {listed}"));
        assert_eq!(file["file_type"], *file_type, "{file}");
        assert_eq!(file["name"], *name, "{file}");
        assert_eq!(file["folder_id"], folder.unwrap_or("0"), "{file}");
        let content = server
            .call(
                &admin,
                Method::GET,
                &format!("/v1/files/{id}/content"),
                None,
            )
            .await
            .expect_status(200, "content");
        assert_eq!(&content.body[..], &bytes[..], "{name}");
    }

    // Files listed per folder: the nested folder holds the three images,
    // the root the sample's JPG and the documents, the whole library all.
    let names = |page: &Value| -> Vec<String> {
        let mut names: Vec<String> = page["results"]
            .as_array()
            .unwrap_or_else(|| panic!("no results: {page}"))
            .iter()
            .map(|f| f["name"].as_str().unwrap_or_default().to_owned())
            .collect();
        names.sort();
        names
    };
    let in_year = java
        .get(
            &server,
            &format!("/v2/library/folders/{year_id}/files"),
            &token,
        )
        .await;
    assert_eq!(
        names(&in_year),
        strings(&["dot.gif", "dot.png", "menu.jpeg"])
    );
    let in_specials = java
        .get(
            &server,
            &format!("/v2/library/folders/{specials_id}/files"),
            &token,
        )
        .await;
    assert_eq!(names(&in_specials), Vec::<String>::new());
    let at_root = java
        .get(&server, "/v2/library/files?folder_id=0", &token)
        .await;
    assert_eq!(names(&at_root).len(), 8, "{at_root}");
    assert!(names(&at_root).contains(&"dinnerplate-special.jpg".to_owned()));
    // A page at a time, following next_link.
    let mut seen = Vec::new();
    let mut next = Some("/v2/library/files?limit=4".to_owned());
    while let Some(path) = next {
        let page = java.get(&server, &path, &token).await;
        seen.extend(names(&page));
        next = page["meta"]["pagination"]["next_link"]
            .as_str()
            .map(str::to_owned);
    }
    seen.sort();
    assert_eq!(seen.len(), 11, "{seen:?}");
    seen.dedup();
    assert_eq!(seen.len(), 11, "no file twice: {seen:?}");

    // EICAR inside a DOCX: the scan finds it, the status says VirusFound,
    // and its bytes are not served.
    let infected = write(
        &dir,
        "infected.docx",
        &docx(&[("word/media/eicar.com", EICAR)]),
    );
    let sample = java
        .upload(&server, &token, &infected, Some("DOCX"), None)
        .await;
    assert_eq!(sample.status, 202, "{sample:?}");
    let location = sample.location.expect("a Location");
    let polled = java.poll(&location, &token).await;
    assert_eq!(
        polled.seen.last().map(String::as_str),
        Some("VirusFound"),
        "{polled:?}"
    );
    let infected_id = file_id(&location);
    let native = server
        .call(
            &admin,
            Method::GET,
            &format!("/v1/files/{infected_id}"),
            None,
        )
        .await
        .expect_status(200, "the infected file")
        .json();
    assert_eq!(native["status"], "infected", "{native}");
    server
        .call(
            &admin,
            Method::GET,
            &format!("/v1/files/{infected_id}/content"),
            None,
        )
        .await
        .expect_problem(409, "file_infected", "infected content");

    // A DOCX that is no document: accepted (the bytes are a ZIP), then Failed.
    let hollow = write(
        &dir,
        "hollow.docx",
        &zip(&[("readme.txt", b"not a document")]),
    );
    let sample = java
        .upload(&server, &token, &hollow, Some("DOCX"), None)
        .await;
    assert_eq!(sample.status, 202, "{sample:?}");
    let polled = java
        .poll(&sample.location.expect("a Location"), &token)
        .await;
    assert_eq!(
        polled.seen.last().map(String::as_str),
        Some("Failed"),
        "{polled:?}"
    );
    assert!(
        polled.body[0]["description"]
            .as_str()
            .is_some_and(|d| d.contains("rejected")),
        "{polled:?}"
    );

    // The key that may only create files polls its own upload (the seed's
    // client holds mylibrary:file:create alone).
    let writer = key(&server, &admin, &["mylibrary:file:create"]).await;
    let sample = java.upload(&server, &writer, &path, None, None).await;
    assert_eq!(sample.status, 202, "{sample:?}");
    let polled = java
        .poll(&sample.location.expect("a Location"), &writer)
        .await;
    assert_eq!(
        polled.seen.last().map(String::as_str),
        Some("Active"),
        "{polled:?}"
    );

    // The api_key query parameter the seed lists, instead of the header.
    let sample = java
        .upload_to(
            &server.url(&format!("/v2/library/files?api_key={token}")),
            "",
            &path,
            None,
            None,
        )
        .await;
    assert_eq!(sample.status, 202, "api_key: {sample:?}");
    server.assert_no_staging_or_orphans().await;
}

/// Contact lists made in both APIs, addresses added in both, then the
/// seed's removal sample (lists 1 and 4) polled until COMPLETE: the right
/// addresses gone from the right lists and nowhere else, the counts right.
/// Then files the activity refuses (another column, a label, over 20,000
/// addresses, over 4 MB) end ERROR with their errors and change nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_from_lists_seed_sample_polls_to_complete_and_error() {
    let server = Server::start_with(|cfg| {
        cfg.clamd();
    })
    .await;
    let (admin, token) = set_up(&server).await;
    // The library refuses duplicate files; import files are not library files.
    server
        .call(
            &admin,
            Method::PATCH,
            "/v1/projects/default",
            Some(&json!({"policy": {"duplicates": "reject"}})),
        )
        .await
        .expect_status(200, "set the library's policy");
    let java = Java::compile(&server).await;
    let dir = server.temp_dir().join("lists");
    std::fs::create_dir_all(&dir).expect("mkdir");

    // Lists 1 to 3 in this dialect, list 4 in the native API.
    for (n, name) in ["Newsletter", "Dinner club", "Specials"].iter().enumerate() {
        let (location, list) = java
            .post(
                &server,
                "/v2/lists",
                &token,
                json!({"name": name, "status": "ACTIVE"}),
            )
            .await;
        assert_eq!(list["id"], (n + 1).to_string(), "{list}");
        assert_eq!(
            location.as_deref(),
            Some(&*server.url(&format!("/v2/lists/{}", n + 1)))
        );
    }
    let native = server
        .call(
            &admin,
            Method::POST,
            "/v1/lists",
            Some(&json!({"name": "VIP"})),
        )
        .await
        .expect_status(201, "a native list")
        .json();
    assert_eq!(native["id"], 4, "{native}");

    // Addresses: through the dialect's contacts and the native members.
    for (email, lists) in [
        (
            "a@example.com",
            json!([{"id": "1"}, {"id": "2"}, {"id": "4"}]),
        ),
        ("b@example.com", json!([{"id": "1"}])),
        ("C@Example.com", json!([{"id": 4}])),
    ] {
        java.post(
            &server,
            "/v2/contacts",
            &token,
            json!({"email_addresses": [{"email_address": email}], "lists": lists}),
        )
        .await;
    }
    server
        .call(
            &admin,
            Method::POST,
            "/v1/lists/4/members",
            Some(&json!({"emails": ["d@example.com", "a@example.com"]})),
        )
        .await
        .expect_status(200, "native members");
    assert_eq!(
        dialect_members(&java, &server, &token, 1).await,
        strings(&["a@example.com", "b@example.com"])
    );
    assert_eq!(
        native_members(&server, &admin, 4).await,
        strings(&["a@example.com", "c@example.com", "d@example.com"])
    );

    // The seed's sample: contacts.txt, lists 1 and 4.
    let contacts = write(
        &dir,
        "contacts.txt",
        b"a@example.com\r\nc@example.com\r\nnobody@example.com\r\n",
    );
    let sample = java.remove(&server, &token, &contacts, None).await;
    assert_eq!(sample.status, 201, "{sample:?}");
    let location = sample.location.clone().expect("a Location");
    assert!(
        location.starts_with(&server.url("/v2/activities/act_")),
        "an absolute Location to the activity: {location}"
    );
    let answer = sample.json();
    assert_eq!(answer["type"], "REMOVE_CONTACTS_FROM_LISTS", "{answer}");
    let polled = java.poll(&location, &token).await;
    assert_eq!(
        polled.seen.last().map(String::as_str),
        Some("COMPLETE"),
        "{polled:?}"
    );
    let activity = &polled.body;
    assert_eq!(activity["file_name"], "contacts.txt", "{activity}");
    assert_eq!(activity["lists"], json!(["1", "4"]), "{activity}");
    assert_eq!(activity["contact_count"], 3, "{activity}");
    assert_eq!(activity["removed_count"], 2, "{activity}");
    assert_eq!(activity["not_found_count"], 1, "{activity}");
    assert_eq!(activity["error_count"], 0, "{activity}");
    // Gone from lists 1 and 4, still on list 2 (not named), others kept.
    assert_eq!(
        dialect_members(&java, &server, &token, 1).await,
        strings(&["b@example.com"])
    );
    assert_eq!(
        dialect_members(&java, &server, &token, 2).await,
        strings(&["a@example.com"])
    );
    assert_eq!(
        native_members(&server, &admin, 4).await,
        strings(&["d@example.com"])
    );
    let lists = java.get(&server, "/v2/lists", &token).await;
    let counts: Vec<u64> = lists
        .as_array()
        .expect("an array")
        .iter()
        .map(|l| l["contact_count"].as_u64().unwrap_or(99))
        .collect();
    assert_eq!(counts, vec![1, 1, 0, 1], "{lists}");
    // The native API sees the same activity.
    let id = location.rsplit('/').next().unwrap_or_default();
    let native = server
        .call(&admin, Method::GET, &format!("/v1/activities/{id}"), None)
        .await
        .expect_status(200, "the activity in the native API")
        .json();
    assert_eq!(
        (
            &native["status"],
            &native["removed_count"],
            &native["not_found_count"]
        ),
        (&json!("COMPLETE"), &json!(2), &json!(1)),
        "{native}"
    );
    // The import file is no library file.
    let library = java.get(&server, "/v2/library/files", &token).await;
    assert_eq!(library["results"], json!([]), "{library}");

    // The same file again (the library refuses duplicates; an import file
    // is not one): nothing left to remove.
    let sample = java.remove(&server, &token, &contacts, None).await;
    assert_eq!(sample.status, 201, "the same import again: {sample:?}");
    let polled = java
        .poll(&sample.location.expect("a Location"), &token)
        .await;
    assert_eq!(
        (
            polled.body["status"].as_str(),
            polled.body["removed_count"].as_u64(),
            polled.body["not_found_count"].as_u64()
        ),
        (Some("COMPLETE"), Some(0), Some(3)),
        "{polled:?}"
    );

    // A CSV of addresses, comma-separated, any case, from list 2.
    let csv = write(
        &dir,
        "unsubscribe.csv",
        b"\"A@Example.com\",x@example.com\r\n",
    );
    let sample = java.remove(&server, &token, &csv, Some("2")).await;
    assert_eq!(sample.status, 201, "{sample:?}");
    let polled = java
        .poll(&sample.location.expect("a Location"), &token)
        .await;
    assert_eq!(polled.body["status"], "COMPLETE", "{polled:?}");
    assert_eq!(polled.body["removed_count"], 1, "{polled:?}");
    assert_eq!(
        dialect_members(&java, &server, &token, 2).await,
        Vec::<String>::new()
    );

    // Files the activity refuses: they end ERROR and change nothing.
    let before = (
        dialect_members(&java, &server, &token, 1).await,
        native_members(&server, &admin, 4).await,
    );
    let many: String = (0..=20_000)
        .map(|i| format!("u{i}@example.com\n"))
        .collect();
    let mut huge = b"b@example.com\n".to_vec();
    huge.resize(4 * 1024 * 1024 + 10, b'\n');
    let rows: [(&str, Vec<u8>, &str, u64); 4] = [
        (
            "with-names.csv",
            b"b@example.com,Bob\r\nd@example.com\r\n".to_vec(),
            "\"Bob\" is not an e-mail address",
            1,
        ),
        (
            "labelled.csv",
            b"email\nb@example.com\nd@example.com\n".to_vec(),
            "\"email\" is not an e-mail address",
            1,
        ),
        ("many.txt", many.into_bytes(), "20001 addresses", 1),
        ("huge.txt", huge, "smaller than 4 MB", 1),
    ];
    for (name, bytes, message, errors) in rows {
        let path = write(&dir, name, &bytes);
        let sample = java.remove(&server, &token, &path, None).await;
        assert_eq!(sample.status, 201, "{name}: {sample:?}");
        let polled = java
            .poll(&sample.location.expect("a Location"), &token)
            .await;
        let activity = &polled.body;
        assert_eq!(
            polled.seen.last().map(String::as_str),
            Some("ERROR"),
            "{name}: {polled:?}"
        );
        assert_eq!(activity["error_count"], errors, "{name}: {activity}");
        assert_eq!(activity["removed_count"], 0, "{name}: {activity}");
        assert!(
            activity["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains(message)),
            "{name}: expected an error with {message:?}: {activity}"
        );
    }
    // Line numbers point at the offending line.
    let labelled = write(&dir, "labelled-again.csv", b"email\nb@example.com\n");
    let sample = java.remove(&server, &token, &labelled, None).await;
    let polled = java
        .poll(&sample.location.expect("a Location"), &token)
        .await;
    assert_eq!(polled.body["errors"][0]["line_number"], 1, "{polled:?}");
    assert_eq!(
        polled.body["errors"][0]["email_address"], "email",
        "{polled:?}"
    );
    assert_eq!(
        (
            dialect_members(&java, &server, &token, 1).await,
            native_members(&server, &admin, 4).await,
        ),
        before,
        "refused files change nothing"
    );
    server.assert_no_staging_or_orphans().await;
}

/// Every error row: the seed's 400, 401 and 500, the privileges as 403,
/// unknown resources as 404, an oversized removal as 413, in the vendor's
/// `[{"error_key","error_message"}]`; through the Java samples where they
/// can produce it, raw HTTP otherwise. None leaves a file behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn library_error_rows() {
    let server = Server::start().await;
    let (admin, token) = set_up(&server).await;
    let auth = Auth::bearer(&token);
    let java = Java::compile(&server).await;
    let dir = server.temp_dir().join("errors");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let png = crate::fixtures::png();
    let image = write(&dir, "image.png", &png);
    let contacts = write(&dir, "contacts.txt", b"a@example.com\n");
    java.post(&server, "/v2/lists", &token, json!({"name": "One"}))
        .await;

    // 401 through the samples: a token that is no key, an api_key that is none.
    let sample = java
        .upload(
            &server,
            "70e8e17d-e1ed-4b7a-8a8a-40383d74d467",
            &image,
            Some("PNG"),
            None,
        )
        .await;
    expect_sample_error(&sample, 401, "http.status.unauthorized", "a bad token");
    let sample = java
        .upload_to(
            &server.url("/v2/library/files?api_key=nope"),
            "",
            &image,
            Some("PNG"),
            None,
        )
        .await;
    expect_sample_error(&sample, 401, "http.status.unauthorized", "a bad api_key");
    let sample = java
        .remove(
            &server,
            "5e35af38-7b63-47cac-b484-20c4ff4d09c8",
            &contacts,
            Some("1"),
        )
        .await;
    expect_sample_error(
        &sample,
        401,
        "http.status.unauthorized",
        "removal, bad token",
    );

    // 400 through the samples: the seed's default file_type (JPG) with PNG
    // bytes, a list that does not exist.
    let sample = java.upload(&server, &token, &image, None, None).await;
    expect_sample_error(&sample, 400, "file_type_mismatch", "JPG with PNG bytes");
    let sample = java.remove(&server, &token, &contacts, None).await;
    expect_sample_error(
        &sample,
        400,
        "unknown_list",
        "lists 1,4 where 4 does not exist",
    );
    let sample = java
        .upload(&server, &token, &image, Some("PNG"), Some("42"))
        .await;
    expect_sample_error(
        &sample,
        400,
        "invalid_folder_id",
        "a folder that does not exist",
    );

    // 400 rows in raw HTTP: (what, path, body, content type, error_key).
    let library = "/v2/library/files";
    let removal = "/v2/activities/removefromlists";
    let upload = |fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>| {
        let mut form = Form::new();
        for (name, value) in fields {
            form = form.field(name, value);
        }
        if let Some((field, name, bytes)) = file {
            form = form.file(field, name.as_bytes(), "application/octet-stream", bytes);
        }
        let content_type = form.content_type();
        (form.finish(), content_type)
    };
    let ok_fields: &[(&str, &str)] = &[
        ("file_name", "image.png"),
        ("folder_id", "0"),
        ("file_type", "PNG"),
    ];
    let rows: Vec<(&str, &str, RawBody, &str)> = vec![
        (
            "JSON body",
            library,
            (b"{}".to_vec(), "application/json".into()),
            "unsupported_content_type",
        ),
        (
            "no file_type",
            library,
            upload(&[("folder_id", "0")], Some(("data", "image.png", &png))),
            "missing_file_type",
        ),
        (
            "file_type outside the list",
            library,
            upload(&[("file_type", "TIFF")], Some(("data", "image.png", &png))),
            "invalid_file_type",
        ),
        (
            "no data part",
            library,
            upload(ok_fields, None),
            "missing_file",
        ),
        (
            "file in another part",
            library,
            upload(ok_fields, Some(("file", "image.png", &png))),
            "unexpected_file",
        ),
        (
            "folder_id not a number",
            library,
            upload(
                &[("file_type", "PNG"), ("folder_id", "abc")],
                Some(("data", "image.png", &png)),
            ),
            "invalid_folder_id",
        ),
        (
            "unknown source",
            library,
            upload(
                &[("file_type", "PNG"), ("source", "FLOPPY")],
                Some(("data", "image.png", &png)),
            ),
            "invalid_source",
        ),
        (
            "extension against the bytes",
            library,
            upload(&[("file_type", "PNG")], Some(("data", "image.pdf", &png))),
            "format_mismatch",
        ),
        (
            "removal, no lists",
            removal,
            upload(
                &[("file_name", "contacts.txt")],
                Some(("data", "contacts.txt", b"a@example.com")),
            ),
            "missing_lists",
        ),
        (
            "removal, lists not ids",
            removal,
            upload(
                &[("lists", "one")],
                Some(("data", "contacts.txt", b"a@example.com")),
            ),
            "invalid_lists",
        ),
        (
            "removal, not .txt or .csv",
            removal,
            upload(
                &[("lists", "1"), ("file_name", "contacts.xlsx")],
                Some(("data", "contacts.xlsx", b"a@example.com")),
            ),
            "invalid_file_name",
        ),
        (
            "removal, no data",
            removal,
            upload(&[("lists", "1"), ("file_name", "contacts.txt")], None),
            "missing_file",
        ),
        (
            "removal, JSON body",
            removal,
            (b"{}".to_vec(), "application/json".into()),
            "unsupported_content_type",
        ),
    ];
    let mut failures = Vec::new();
    for (what, path, (body, content_type), key) in &rows {
        let reply = Reply::from(
            server
                .request(&auth, Method::POST, path)
                .header("content-type", content_type)
                .body(body.clone()),
        )
        .await;
        if let Err(e) = check_vendor(reply.status, &reply.text(), 400, key) {
            failures.push(format!("{what}: {e}"));
        }
    }
    // Malformed and invalid JSON for folders, lists and contacts.
    for (path, body, key) in [
        ("/v2/library/folders", "{\"name\":", "invalid_json"),
        (
            "/v2/library/folders",
            "{\"parent_id\":\"0\"}",
            "invalid_json",
        ),
        (
            "/v2/library/folders",
            "{\"name\":\"x\",\"parent_id\":\"99\"}",
            "invalid_parent_id",
        ),
        (
            "/v2/lists",
            "{\"name\":\"x\",\"status\":\"SOMETIMES\"}",
            "invalid_status",
        ),
        (
            "/v2/contacts",
            "{\"email_addresses\":[{\"email_address\":\"not an address\"}],\"lists\":[{\"id\":\"1\"}]}",
            "invalid_email",
        ),
        (
            "/v2/contacts",
            "{\"email_addresses\":[{\"email_address\":\"z@example.com\"}],\"lists\":[{\"id\":\"1\"},{\"id\":\"9\"}]}",
            "unknown_list",
        ),
    ] {
        let reply = Reply::from(
            server
                .request(&auth, Method::POST, path)
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
        if let Err(e) = check_vendor(reply.status, &reply.text(), 400, key) {
            failures.push(format!("{path} {body}: {e}"));
        }
    }
    assert!(failures.is_empty(), "400 rows:\n{}", failures.join("\n"));
    // The contact with an unknown list changed nothing.
    assert_eq!(
        native_members(&server, &admin, 1).await,
        Vec::<String>::new()
    );

    // 401 for every resource, and its header.
    for (method, path) in [
        (Method::POST, library),
        (Method::GET, "/v2/library/files"),
        (Method::POST, "/v2/library/folders"),
        (Method::POST, removal),
        (Method::GET, "/v2/activities/act_x"),
        (Method::GET, "/v2/lists"),
    ] {
        let reply = server.call(&Auth::None, method.clone(), path, None).await;
        expect_vendor(&reply, 401, "http.status.unauthorized", path);
        assert!(
            reply
                .header("www-authenticate")
                .is_some_and(|h| h.starts_with("Bearer")),
            "{path}: {:?}",
            reply.headers
        );
    }

    // 403: each privilege is its own scope.
    let reader = key(&server, &admin, &["files:read"]).await;
    let files_only = key(&server, &admin, &["mylibrary:file:create"]).await;
    let lists_only = key(&server, &admin, &["contacts:write"]).await;
    let sample = java
        .upload(&server, &reader, &image, Some("PNG"), None)
        .await;
    expect_sample_error(
        &sample,
        403,
        "http.status.forbidden",
        "upload without mylibrary:file:create",
    );
    let sample = java
        .upload(&server, &lists_only, &image, Some("PNG"), None)
        .await;
    expect_sample_error(
        &sample,
        403,
        "http.status.forbidden",
        "upload with contacts:write only",
    );
    let sample = java
        .remove(&server, &files_only, &contacts, Some("1"))
        .await;
    expect_sample_error(
        &sample,
        403,
        "http.status.forbidden",
        "removal without contacts:write",
    );
    for (token, path, body) in [
        (&files_only, "/v2/library/folders", json!({"name": "x"})),
        (&reader, "/v2/library/folders", json!({"name": "x"})),
        (&files_only, "/v2/lists", json!({"name": "x"})),
        (
            &reader,
            "/v2/contacts",
            json!({"email_addresses": [{"email_address": "q@example.com"}], "lists": [{"id": "1"}]}),
        ),
    ] {
        let reply = server
            .call(&Auth::bearer(token), Method::POST, path, Some(&body))
            .await;
        expect_vendor(&reply, 403, "http.status.forbidden", path);
    }
    // The folder privilege makes folders, and nothing else.
    let folders_only = key(&server, &admin, &["mylibrary:folder:create"]).await;
    let (status, _, body) = java
        .call(
            "POST",
            &server.url("/v2/library/folders"),
            &folders_only,
            Some(json!({"name": "Only folders"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let sample = java
        .upload(&server, &folders_only, &image, Some("PNG"), None)
        .await;
    expect_sample_error(
        &sample,
        403,
        "http.status.forbidden",
        "upload with the folder privilege",
    );

    // 404: unknown ids, and another tenant's.
    let other = server.create_tenant("other").await;
    let other_token = key(&server, &other, PRIVILEGES).await;
    let sample = java
        .upload(&server, &other_token, &image, Some("PNG"), None)
        .await;
    assert_eq!(sample.status, 202, "{sample:?}");
    let foreign = sample.location.expect("a Location");
    let foreign_id = file_id(&foreign);
    for path in [
        format!("/v2/library/files/uploadstatus/{foreign_id}"),
        format!("/v2/library/files/{foreign_id}"),
        "/v2/library/files/uploadstatus/file_nope".to_owned(),
        "/v2/library/folders/77".to_owned(),
        "/v2/library/folders/77/files".to_owned(),
        "/v2/lists/9".to_owned(),
        "/v2/lists/9/contacts".to_owned(),
        "/v2/activities/act_nope".to_owned(),
    ] {
        let reply = server.call(&auth, Method::GET, &path, None).await;
        expect_vendor(&reply, 404, "http.status.not_found", &path);
    }
    let sample = java
        .remove(&server, &other_token, &contacts, Some("1"))
        .await;
    expect_sample_error(&sample, 400, "unknown_list", "another tenant's list 1");

    // 413: a removal body over the 16 MiB cap is refused while it streams.
    // Only just over, so the sample has written all of it (into the socket
    // buffers) before the server answers and closes: HttpClient 4 reads the
    // answer only once its request is sent.
    let big = write(&dir, "big.txt", &vec![b'\n'; 16 * 1024 * 1024 + 64 * 1024]);
    let sample = java.remove(&server, &token, &big, Some("1")).await;
    expect_sample_error(
        &sample,
        413,
        "http.status.payload_too_large",
        "a removal file over 16 MiB",
    );

    // 500: the storage fails (its staging directory is a file).
    let staging = server.data_dir().join("staging");
    let aside = server.data_dir().join("staging.aside");
    std::fs::rename(&staging, &aside).expect("move staging aside");
    std::fs::write(&staging, b"not a directory").expect("block staging");
    let sample = java
        .upload(&server, &token, &image, Some("PNG"), None)
        .await;
    std::fs::remove_file(&staging).expect("unblock staging");
    std::fs::rename(&aside, &staging).expect("restore staging");
    if let Err(e) = check_vendor(
        sample.status,
        &sample.body,
        500,
        "http.status.internal_error",
    ) {
        panic!("a storage failure: {e}");
    }
    assert_eq!(
        sample.json()[0]["error_message"],
        "Internal server error occurred"
    );

    // Nothing refused was kept: only the other tenant's file and, here, none.
    let files = server.all_files(&admin).await;
    assert_eq!(files.len(), 0, "{files:?}");
    server.assert_no_staging_or_orphans().await;
}
