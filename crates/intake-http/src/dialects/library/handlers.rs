//! Library files and folders: upload, upload status, read, list; create
//! and list folders.

use super::error::render;
use super::wire::{self, Collection, LibraryFile, LibraryFolder, NewFolder, UploadStatus};
use super::{any_scope, library_caller, library_project, location, not_found, read_json};
use crate::AppState;
use crate::common::{InFlight, body_stream, content_types, count_upload};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use intake_catalog::{Cursor, FileQuery};
use intake_core::lists::is_activity_file;
use intake_core::{
    Error, ErrorKind, FileRecord, Format, Metadata, Principal, Project, ROOT_FOLDER, Scope, name,
};
use intake_service::{FormatCheck, NewUpload};
use serde::Deserialize;

fn respond(result: Result<Response, Error>) -> Response {
    result.unwrap_or_else(render)
}

/// `POST /v2/library/files`.
pub async fn upload(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        async {
            let who = library_caller(&state, &headers, &uri).await?;
            let project = library_project(&state, &who, Scope::FilesWrite).await?;
            let _in_flight = InFlight::start();
            let mut form = state
                .service
                .receive(
                    &project,
                    body_stream(body),
                    &content_types(&headers),
                    &["data"],
                    FormatCheck::Strict,
                )
                .await?;
            let declared = form
                .field("file_type")
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    Error::bad_request("missing_file_type", "the file_type part is required")
                })?;
            let (file_type, format) = wire::file_type(declared)?;
            let folder_id = wire::folder_id(form.field("folder_id"))?;
            let source = wire::source(form.field("source"))?;
            let named = form
                .field("file_name")
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned);
            let staged = match form.files.as_mut_slice() {
                [one] => one,
                [] => {
                    return Err(Error::bad_request(
                        "missing_file",
                        "the data part (the file) is required",
                    ));
                }
                _ => {
                    return Err(Error::bad_request(
                        "too_many_files",
                        "send one file per request",
                    ));
                }
            };
            // The bytes must be what file_type says (a JPG may be sent as JPEG
            // and the other way round: both are JPEG bytes).
            staged.blob.format =
                Format::reconcile(staged.blob.format, Some(format)).ok_or_else(|| {
                    Error::bad_request(
                        "file_type_mismatch",
                        format!(
                            "file_type is {file_type} but the file's content is {}",
                            staged.blob.detected
                        ),
                    )
                })?;
            let file_name = named
                .or_else(|| staged.part.filename.clone())
                .unwrap_or_else(|| "untitled".into());
            let mut metadata = Metadata::new();
            metadata.insert("file_type".into(), file_type.into());
            metadata.insert("source".into(), source);
            if let Some(d) = form
                .field("description")
                .map(str::trim)
                .filter(|d| !d.is_empty())
            {
                metadata.insert("description".into(), d.to_owned());
            }
            check_folder(&state, &project, folder_id).await?;
            let new = NewUpload {
                file_name: Some(name::check_display_name(&file_name, "file_name")?),
                metadata,
                folder_id,
                ..Default::default()
            };
            let outcome = state.service.commit(&who, &project, form, new).await?;
            count_upload(&outcome.files);
            let file = outcome.files.first().ok_or_else(Error::internal)?;
            let location = location(
                &headers,
                &format!("/v2/library/files/uploadstatus/{}", file.id),
            );
            Ok((
                StatusCode::ACCEPTED,
                [(header::LOCATION, location)],
                Json(LibraryFile::from(file)),
            )
                .into_response())
        }
        .await,
    )
}

/// An unknown folder in a request is a validation error (400), not a
/// missing resource.
async fn check_folder(state: &AppState, project: &Project, folder_id: i64) -> Result<(), Error> {
    state
        .service
        .check_folder(project, folder_id)
        .await
        .map_err(|e| {
            if e.kind == ErrorKind::NotFound {
                Error::bad_request(
                    "invalid_folder_id",
                    format!("folder_id {folder_id} is not a folder of the library"),
                )
            } else {
                e
            }
        })
}

