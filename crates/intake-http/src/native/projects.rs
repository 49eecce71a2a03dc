//! Projects and their folders.

use super::wire::{FolderParams, NewFolderBody, NewProjectBody, ProjectPatch};
use crate::error::{ApiError, Problem};
use crate::extract::{JsonBody, QueryParams};
use crate::{AppState, Auth};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use intake_core::{Error, Folder, Project, Scope};
use intake_service::NewProject;

/// The caller's projects.
#[utoipa::path(get, path = "/v1/projects", tag = "projects",
    responses((status = 200, body = Vec<Project>)), security(("bearer" = []), ("basic" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<Vec<Project>>, ApiError> {
    Ok(Json(state.service.list_projects(&who).await?))
}

/// Create a project (scope `projects:admin`).
#[utoipa::path(post, path = "/v1/projects", tag = "projects", request_body = NewProjectBody,
    responses((status = 201, body = Project), (status = 409, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Auth(who): Auth,
    JsonBody(body): JsonBody<NewProjectBody>,
) -> Result<(StatusCode, Json<Project>), ApiError> {
    let new = NewProject {
        slug: body.slug,
        name: body.name,
        policy: body.policy,
    };
    let project = state
        .service
        .create_project(Some(&who), &who.tenant, new)
        .await?;
    Ok((StatusCode::CREATED, Json(project)))
}

#[utoipa::path(get, path = "/v1/projects/{project}", tag = "projects", params(("project" = String, Path)),
    responses((status = 200, body = Project), (status = 404, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(project): Path<String>,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(
        state
            .service
            .project_for(&who, &project, Scope::FilesRead)
            .await?,
    ))
}

/// Change a project's name or policy (scope `projects:admin`).
#[utoipa::path(patch, path = "/v1/projects/{project}", tag = "projects", params(("project" = String, Path)),
    request_body = ProjectPatch,
    responses((status = 200, body = Project), (status = 404, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(project): Path<String>,
    JsonBody(patch): JsonBody<ProjectPatch>,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(
        state
            .service
            .update_project(&who, &project, patch.name.as_deref(), patch.policy)
            .await?,
    ))
}

/// Delete an empty project (scope `projects:admin`).
#[utoipa::path(delete, path = "/v1/projects/{project}", tag = "projects", params(("project" = String, Path)),
    responses((status = 204), (status = 409, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(project): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.service.delete_project(&who, &project).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A project's folders, or one folder's children with `parent_id`.
#[utoipa::path(get, path = "/v1/projects/{project}/folders", tag = "folders",
    params(("project" = String, Path), FolderParams),
    responses((status = 200, body = Vec<Folder>)), security(("bearer" = []), ("basic" = [])))]
pub async fn list_folders(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(project): Path<String>,
    QueryParams(params): QueryParams<FolderParams>,
) -> Result<Json<Vec<Folder>>, ApiError> {
    let project = state
        .service
        .project_for(&who, &project, Scope::FilesRead)
        .await?;
    Ok(Json(
        state
            .service
            .list_folders(&project, params.parent_id)
            .await?,
    ))
}

/// Create a folder (scope `folders:write`).
#[utoipa::path(post, path = "/v1/projects/{project}/folders", tag = "folders",
    params(("project" = String, Path)), request_body = NewFolderBody,
    responses((status = 201, body = Folder), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn create_folder(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(project): Path<String>,
    JsonBody(body): JsonBody<NewFolderBody>,
) -> Result<(StatusCode, Json<Folder>), ApiError> {
    let folder = state
        .service
        .create_folder(&who, &project, body.parent_id, &body.name)
        .await?;
    Ok((StatusCode::CREATED, Json(folder)))
}

fn folder_id(raw: &str) -> Result<i64, Error> {
    raw.parse().map_err(|_| {
        Error::new(
            intake_core::ErrorKind::NotFound,
            "folder_not_found",
            "no such folder",
        )
    })
}

#[utoipa::path(get, path = "/v1/projects/{project}/folders/{id}", tag = "folders",
    params(("project" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = Folder), (status = 404, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn get_folder(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((project, id)): Path<(String, String)>,
) -> Result<Json<Folder>, ApiError> {
    let project = state
        .service
        .project_for(&who, &project, Scope::FilesRead)
        .await?;
    Ok(Json(state.service.folder(&project, folder_id(&id)?).await?))
}

/// Delete an empty folder (scope `folders:write`).
#[utoipa::path(delete, path = "/v1/projects/{project}/folders/{id}", tag = "folders",
    params(("project" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 409, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn delete_folder(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((project, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .delete_folder(&who, &project, folder_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
