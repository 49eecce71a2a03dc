//! `POST /dana/conversation/http/rest/file/upload`: one file in, its
//! `fileID` out.

use super::error::render;
use super::wire::{self, Uploaded};
use crate::AppState;
use crate::auth::caller;
use crate::common::{InFlight, body_stream, content_types, count_upload};
use crate::error::current_request_id;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use intake_core::{Error, Scope};
use intake_service::{FormatCheck, NewUpload};
use std::time::Duration;

/// How long files are kept when the project sets no retention: the seed's
/// "stored … for 7 days, by default".
const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let debug = wire::debug(headers.get("x-debug").and_then(|v| v.to_str().ok()));
    match upload(&state, &headers, body, debug).await {
        Ok(response) => response,
        Err(e) => render(e, debug),
    }
}

async fn upload(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    debug: bool,
) -> Result<Response, Error> {
    let service = &state.service;
    let who = caller(state, headers).await?;
    let project = service
        .project_for(
            &who,
            &state.config.dialects.attachments_project,
            Scope::FilesWrite,
        )
        .await?;
    let _in_flight = InFlight::start();
    let form = service
        .receive(
            &project,
            body_stream(body),
            &content_types(headers),
            &["file"],
            FormatCheck::Strict,
        )
        .await?;
    if form.files.len() > 1 {
        return Err(Error::bad_request(
            "too_many_files",
            "exactly one file part named 'file' is expected",
        ));
    }
    let Some(file_name) = form
        .files
        .first()
        .map(|f| f.part.filename.clone().unwrap_or_default())
    else {
        return Err(Error::bad_request(
            "missing_file",
            "the request has no file part named 'file'",
        ));
    };
    let file_id = wire::file_id(intake_core::now());
    let new = NewUpload {
        external_ids: vec![file_id.clone()],
        default_retention: Some(DEFAULT_RETENTION),
        ..NewUpload::default()
    };
    let outcome = service.commit(&who, &project, form, new).await?;
    count_upload(&outcome.files);
    // With `duplicates: reuse` the answer is an existing file, under its own id.
    let file_id = outcome
        .files
        .first()
        .and_then(|f| f.external_id.clone())
        .unwrap_or(file_id);
    Ok(Json(Uploaded {
        file_id,
        file_name,
        id_company: who.tenant.slug,
        request_id: debug.then(current_request_id).flatten(),
    })
    .into_response())
}
