//! 001, library files, folders, contact lists and activities: an e-mail
//! marketing service's v2 API.
//!
//! - `POST /v2/library/files`: multipart `file_name`, `folder_id` (0 or -1:
//!   the root), `description`, `source`, `file_type` (JPEG, JPG, GIF, PNG,
//!   PDF, DOC, DOCX, XLS, XLSX, PPT, PPTX; the bytes must be of that type),
//!   `data`. 202 with `Location: http://<host>/v2/library/files/uploadstatus/<id>`,
//!   polled while the file is scanned and processed (`Processing` → `Active`,
//!   `VirusFound` or `Failed`). `GET /v2/library/files[?folder_id=]`,
//!   `GET /v2/library/files/{id}`. The import files of activities are not
//!   library files: they are stored in the same project but never shown here.
//! - `POST /v2/library/folders` (`{"name", "parent_id"}`),
//!   `GET /v2/library/folders`, `GET /v2/library/folders/{id}`,
//!   `GET /v2/library/folders/{id}/files`.
//! - `POST /v2/lists`, `GET /v2/lists`, `GET /v2/lists/{id}`,
//!   `GET /v2/lists/{id}/contacts`, `POST /v2/contacts` (addresses join lists).
//! - `POST /v2/activities/removefromlists`: multipart `file_name`, `lists`
//!   (`"1,4"`), `data` (a .txt or .csv of addresses). 201 with
//!   `Location: http://<host>/v2/activities/<id>`, polled until `COMPLETE` or
//!   `ERROR`.
//!
//! Locations are absolute, as the vendor's are, so a client can GET them as
//! they come (Apache HttpClient 4 refuses a URI without a host): built from
//! the request's `Host` (and `X-Forwarded-Proto: https` behind a proxy that
//! ends TLS); a request without `Host` gets the path alone.
//!
//! Credentials: `Authorization: Bearer <key>`, or the `api_key` query
//! parameter the seed lists, taken as the key when no header is sent.
//! Privileges are scopes: `mylibrary:file:create` (files:write),
//! `mylibrary:folder:create` (folders:write), `contacts:write`
//! (lists:write); reads take files:read (or the writing scope for its own
//! status resources). Files live in the project `dialects.library_project`.
//!
//! The seed's Java client sets its own bare `Content-type:
//! multipart/form-data`, and Apache HttpClient 4 then leaves out the entity's
//! own header (the one with the boundary): the request arrives with no
//! boundary at all, and the ingest reads it from the body's first line.

mod error;
mod handlers;
mod lists;
mod wire;

use crate::AppState;
use crate::auth::{Credentials, authenticate, caller};
use axum::Router;
use axum::http::{HeaderMap, Uri, header};
use axum::routing::{get, post};
use intake_core::{Error, ErrorKind, Principal, Project, Scope};
use serde::de::DeserializeOwned;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v2/library/files",
            post(handlers::upload).get(handlers::list_files),
        )
        .route("/v2/library/files/{id}", get(handlers::get_file))
        .route(
            "/v2/library/files/uploadstatus/{ids}",
            get(handlers::upload_status),
        )
        .route(
            "/v2/library/folders",
            post(handlers::create_folder).get(handlers::list_folders),
        )
        .route("/v2/library/folders/{id}", get(handlers::get_folder))
        .route(
            "/v2/library/folders/{id}/files",
            get(handlers::folder_files),
        )
        .route("/v2/lists", post(lists::create).get(lists::list))
        .route("/v2/lists/{id}", get(lists::get))
        .route("/v2/lists/{id}/contacts", get(lists::contacts))
        .route("/v2/contacts", post(lists::add_contact))
        .route(
            "/v2/activities/removefromlists",
            post(lists::remove_from_lists),
        )
        .route("/v2/activities/{id}", get(lists::activity))
}

/// The caller: the `Authorization` header, else the `api_key` query
/// parameter as an API key.
async fn library_caller(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<Principal, Error> {
    if headers.get(header::AUTHORIZATION).is_none()
        && let Some(key) = query_param(uri, "api_key").filter(|k| !k.is_empty())
    {
        return authenticate(state, Some(Credentials::Bearer(key))).await;
    }
    caller(state, headers).await
}

/// `path` as an absolute URL on the host the client called.
fn location(headers: &HeaderMap, path: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
        });
    let Some(host) = host else {
        return path.to_owned();
    };
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|p| p.to_str().ok())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    let scheme = if https { "https" } else { "http" };
    format!("{scheme}://{host}{path}")
}

fn query_param(uri: &Uri, name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query()?).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// The dialect's project, when the caller holds `scope` and reaches it.
async fn library_project(
    state: &AppState,
    who: &Principal,
    scope: Scope,
) -> Result<Project, Error> {
    let slug = &state.config.dialects.library_project;
    state.service.project_for(who, slug, scope).await
}

/// A scope the caller holds among `scopes` (the first), for reads that
/// several privileges allow; else the first, which then answers 403.
fn any_scope(who: &Principal, scopes: &[Scope]) -> Scope {
    scopes
        .iter()
        .copied()
        .find(|s| who.scopes.allows(*s))
        .unwrap_or(scopes[0])
}

/// A JSON body under the server's JSON limit.
async fn read_json<T: DeserializeOwned>(
    state: &AppState,
    body: axum::body::Body,
) -> Result<T, Error> {
    let limit = state.config.max_json_bytes;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        Error::bad_request(
            "invalid_body",
            format!("the JSON body is unreadable or over {limit} bytes"),
        )
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Error::bad_request(
            "invalid_json",
            format!("Either JSON was malformed or there was a data validation error: {e}"),
        )
    })
}

/// A path id that names nothing here answers 404.
fn not_found(what: &'static str) -> Error {
    Error::new(
        ErrorKind::NotFound,
        "not_found",
        format!("the {what} was not found"),
    )
}
