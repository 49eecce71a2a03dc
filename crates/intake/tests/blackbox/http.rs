//! HTTP vocabulary of the tests: credentials ([`Auth`]), answers
//! ([`Reply`]) with assertions on the problem format, and a hand-made
//! multipart builder ([`Form`]) so tests control every byte of a part's
//! headers (file names with NUL, missing names, huge headers…), which
//! reqwest's own multipart would escape or refuse.

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

use crate::harness::Server;

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Bearer(String),
    Basic(String, String),
}

impl Auth {
    pub fn bearer(token: &str) -> Auth {
        Auth::Bearer(token.to_owned())
    }

    pub fn apply(&self, request: RequestBuilder) -> RequestBuilder {
        match self {
            Auth::None => request,
            Auth::Bearer(token) => request.bearer_auth(token),
            Auth::Basic(user, password) => request.basic_auth(user, Some(password)),
        }
    }
}

/// A whole answer, read before any assertion.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Reply {
    /// Sends `request` and reads the whole answer; a transport error panics.
    pub async fn from(request: RequestBuilder) -> Reply {
        let response = request
            .send()
            .await
            .expect("the request reached the server");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("read the response body");
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    pub fn expect_status(self, status: u16, what: &str) -> Reply {
        assert_eq!(
            self.status,
            status,
            "{what}: expected {status}, got {} with {}",
            self.status,
            self.text()
        );
        self
    }

    /// Asserts a successful upload: 201 when processing is done, or 202
    /// with a `Location` to poll while it runs (design.md §3).
    pub fn expect_uploaded(self, what: &str) -> Reply {
        match self.status {
            201 => {}
            202 => assert!(
                self.header("location").is_some(),
                "{what}: 202 without Location"
            ),
            other => panic!(
                "{what}: expected 201 or 202, got {other} with {}",
                self.text()
            ),
        }
        self
    }

    /// Asserts an RFC 9457 problem with this status and code.
    pub fn expect_problem(&self, status: u16, code: &str, what: &str) {
        if let Err(e) = self.check_problem(status, &[code]) {
            panic!("{what}: {e}");
        }
    }

    /// Like [`Reply::expect_problem`], returning the mismatch instead of
    /// panicking, for table-driven tests that report every failing row.
    pub fn check_problem(&self, status: u16, codes: &[&str]) -> Result<(), String> {
        let got = format!(
            "{} {} {}",
            self.status,
            self.header("content-type").unwrap_or("-"),
            self.text()
        );
        if self.status != status {
            return Err(format!("expected {status} {codes:?}, got {got}"));
        }
        if !self
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/problem+json"))
        {
            return Err(format!("expected application/problem+json, got {got}"));
        }
        let body: Value =
            serde_json::from_slice(&self.body).map_err(|_| format!("not JSON: {got}"))?;
        let code = body["code"].as_str().unwrap_or_default();
        if !codes.contains(&code) {
            return Err(format!("expected code {codes:?}, got {got}"));
        }
        if body["status"].as_u64() != Some(u64::from(status)) {
            return Err(format!(
                "problem.status differs from the HTTP status: {got}"
            ));
        }
        if body["request_id"].as_str().is_none_or(str::is_empty) {
            return Err(format!("problem without request_id: {got}"));
        }
        Ok(())
    }
}

/// A multipart/form-data body built byte by byte.
pub struct Form {
    pub boundary: String,
    body: Vec<u8>,
}

impl Default for Form {
    fn default() -> Self {
        Form::new()
    }
}

impl Form {
    pub fn new() -> Form {
        Form {
            boundary: format!("intake-test-{:016x}", crate::harness::random_u64()),
            body: Vec::new(),
        }
    }

    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// A part with these raw header lines (without the final blank line).
    pub fn part(mut self, headers: &[u8], data: &[u8]) -> Form {
        self.body
            .extend_from_slice(format!("--{}\r\n", self.boundary).as_bytes());
        self.body.extend_from_slice(headers);
        self.body.extend_from_slice(b"\r\n\r\n");
        self.body.extend_from_slice(data);
        self.body.extend_from_slice(b"\r\n");
        self
    }

    pub fn field(self, name: &str, value: &str) -> Form {
        let headers = format!("Content-Disposition: form-data; name=\"{name}\"");
        self.part(headers.as_bytes(), value.as_bytes())
    }

