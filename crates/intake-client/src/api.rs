//! The HTTP side of the client: [`Client`] (base URL, key, one
//! `reqwest::Client`), [`ApiError`] (everything a call can fail with, parsed
//! from `application/problem+json` when the server sent one) and the wire
//! types of the native `/v1` API.
//!
//! Wire types keep unknown fields in `extra` so `--json` output shows
//! everything the server sent, including fields newer than this client.

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url, multipart};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::{self, Connection, ServerArgs, Source};

/// Metadata calls (not uploads or downloads) give up after this long.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// A file as `GET /v1/files/{id}` describes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileInfo {
    pub id: String,
    #[serde(default)]
    pub project_id: Option<String>,
    #[serde(default)]
    pub folder_id: Option<i64>,
    #[serde(default)]
    pub upload_id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub original_filename: Option<String>,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub detected_format: Option<String>,
    #[serde(default)]
    pub declared_content_type: Option<String>,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Fields this client does not know yet (`links`, later additions).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer to `POST /v1/projects/{project}/files`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadResponse {
    #[serde(default)]
    pub upload_id: Option<String>,
    pub files: Vec<FileInfo>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One page of `GET /v1/projects/{project}/files`.
#[derive(Debug, Clone, Deserialize)]
pub struct FileList {
    pub files: Vec<FileInfo>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// Filters for listing files; `None` leaves a filter out of the query.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub status: Option<String>,
    pub name_prefix: Option<String>,
    pub created_after: Option<String>,
    pub created_before: Option<String>,
    pub folder_id: Option<i64>,
}

/// An RFC 7807 problem as the server sends it; every field is optional
/// because proxies and older servers send less.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Problem {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub request_id: Option<String>,
}

/// Everything an API call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The server answered with an error status.
    #[error("{}", render_status(*status, problem, hint.as_deref()))]
    Status {
        status: StatusCode,
        problem: Problem,
        hint: Option<String>,
    },
    /// The request never got an answer (connection refused, reset, timeout).
    #[error("cannot reach {url}{}", if *refused { " (is `intake serve` running there?)" } else { "" })]
    Transport {
        url: String,
        refused: bool,
        #[source]
        source: reqwest::Error,
    },
    /// The server answered success with a body this client cannot read.
    #[error("unexpected answer from {url}: {detail}")]
    Protocol { url: String, detail: String },
}

