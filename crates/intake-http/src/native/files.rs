//! Files: upload, read, download, list, delete.

use super::wire::{
    ExternalIdParams, FileList, FileView, ListParams, UploadForm, UploadResponse, UploadView,
    WaitParams, parse_folder_id, parse_metadata, parse_wait,
};
use crate::common::{InFlight, body_stream, content_types, count_upload};
use crate::error::{ApiError, Problem};
use crate::extract::QueryParams;
use crate::{AppState, Auth};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use intake_catalog::{Cursor, FileQuery};
use intake_core::{Error, ErrorKind, RespondMode, Scope};
use intake_service::{FormatCheck, NewUpload, content_disposition};
use std::ops::Range;

/// Upload one or more files into a project.
#[utoipa::path(
    post, path = "/v1/projects/{project}/files", tag = "files",
    params(("project" = String, Path, description = "Project slug or id")),
    request_body(content_type = "multipart/form-data", content = UploadForm),
    responses(
        (status = 201, description = "Stored durably (with `respond: sync`, also processed); Location is where to poll", body = UploadResponse),
        (status = 202, description = "With `respond: sync`: stored durably, but processing outlasted the wait (poll Location)", body = UploadResponse),
        (status = 400, description = "Malformed request", body = Problem),
        (status = 404, description = "Unknown project or folder", body = Problem),
        (status = 409, description = "Duplicate refused by policy", body = Problem),
        (status = 413, description = "File too large", body = Problem),
        (status = 415, description = "Format not allowed or contradicted", body = Problem),
    ),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn upload(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let service = &state.service;
    let project = service
        .project_for(&who, &project, Scope::FilesWrite)
        .await?;
    let _in_flight = InFlight::start();
    let form = service
        .receive(
            &project,
            body_stream(body),
            &content_types(&headers),
            &["file"],
            FormatCheck::Strict,
        )
        .await?;
    let new = NewUpload {
        upload_name: form.field("name").map(str::to_owned),
        file_name: form
            .field("name")
            .map(|n| intake_core::name::check_display_name(n, "name"))
            .transpose()?,
        metadata: parse_metadata(form.field("meta"))?,
        folder_id: parse_folder_id(form.field("folder_id"))?,
        document_class: form.field("document_class").map(str::to_owned),
        external_ids: Vec::new(),
        default_retention: None,
    };
    let outcome = service.commit(&who, &project, form, new).await?;
    count_upload(&outcome.files);
    let sync = project.policy.respond == RespondMode::Sync;
    let mut files = outcome.files;
    if sync {
        files = service
            .wait_until_final(files, project.policy.wait())
            .await?;
    }
    // 201 once the bytes are durable (processing may continue: poll
    // Location); 202 when a project that waits for processing ran out of time.
    let pending = sync && files.iter().any(|f| !f.status.is_final());
    let location = match files.as_slice() {
        [one] => format!("/v1/files/{}", one.id),
        _ => format!("/v1/uploads/{}", outcome.upload.id),
    };
    let mut views = Vec::with_capacity(files.len());
    for file in files {
        // A waiting client gets the steps that decided the outcome.
        views.push(if sync {
            with_tasks(service, file).await?
        } else {
            FileView::from(file)
        });
    }
    let body = UploadResponse {
        upload_id: outcome.upload.id,
        files: views,
    };
    let status = if pending {
        StatusCode::ACCEPTED
    } else {
        StatusCode::CREATED
    };
    Ok((status, [(header::LOCATION, location)], Json(body)).into_response())
}

