//! 004, project uploads: an AI-pipeline service's upload API.
//!
//! - `POST /v2/{team_id}/project/{project_id}/upload` (`team_id`: the
//!   tenant's slug; `project_id`: a project slug or id) and
//!   `POST /api/v1/uploads` (the project in a `projectId` field), Bearer key;
//!   multipart `name`, `meta` (a JSON array of `{name, value}`), and one or
//!   more `file` parts: one upload, one task per file. Answers 201 at once
//!   with `status: processing`; a file whose bytes do not match its name is
//!   accepted and its task ends `failed` with reason `format`.
//! - `GET /v2/{team_id}/project/{project_id}/upload/{upload_id}` and
//!   `GET /api/v1/uploads/{upload_id}` read the upload again.
//!
//! `/api/v1/uploads` names its project inside the body, after the file in
//! the seed's TypeScript sample: the body is read under the server's limits
//! and then admitted to the project (size limit, file count), so its 403 and
//! 413 come once the body is read. The `/v2` path knows the project first
//! and answers 413 as soon as the limit is passed. Errors: see [`error`].

mod error;
mod handlers;
mod wire;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v2/{team_id}/project/{project_id}/upload",
            post(handlers::create_in_team),
        )
        .route(
            "/v2/{team_id}/project/{project_id}/upload/{upload_id}",
            get(handlers::get_in_team),
        )
        .route("/api/v1/uploads", post(handlers::create))
        .route("/api/v1/uploads/{upload_id}", get(handlers::get))
}