/// A file of the library, for `who` holding `scope`. Files of other
/// projects, and activities' import files, are not library files.
async fn library_file(
    state: &AppState,
    who: &Principal,
    project: &Project,
    id: &str,
    scope: Scope,
) -> Result<FileRecord, Error> {
    let file = state.service.file(who, id, scope).await?;
    if file.project_id != project.id || is_activity_file(&file.metadata) {
        return Err(not_found("file"));
    }
    Ok(file)
}

/// `GET /v2/library/files/uploadstatus/{ids}`: comma-separated file ids.
/// The key that uploaded (files:write) may poll, as may a reader.
pub async fn upload_status(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(ids): Path<String>,
) -> Response {
    respond(
        async {
            let who = library_caller(&state, &headers, &uri).await?;
            let scope = any_scope(&who, &[Scope::FilesRead, Scope::FilesWrite]);
            let project = library_project(&state, &who, scope).await?;
            let mut statuses = Vec::new();
            for id in ids
                .split(',')
                .map(str::trim)
                .filter(|i| !i.is_empty())
                .take(100)
            {
                let file = library_file(&state, &who, &project, id, scope).await?;
                statuses.push(UploadStatus::from(&file));
            }
            if statuses.is_empty() {
                return Err(not_found("file"));
            }
            Ok(Json(statuses).into_response())
        }
        .await,
    )
}