impl ApiError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Builds the error for a non-success answer from its headers and body.
    pub fn from_answer(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ApiError {
        let mut problem = serde_json::from_slice::<Problem>(body).unwrap_or_else(|_| Problem {
            // Not problem+json (a proxy page, say): show its start as the detail.
            detail: Some(
                String::from_utf8_lossy(&body[..body.len().min(300)])
                    .trim()
                    .to_owned(),
            )
            .filter(|d| !d.is_empty()),
            ..Problem::default()
        });
        if problem.request_id.is_none() {
            problem.request_id = header_text(headers, "x-request-id");
        }
        let hint = match status {
            StatusCode::TOO_MANY_REQUESTS => {
                header_text(headers, RETRY_AFTER.as_str()).map(|s| format!("retry after {s} s"))
            }
            _ => None,
        };
        ApiError::Status {
            status,
            problem,
            hint,
        }
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `code: detail (HTTP 404 Not Found, request id req_1; hint)`.
fn render_status(status: StatusCode, problem: &Problem, hint: Option<&str>) -> String {
    let code = problem
        .code
        .clone()
        .unwrap_or_else(|| format!("http_{}", status.as_u16()));
    let detail = problem
        .detail
        .as_deref()
        .or(problem.title.as_deref())
        .or(status.canonical_reason())
        .unwrap_or("no detail");
    let mut tail = format!("HTTP {status}");
    if let Some(id) = &problem.request_id {
        tail.push_str(&format!(", request id {id}"));
    }
    if let Some(hint) = hint {
        tail.push_str(&format!("; {hint}"));
    }
    format!("{code}: {detail} ({tail})")
}

/// A connection to one intake server with one key.
#[derive(Clone)]
pub struct Client {
    base: Url,
    key: String,
    key_source: Source,
    http: reqwest::Client,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Resolves URL and key from flags, environment and files, then connects.
    pub fn from_args(args: &ServerArgs) -> anyhow::Result<Client> {
        let conn = config::resolve(&config::Inputs::from_process(args))?;
        Ok(Client::new(conn)?)
    }

    /// Builds a client. Only connecting has a timeout: an upload or download
    /// may legitimately take hours, and TCP keepalive notices dead peers.
    pub fn new(conn: Connection) -> Result<Client, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .tcp_keepalive(Duration::from_secs(30))
            .user_agent(concat!("intake-client/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            base: conn.url,
            key: conn.key,
            key_source: conn.key_source,
            http,
        })
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// `base` + escaped path segments, keeping any path prefix of `base`.
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.http.request(method, url).bearer_auth(&self.key)
    }

    /// Sends, and turns a non-success answer into [`ApiError::Status`].
    async fn send(&self, request: RequestBuilder) -> Result<Response, ApiError> {
        let request = request.build().map_err(|e| self.transport(&self.base, e))?;
        let url = request.url().clone();
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| self.transport(&url, e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let headers = response.headers().clone();
        // Error bodies are small; a body we cannot read still leaves the status.
        let body = response.bytes().await.unwrap_or_default();
        let mut err = ApiError::from_answer(status, &headers, &body);
        if let ApiError::Status { hint, .. } = &mut err
            && status == StatusCode::UNAUTHORIZED
        {
            *hint = Some(format!("the key came from {}", self.key_source));
        }
        Err(err)
    }

    fn transport(&self, url: &Url, source: reqwest::Error) -> ApiError {
        ApiError::Transport {
            url: url.to_string(),
            refused: source.is_connect(),
            source,
        }
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> Result<T, ApiError> {
        let response = self.send(request).await?;
        let url = response.url().to_string();
        let body = response.bytes().await.map_err(|e| ApiError::Transport {
            url: url.clone(),
            refused: false,
            source: e,
        })?;
        serde_json::from_slice(&body).map_err(|e| ApiError::Protocol {
            url,
            detail: e.to_string(),
        })
    }

    /// `POST /v1/projects/{project}/files` with a prepared multipart form.
    pub async fn upload(
        &self,
        project: &str,
        form: multipart::Form,
    ) -> Result<UploadResponse, ApiError> {
        let url = self.url(&["v1", "projects", project, "files"]);
        self.json(self.request(Method::POST, url).multipart(form))
            .await
    }

    /// `GET /v1/files/{id}`.
    pub async fn file(&self, id: &str) -> Result<FileInfo, ApiError> {
        let url = self.url(&["v1", "files", id]);
        self.json(self.request(Method::GET, url).timeout(CALL_TIMEOUT))
            .await
    }

    /// `GET /v1/files/{id}/content`: the response, for the caller to stream.
    pub async fn content(&self, id: &str) -> Result<Response, ApiError> {
        let url = self.url(&["v1", "files", id, "content"]);
        self.send(self.request(Method::GET, url)).await
    }

    /// `DELETE /v1/files/{id}`.
    pub async fn delete(&self, id: &str) -> Result<(), ApiError> {
        let url = self.url(&["v1", "files", id]);
        self.send(self.request(Method::DELETE, url).timeout(CALL_TIMEOUT))
            .await
            .map(drop)
    }

    /// One page of `GET /v1/projects/{project}/files`.
    pub async fn list(&self, project: &str, query: &ListQuery) -> Result<FileList, ApiError> {
        let mut url = self.url(&["v1", "projects", project, "files"]);
        {
            let mut pairs = url.query_pairs_mut();
            let mut add = |k: &str, v: Option<String>| {
                if let Some(v) = v {
                    pairs.append_pair(k, &v);
                }
            };
            add("limit", query.limit.map(|n| n.to_string()));
            add("cursor", query.cursor.clone());
            add("status", query.status.clone());
            add("name_prefix", query.name_prefix.clone());
            add("created_after", query.created_after.clone());
            add("created_before", query.created_before.clone());
            add("folder_id", query.folder_id.map(|n| n.to_string()));
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        self.json(self.request(Method::GET, url).timeout(CALL_TIMEOUT))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn problem_json_is_rendered_with_code_detail_and_request_id() {
        let body = br#"{"type":"about:blank","title":"Not Found","status":404,
            "detail":"no file file_x","code":"file_not_found","request_id":"req_7"}"#;
        let err = ApiError::from_answer(StatusCode::NOT_FOUND, &HeaderMap::new(), body);
        assert_eq!(
            err.to_string(),
            "file_not_found: no file file_x (HTTP 404 Not Found, request id req_7)"
        );
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    }

    #[test]
    fn non_problem_bodies_and_header_request_ids_are_used() {
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", HeaderValue::from_static("req_h"));
        let err = ApiError::from_answer(
            StatusCode::BAD_GATEWAY,
            &headers,
            b"<html>bad gateway</html>\n",
        );
        assert_eq!(
            err.to_string(),
            "http_502: <html>bad gateway</html> (HTTP 502 Bad Gateway, request id req_h)"
        );
        let err = ApiError::from_answer(StatusCode::FORBIDDEN, &HeaderMap::new(), b"");
        assert_eq!(err.to_string(), "http_403: Forbidden (HTTP 403 Forbidden)");
    }

    #[test]
    fn file_json_keeps_unknown_fields() {
        let json = r#"{"id":"file_1","project_id":"prj_1","folder_id":0,"upload_id":"upl_1","name":"a.pdf",
            "original_filename":null,"size":3,"sha256":"ab","detected_format":"pdf",
            "declared_content_type":"application/pdf","metadata":{"customer":"42"},"status":"ready",
            "reason":null,"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-01-02T03:04:05Z",
            "expires_at":null,"links":{"self":"/v1/files/file_1"},"pages":4}"#;
        let file: FileInfo = serde_json::from_str(json).expect("parse");
        assert_eq!((file.size, file.status.as_str()), (3, "ready"));
        let back = serde_json::to_value(&file).expect("serialize");
        assert_eq!(back["pages"], 4);
        assert_eq!(back["links"]["self"], "/v1/files/file_1");
    }

    #[test]
    fn urls_escape_segments_and_keep_prefixes() {
        let conn = Connection {
            url: Url::parse("http://h:1/intake/").expect("url"),
            key: "k".into(),
            url_source: Source::Default,
            key_source: Source::Default,
        };
        let client = Client::new(conn).expect("client");
        assert_eq!(
            client.url(&["v1", "files", "a/b c"]).as_str(),
            "http://h:1/intake/v1/files/a%2Fb%20c"
        );
    }
}