/// An upload (one request) and the status of its files.
#[utoipa::path(
    get, path = "/v1/uploads/{id}", tag = "files",
    params(("id" = String, Path)),
    responses((status = 200, body = UploadView), (status = 404, body = Problem)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn get_upload(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<UploadView>, ApiError> {
    let (upload, files) = state.service.upload(&who, &id).await?;
    let done = files.iter().all(|f| f.status.is_final());
    Ok(Json(UploadView {
        id: upload.id,
        project_id: upload.project_id,
        name: upload.name,
        metadata: upload.metadata,
        status: if done { "complete" } else { "processing" }.to_owned(),
        created_at: upload.created_at,
        files: files.into_iter().map(FileView::from).collect(),
    }))
}

/// A file's metadata, status and processing steps; with `wait`, a
/// long-poll that answers when the status changes.
#[utoipa::path(
    get, path = "/v1/files/{id}", tag = "files",
    params(("id" = String, Path), WaitParams),
    responses((status = 200, body = FileView), (status = 404, body = Problem)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    QueryParams(params): QueryParams<WaitParams>,
) -> Result<Json<FileView>, ApiError> {
    let mut file = state.service.file(&who, &id, Scope::FilesRead).await?;
    if let Some(wait) = parse_wait(params.wait.as_deref())? {
        file = state.service.wait_for_change(file, wait).await?;
    }
    Ok(Json(with_tasks(&state.service, file).await?))
}

/// A file found by the id a dialect gave it, such as the attachments
/// dialect's `fileID` (`s3://WS/2026/6/<hex>`).
#[utoipa::path(
    get, path = "/v1/files/by-external-id", tag = "files",
    params(ExternalIdParams),
    responses((status = 200, body = FileView), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn by_external_id(
    State(state): State<AppState>,
    Auth(who): Auth,
    QueryParams(params): QueryParams<ExternalIdParams>,
) -> Result<Json<FileView>, ApiError> {
    let file = state
        .service
        .file_by_external_id(&who, &params.id, Scope::FilesRead)
        .await?;
    Ok(Json(with_tasks(&state.service, file).await?))
}

/// A file's view with its processing steps.
async fn with_tasks(
    service: &intake_service::Service,
    file: intake_core::FileRecord,
) -> Result<FileView, Error> {
    let tasks = service.tasks(&file).await?;
    let mut view = FileView::from(file);
    view.tasks = Some(tasks);
    Ok(view)
}

/// Delete a file. Its bytes go when no other file of the tenant shares them.
#[utoipa::path(
    delete, path = "/v1/files/{id}", tag = "files",
    params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.service.delete_file(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A file's bytes, streamed; supports `Range` and `If-None-Match`.
#[utoipa::path(
    get, path = "/v1/files/{id}/content", tag = "files",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The bytes", content_type = "application/octet-stream"),
        (status = 206, description = "The requested range"),
        (status = 304, description = "Not modified"),
        (status = 404, body = Problem), (status = 409, description = "Infected, or not ready and the project serves only ready files", body = Problem), (status = 410, body = Problem), (status = 416, body = Problem),
    ),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn content(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let file = state.service.file(&who, &id, Scope::FilesRead).await?;
    // Before any answer about the bytes, even a 304.
    state.service.check_servable(&file).await?;
    let etag = format!("\"{}\"", file.sha256);
    if header_matches(&headers, header::IF_NONE_MATCH, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let size = file.size;
    let wants_range = headers.get(header::IF_RANGE).is_none()
        || header_matches(&headers, header::IF_RANGE, &etag);
    let range = match headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| wants_range)
    {
        Some(value) => byte_range(value, size)?,
        None => None,
    };
    let content = state.service.content(file, range).await?;
    let file = &content.file;
    let mut response = Response::new(Body::from_stream(content.body));
    if content.range.is_some() {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    let h = response.headers_mut();
    let length = match &content.range {
        Some(r) => {
            h.insert(
                header::CONTENT_RANGE,
                value(&format!("bytes {}-{}/{size}", r.start, r.end - 1)),
            );
            r.end - r.start
        }
        None => size,
    };
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(header::CONTENT_TYPE, value(file.detected_format.mime()));
    h.insert(header::ETAG, value(&etag));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let download_name = file.original_filename.as_deref().unwrap_or(&file.name);
    h.insert(
        header::CONTENT_DISPOSITION,
        value(&content_disposition(download_name)),
    );
    // Served bytes are the client's: never let a browser run them.
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(response)
}

fn value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

fn header_matches(headers: &HeaderMap, name: header::HeaderName, etag: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag == etag || tag.strip_prefix("W/") == Some(etag)
        })
}

/// One satisfiable range of `size` bytes, None to send everything (several
/// ranges are answered whole, which RFC 9110 allows), or 416.
fn byte_range(value: &str, size: u64) -> Result<Option<Range<u64>>, Error> {
    let unsatisfiable = || {
        Error::new(
            ErrorKind::RangeNotSatisfiable,
            "invalid_range",
            format!("the file has {size} bytes"),
        )
    };
    let parsed = http_range_header::parse_range_header(value).map_err(|_| unsatisfiable())?;
    let ranges = parsed.validate(size).map_err(|_| unsatisfiable())?;
    match ranges.as_slice() {
        [one] => Ok(Some(*one.start()..*one.end() + 1)),
        _ => Ok(None),
    }
}

/// List a project's files, newest first.
#[utoipa::path(
    get, path = "/v1/projects/{project}/files", tag = "files",
    params(("project" = String, Path), ListParams),
    responses((status = 200, body = FileList), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(project): Path<String>,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Json<FileList>, ApiError> {
    let project = state
        .service
        .project_for(&who, &project, Scope::FilesRead)
        .await?;
    let limit = params.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(Error::bad_request("invalid_query", "limit must be between 1 and 1000").into());
    }
    let after = match params.cursor.as_deref() {
        Some(c) => Some(
            Cursor::decode(c)
                .ok_or_else(|| Error::bad_request("invalid_query", "the cursor is not valid"))?,
        ),
        None => None,
    };
    let query = FileQuery {
        project_id: None,
        folder_id: params.folder_id,
        status: params.status,
        name_prefix: params.name_prefix,
        created_after: params.created_after,
        created_before: params.created_before,
        after,
        limit,
    };
    let page = state.service.list_files(&who, &project, query).await?;
    Ok(Json(FileList {
        files: page.items.into_iter().map(FileView::from).collect(),
        next_cursor: page.next.map(|c| c.encode()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(byte_range("bytes=0-9", 100).unwrap(), Some(0..10));
        assert_eq!(byte_range("bytes=90-", 100).unwrap(), Some(90..100));
        assert_eq!(byte_range("bytes=-10", 100).unwrap(), Some(90..100));
        assert_eq!(byte_range("bytes=0-1,5-6", 100).unwrap(), None);
        assert_eq!(
            byte_range("bytes=100-", 100).unwrap_err().code,
            "invalid_range"
        );
        assert_eq!(
            byte_range("pages=1", 100).unwrap_err().code,
            "invalid_range"
        );
    }
}
