//! Upload intents: a signed S3 browser-POST form for one file, and a signed
//! download URL for it. The browser's POST goes to intake's S3 endpoint
//! (`/s3/{project}`), which checks the same policy and signature while the
//! file streams; the file then goes through processing like any upload.

use crate::error::{ApiError, Problem};
use crate::extract::JsonBody;
use crate::native::wire::FileView;
use crate::s3post::public_base;
use crate::{AppState, Auth};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use intake_core::{Metadata, Scope};
use intake_service::NewIntent;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntentBody {
    /// The file's name: the last part of its key, and its display name.
    pub filename: String,
    /// Becomes the form's `Content-Type` field (and a policy condition); it
    /// must agree with the bytes, as for any upload.
    pub content_type: Option<String>,
    /// Sent as `x-amz-meta-<name>` fields; stored as the file's metadata.
    #[serde(default)]
    pub metadata: Metadata,
    /// Seconds the form works (default `signed.upload_window`, 60).
    pub expires_in: Option<u64>,
    /// 200, 201 (default: an XML `<PostResponse>`) or 204.
    pub success_action_status: Option<u16>,
}

/// An S3 browser-POST form: POST `fields` (in any order) and then the file
/// part `file` as `multipart/form-data` to `url`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IntentView {
    /// The intent (also the access key id the form is signed with).
    pub id: String,
    pub url: String,
    pub fields: BTreeMap<String, String>,
    /// The form works until then.
    pub expires_at: DateTime<Utc>,
    /// The id the file will have (`/v1/files/{file_id}` once uploaded).
    pub file_id: String,
    /// The object key (`uploads/<file_id>/<filename>`).
    pub key: String,
    /// A signed GET of the file: 404 until the upload happened, 403 once it
    /// expired.
    pub download_url: String,
    pub download_expires_at: DateTime<Utc>,
    /// Largest file the form allows (the project's size limit).
    pub max_size: u64,
}

/// Create an upload intent: a signed S3 POST form for one file.
#[utoipa::path(
    post, path = "/v1/projects/{project}/upload-intents", tag = "files",
    params(("project" = String, Path, description = "Project slug or id")),
    request_body = IntentBody,
    responses(
        (status = 201, description = "The form to POST, and the file's download URL", body = IntentView),
        (status = 400, description = "Invalid filename, metadata or window", body = Problem),
        (status = 403, description = "The credential lacks files:write", body = Problem),
        (status = 404, description = "Unknown project", body = Problem),
    ),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(project): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<IntentBody>,
) -> Result<(StatusCode, Json<IntentView>), ApiError> {
    let service = &state.service;
    let project = service
        .project_for(&who, &project, Scope::FilesWrite)
        .await?;
    let new = NewIntent {
        filename: body.filename,
        content_type: body.content_type,
        metadata: body.metadata,
        expires_in: body.expires_in.map(Duration::from_secs),
        success_action_status: body.success_action_status,
    };
    let base = public_base(&state, &headers);
    let grant = service.create_intent(&who, &project, &base, new).await?;
    let intent = grant.intent;
    Ok((
        StatusCode::CREATED,
        Json(IntentView {
            id: intent.id,
            url: grant.url,
            fields: grant.fields.into_iter().collect(),
            expires_at: intent.upload_expires_at,
            file_id: intent.file_id,
            key: intent.key,
            download_url: grant.download_url,
            download_expires_at: intent.download_expires_at,
            max_size: intent.max_size,
        }),
    ))
}

/// Complete an intent's upload: with the S3 store, the form went to the
/// bucket itself, and the file exists once intake has found the object
/// (within the promised size) and taken it in. Answers the file, which then
/// is processed like any upload; completing again answers the same file.
/// On local disk the form's POST has done this already.
#[utoipa::path(
    post, path = "/v1/upload-intents/{id}/complete", tag = "files",
    params(("id" = String, Path, description = "The intent's id")),
    responses(
        (status = 200, description = "The file", body = FileView),
        (status = 404, description = "Unknown intent", body = Problem),
        (status = 409, description = "Nothing uploaded with the form yet", body = Problem),
        (status = 413, description = "The object is larger than the form allowed", body = Problem),
    ),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn complete(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<FileView>, ApiError> {
    let file = state.service.complete_intent_upload(&who, &id).await?;
    Ok(Json(FileView::from(file)))
}
