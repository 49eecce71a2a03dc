//! 002, signed direct upload: `POST /api/v1/files/upload` (and with a
//! trailing slash, which the vendor's client library sends when its base
//! URL `…/api/v1/` is joined with `files/upload/`). The API key is the HTTP
//! Basic user with an empty password; the JSON body names `filename` and
//! `content_type`. The answer is an S3 browser-POST form (`upload.url`,
//! `upload.fields`) and a signed download URL (`download.url`), made by the
//! same upload intents as `POST /v1/projects/{project}/upload-intents`:
//! the multipart POST of the fields plus `file` to `upload.url` answers 201
//! within the window (60 s by default) and is refused after it, the
//! download URL serves the bytes for 24 hours (the project's
//! `download_url_seconds`) and answers 404 before the upload happened.
//! Files go into the tenant's project `dialects.signed_project`.
//!
//! Errors are JSON in the vendor's shape: 400
//! `{"errors": [...], "field-errors": {"filename": "…"}}` (which its
//! client library raises as a `ValidationError`), 401 and others
//! `{"error": "…"}`.

mod handlers;
mod wire;

use crate::AppState;
use axum::Router;
use axum::routing::post;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/files/upload", post(handlers::upload))
        .route("/api/v1/files/upload/", post(handlers::upload))
}
