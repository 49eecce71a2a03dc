//! Create an upload (in a team's project named by the path, or by a
//! `projectId` field) and read it again.

use super::error::render;
use super::wire::{self, parse_meta};
use crate::AppState;
use crate::auth::caller;
use crate::common::{InFlight, body_stream, content_types, count_upload};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use intake_core::{Error, ErrorKind, Policy, Principal, Project, Scope};
use intake_ingest::Form;
use intake_service::{FormatCheck, NewUpload};

fn no_access() -> Error {
    Error::forbidden("you don't have access to this project")
}

fn respond(result: Result<Response, Error>) -> Response {
    result.unwrap_or_else(render)
}

/// The project, if the key's team is `team` (when given) and the key
/// reaches it; otherwise 403, as the seed documents (the native API's 404).
async fn project(
    state: &AppState,
    who: &Principal,
    team: Option<&str>,
    project: &str,
    scope: Scope,
) -> Result<Project, Error> {
    if let Some(team) = team
        && team != who.tenant.slug
        && team != who.tenant.id
    {
        return Err(no_access());
    }
    state
        .service
        .project_for(who, project, scope)
        .await
        .map_err(|e| {
            if e.kind == ErrorKind::NotFound {
                no_access()
            } else {
                e
            }
        })
}

pub async fn create_in_team(
    State(state): State<AppState>,
    Path((team, project_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        async {
            let who = caller(&state, &headers).await?;
            let project =
                project(&state, &who, Some(&team), &project_id, Scope::FilesWrite).await?;
            let _in_flight = InFlight::start();
            let form = state
                .service
                .receive(
                    &project,
                    body_stream(body),
                    &content_types(&headers),
                    &["file"],
                    FormatCheck::Lenient,
                )
                .await?;
            commit(&state, &who, &project, form).await
        }
        .await,
    )
}

pub async fn create(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let who = caller(&state, &headers).await?;
            who.require(Scope::FilesWrite)?;
            let _in_flight = InFlight::start();
            // The project is named inside the body: read under the server's
            // limits, then admit to the project's.
            let form = state
                .service
                .receive_under(
                    &Policy::default(),
                    body_stream(body),
                    &content_types(&headers),
                    &["file"],
                    FormatCheck::Lenient,
                )
                .await?;
            let Some(project_id) = form
                .field("projectId")
                .map(str::trim)
                .filter(|p| !p.is_empty())
            else {
                return Err(Error::bad_request(
                    "missing_parameter",
                    "projectId is required",
                ));
            };
            let project = project(&state, &who, None, project_id, Scope::FilesWrite).await?;
            state.service.admit(&project, &form, FormatCheck::Lenient)?;
            commit(&state, &who, &project, form).await
        }
        .await,
    )
}

/// One upload for the whole form, one file (task) per `file` part.
async fn commit(
    state: &AppState,
    who: &Principal,
    project: &Project,
    form: Form,
) -> Result<Response, Error> {
    let metadata = parse_meta(form.field("meta"))?;
    let name = form
        .field("name")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    if form.files.is_empty() {
        return Err(Error::bad_request(
            "missing_file",
            "at least one 'file' field is required",
        ));
    }
    let new = NewUpload {
        upload_name: name,
        metadata,
        ..NewUpload::default()
    };
    let outcome = state.service.commit(who, project, form, new).await?;
    count_upload(&outcome.files);
    let view = wire::view(outcome.upload, project.slug.clone(), outcome.files);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

pub async fn get_in_team(
    State(state): State<AppState>,
    Path((team, project_id, upload_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    respond(
        async {
            let who = caller(&state, &headers).await?;
            let project = project(&state, &who, Some(&team), &project_id, Scope::FilesRead).await?;
            let (upload, files) = state.service.upload(&who, &upload_id).await?;
            if upload.project_id != project.id {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    "upload_not_found",
                    "upload not found",
                ));
            }
            Ok(Json(wire::view(upload, project.slug, files)).into_response())
        }
        .await,
    )
}

pub async fn get(
    State(state): State<AppState>,
    Path(upload_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond(
        async {
            let who = caller(&state, &headers).await?;
            let (upload, files) = state.service.upload(&who, &upload_id).await?;
            let project = state
                .service
                .project_for(&who, &upload.project_id, Scope::FilesRead)
                .await?;
            Ok(Json(wire::view(upload, project.slug, files)).into_response())
        }
        .await,
    )
}