    /// A file part; `filename` goes into the header as raw bytes.
    pub fn file(self, name: &str, filename: &[u8], content_type: &str, data: &[u8]) -> Form {
        let mut headers =
            format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"").into_bytes();
        headers.extend_from_slice(filename);
        headers.extend_from_slice(format!("\"\r\nContent-Type: {content_type}").as_bytes());
        self.part(&headers, data)
    }

    /// The body with its closing boundary.
    pub fn finish(mut self) -> Vec<u8> {
        self.body
            .extend_from_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        self.body
    }

    /// The body so far, without a closing boundary.
    pub fn unfinished(self) -> Vec<u8> {
        self.body
    }
}

impl Server {
    /// Uploads `files` as (filename, bytes, content type) with text `fields`
    /// into `project`, as the operator.
    pub async fn upload(
        &self,
        project: &str,
        files: &[(&str, &[u8], &str)],
        fields: &[(&str, &str)],
    ) -> Reply {
        self.upload_as(&self.admin_auth(), project, files, fields)
            .await
    }

    pub async fn upload_as(
        &self,
        auth: &Auth,
        project: &str,
        files: &[(&str, &[u8], &str)],
        fields: &[(&str, &str)],
    ) -> Reply {
        let mut form = Form::new();
        for (name, value) in fields {
            form = form.field(name, value);
        }
        for (filename, data, content_type) in files {
            form = form.file("file", filename.as_bytes(), content_type, data);
        }
        let content_type = form.content_type();
        self.post_body(
            auth,
            &format!("/v1/projects/{project}/files"),
            &[("content-type", &content_type)],
            form.finish(),
        )
        .await
    }

    /// POSTs raw bytes with exactly these extra headers (appended, so a
    /// header may be given twice).
    pub async fn post_body(
        &self,
        auth: &Auth,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let mut request = self.request(auth, Method::POST, path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Reply::from(request.body(body)).await
    }

    /// Uploads one file as the operator and returns its File object.
    pub async fn upload_one(
        &self,
        project: &str,
        filename: &str,
        data: &[u8],
        content_type: &str,
    ) -> Value {
        let reply = self
            .upload(project, &[(filename, data, content_type)], &[])
            .await;
        let answer = reply.expect_uploaded("upload").json();
        answer["files"][0].clone()
    }

    /// Uploads one generated file through a streamed multipart part.
    pub async fn upload_stream(
        &self,
        client: &reqwest::Client,
        project: &str,
        filename: &str,
        body: &crate::fixtures::Generated,
        len: u64,
    ) -> Result<Reply, reqwest::Error> {
        let part = reqwest::multipart::Part::stream_with_length(body.body(), len)
            .file_name(filename.to_owned())
            .mime_str("application/octet-stream")?;
        let form = reqwest::multipart::Form::new().part("file", part);
        let response = self
            .admin_auth()
            .apply(client.post(self.url(&format!("/v1/projects/{project}/files"))))
            .multipart(form)
            .send()
            .await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// Long-polls a file (as the operator) until its status is final
    /// ([`FINAL`]).
    pub async fn settled(&self, id: &str) -> Value {
        const SETTLE: std::time::Duration = std::time::Duration::from_secs(60);
        let deadline = std::time::Instant::now() + SETTLE;
        loop {
            let file = self
                .get(&format!("/v1/files/{id}?wait=5s"))
                .await
                .expect_status(200, "file")
                .json();
            if FINAL.contains(&file["status"].as_str().unwrap_or_default()) {
                return file;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "file {id} not settled within {SETTLE:?}: {file}\n{}",
                self.log_tail(40)
            );
        }
    }

    /// Streams a file's content, once processing is over, and returns
    /// (status, bytes read, sha256).
    pub async fn download_sha256(&self, client: &reqwest::Client, id: &str) -> (u16, u64, String) {
        use futures::StreamExt;
        self.settled(id).await;
        let response = self
            .admin_auth()
            .apply(client.get(self.url(&format!("/v1/files/{id}/content"))))
            .send()
            .await
            .expect("download request");
        let status = response.status().as_u16();
        let mut digest = crate::fixtures::Sha256::new();
        let mut len = 0u64;
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.expect("download chunk");
            len += chunk.len() as u64;
            digest.update(&chunk);
        }
        (status, len, digest.hex())
    }

    /// The number of files in `project`, as the operator sees it.
    pub async fn file_count(&self, project: &str) -> usize {
        self.list_all(&self.admin_auth(), project).await.len()
    }
}

/// The statuses a file does not leave by processing.
pub const FINAL: [&str; 5] = ["ready", "rejected", "infected", "failed", "expired"];

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