pub async fn get_file(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    respond(
        async {
            let who = library_caller(&state, &headers, &uri).await?;
            let project = library_project(&state, &who, Scope::FilesRead).await?;
            let file = library_file(&state, &who, &project, &id, Scope::FilesRead).await?;
            Ok(Json(LibraryFile::from(&file)).into_response())
        }
        .await,
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct FileParams {
    pub folder_id: Option<String>,
    pub limit: Option<u32>,
    pub next: Option<String>,
}

fn params(uri: &Uri) -> Result<FileParams, Error> {
    serde_urlencoded::from_str(uri.query().unwrap_or(""))
        .map_err(|e| Error::bad_request("invalid_query", format!("invalid query: {e}")))
}

/// Lists the library's files, newest first; `folder` (a folder named in
/// the path) restricts to one, as does the `folder_id` query parameter.
async fn files_page(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    folder: Option<i64>,
) -> Result<Response, Error> {
    let in_path = folder.is_some();
    let who = library_caller(state, headers, uri).await?;
    let project = library_project(state, &who, Scope::FilesRead).await?;
    let p = params(uri)?;
    let folder = match folder {
        Some(f) => Some(f),
        None => p
            .folder_id
            .as_deref()
            .map(|f| wire::folder_id(Some(f)))
            .transpose()?,
    };
    if let Some(f) = folder {
        if in_path {
            // A folder in the path is a resource: an unknown one is 404.
            state
                .service
                .check_folder(&project, f)
                .await
                .map_err(|e| match e.kind {
                    ErrorKind::NotFound => not_found("folder"),
                    _ => e,
                })?;
        } else {
            check_folder(state, &project, f).await?;
        }
    }
    let limit = p.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(Error::bad_request(
            "invalid_limit",
            "limit must be between 1 and 1000",
        ));
    }
    let after = match p.next.as_deref() {
        Some(c) => Some(
            Cursor::decode(c)
                .ok_or_else(|| Error::bad_request("invalid_next", "next is not valid"))?,
        ),
        None => None,
    };
    let (files, next) = library_page(state, &who, &project, folder, after, limit).await?;
    let next_link = next.map(|c| {
        let mut link = format!("{}?limit={limit}&next={}", uri.path(), c.encode());
        if let Some(f) = folder.filter(|_| !in_path) {
            link.push_str(&format!("&folder_id={f}"));
        }
        link
    });
    let results = files.iter().map(LibraryFile::from).collect();
    Ok(Json(Collection::new(results, next_link)).into_response())
}

/// Catalog pages scanned at most for one page of library files.
const MAX_SCANNED_PAGES: usize = 20;

/// Up to `limit` library files after `after`, newest first, leaving out
/// activities' import files (which share the project), and the cursor of the
/// next page when there may be one.
async fn library_page(
    state: &AppState,
    who: &Principal,
    project: &Project,
    folder: Option<i64>,
    mut after: Option<Cursor>,
    limit: u32,
) -> Result<(Vec<FileRecord>, Option<Cursor>), Error> {
    let mut files = Vec::new();
    for _ in 0..MAX_SCANNED_PAGES {
        let query = FileQuery {
            folder_id: folder,
            after: after.clone(),
            limit,
            ..Default::default()
        };
        let page = state.service.list_files(who, project, query).await?;
        let scanned = page.items.len();
        for (i, file) in page.items.into_iter().enumerate() {
            if is_activity_file(&file.metadata) {
                continue;
            }
            files.push(file);
            if files.len() == limit as usize {
                let more = i + 1 < scanned || page.next.is_some();
                let next = files.last().filter(|_| more).map(|f| Cursor {
                    created_at_ms: f.created_at.timestamp_millis(),
                    id: f.id.clone(),
                });
                return Ok((files, next));
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok((files, None)),
        }
    }
    // A long run of import files: answer what was found, and go on from there.
    Ok((files, after))
}

pub async fn list_files(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    respond(files_page(&state, &uri, &headers, None).await)
}

pub async fn folder_files(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    respond(
        async {
            let folder = path_folder(&id)?;
            files_page(&state, &uri, &headers, Some(folder)).await
        }
        .await,
    )
}

/// A folder id in a path (0 and -1: the root), else 404.
fn path_folder(raw: &str) -> Result<i64, Error> {
    if raw.trim().is_empty() {
        return Err(not_found("folder"));
    }
    wire::folder_id(Some(raw)).map_err(|_| not_found("folder"))
}

/// `GET /v2/library/folders/{id}`: the folder with its subtree.
pub async fn get_folder(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    respond(
        async {
            let who = library_caller(&state, &headers, &uri).await?;
            let project = library_project(&state, &who, Scope::FilesRead).await?;
            // The root is no folder of its own.
            let id = path_folder(&id)?;
            let all = state.service.list_folders(&project, None).await?;
            let folder = all
                .iter()
                .find(|f| f.id == id)
                .ok_or_else(|| not_found("folder"))?;
            let level = LibraryFolder::level_of(folder, &all);
            Ok(Json(LibraryFolder::tree(folder, &all, level)).into_response())
        }
        .await,
    )
}

/// `POST /v2/library/folders` (mylibrary:folder:create = folders:write).
pub async fn create_folder(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        async {
            let who = library_caller(&state, &headers, &uri).await?;
            who.require(Scope::FoldersWrite)?;
            let new: NewFolder = read_json(&state, body).await?;
            let parent = new.parent()?;
            let slug = state.config.dialects.library_project.clone();
            let folder = state
                .service
                .create_folder(&who, &slug, parent, &new.name)
                .await
                .map_err(|e| match (e.kind, e.code) {
                    (ErrorKind::NotFound, "folder_not_found") => Error::bad_request(
                        "invalid_parent_id",
                        format!("parent_id {parent} is not a folder of the library"),
                    ),
                    _ => e,
                })?;
            let project = library_project(&state, &who, Scope::FoldersWrite).await?;
            let all = state.service.list_folders(&project, None).await?;
            let level = LibraryFolder::level_of(&folder, &all);
            let view = LibraryFolder::tree(&folder, &all, level);
            let location = location(&headers, &format!("/v2/library/folders/{}", folder.id));
            Ok((
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                Json(view),
            )
                .into_response())
        }
        .await,
    )
}

/// `GET /v2/library/folders`: the folders at the root, each with its subtree.
pub async fn list_folders(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    respond(
        async {
            let who = library_caller(&state, &headers, &uri).await?;
            let project = library_project(&state, &who, Scope::FilesRead).await?;
            let all = state.service.list_folders(&project, None).await?;
            let results = all
                .iter()
                .filter(|f| f.parent_id == ROOT_FOLDER)
                .map(|f| LibraryFolder::tree(f, &all, 1))
                .collect();
            Ok(Json(Collection::new(results, None)).into_response())
        }
        .await,
    )
}
