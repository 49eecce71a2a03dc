//! Credentials and tenants: keys and users of the caller's tenant (scope
//! `admin`), and, for the operator, other tenants.

use super::wire::{CreatedKey, NewKeyBody, NewProjectBody, NewTenantBody, NewUserBody};
use crate::error::{ApiError, Problem};
use crate::extract::JsonBody;
use crate::{AppState, Auth};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use intake_core::{ApiKey, Principal, Project, Tenant, User};
use intake_service::{NewKey, NewProject, NewUser};

async fn create_key_in(
    state: &AppState,
    who: &Principal,
    tenant: Option<&str>,
    body: NewKeyBody,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let tenant = state.service.target_tenant(who, tenant).await?;
    let new = NewKey {
        name: body.name,
        scopes: body.scopes,
        projects: body.projects,
    };
    let (key, token) = state.service.create_key(Some(who), &tenant, new).await?;
    let s3 = match body.s3 {
        true => Some(state.service.add_s3_credential(&tenant, &key).await?),
        false => None,
    };
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key,
            token,
            s3_access_key_id: s3.as_ref().map(|c| c.access_key_id.clone()),
            s3_secret_access_key: s3.map(|c| c.secret),
        }),
    ))
}

async fn create_user_in(
    state: &AppState,
    who: &Principal,
    tenant: Option<&str>,
    body: NewUserBody,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let tenant = state.service.target_tenant(who, tenant).await?;
    let new = NewUser {
        username: body.username,
        password: body.password,
        scopes: body.scopes,
        projects: body.projects,
    };
    Ok((
        StatusCode::CREATED,
        Json(state.service.create_user(Some(who), &tenant, new).await?),
    ))
}

/// The tenant's API keys (scope `admin`).
#[utoipa::path(get, path = "/v1/keys", tag = "credentials",
    responses((status = 200, body = Vec<ApiKey>), (status = 403, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn list_keys(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<Vec<ApiKey>>, ApiError> {
    let tenant = state.service.target_tenant(&who, None).await?;
    Ok(Json(state.service.list_keys(&tenant).await?))
}

/// Create an API key; its token is in this answer only.
#[utoipa::path(post, path = "/v1/keys", tag = "credentials", request_body = NewKeyBody,
    responses((status = 201, body = CreatedKey), (status = 403, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn create_key(
    State(state): State<AppState>,
    Auth(who): Auth,
    JsonBody(body): JsonBody<NewKeyBody>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    create_key_in(&state, &who, None, body).await
}

/// Revoke an API key.
#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "credentials", params(("id" = String, Path)),
    responses((status = 200, body = ApiKey), (status = 404, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn revoke_key(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<ApiKey>, ApiError> {
    let tenant = state.service.target_tenant(&who, None).await?;
    Ok(Json(state.service.revoke_key(&tenant, &id).await?))
}

/// The tenant's users (scope `admin`).
#[utoipa::path(get, path = "/v1/users", tag = "credentials",
    responses((status = 200, body = Vec<User>)), security(("bearer" = []), ("basic" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<Vec<User>>, ApiError> {
    let tenant = state.service.target_tenant(&who, None).await?;
    Ok(Json(state.service.list_users(&tenant).await?))
}

/// Create a user who signs in with HTTP Basic as `username@tenant`.
#[utoipa::path(post, path = "/v1/users", tag = "credentials", request_body = NewUserBody,
    responses((status = 201, body = User), (status = 409, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    Auth(who): Auth,
    JsonBody(body): JsonBody<NewUserBody>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    create_user_in(&state, &who, None, body).await
}

#[utoipa::path(delete, path = "/v1/users/{id}", tag = "credentials", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn delete_user(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let tenant = state.service.target_tenant(&who, None).await?;
    state.service.delete_user(&tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every tenant (the operator only).
#[utoipa::path(get, path = "/v1/tenants", tag = "tenants",
    responses((status = 200, body = Vec<Tenant>), (status = 403, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn list_tenants(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<Vec<Tenant>>, ApiError> {
    Ok(Json(state.service.list_tenants(&who).await?))
}

/// Create a tenant with a `default` project (the operator only).
#[utoipa::path(post, path = "/v1/tenants", tag = "tenants", request_body = NewTenantBody,
    responses((status = 201, body = Tenant), (status = 409, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn create_tenant(
    State(state): State<AppState>,
    Auth(who): Auth,
    JsonBody(body): JsonBody<NewTenantBody>,
) -> Result<(StatusCode, Json<Tenant>), ApiError> {
    let tenant = state
        .service
        .create_tenant(&who, &body.slug, body.name.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(tenant)))
}

/// Create a key in another tenant (the operator only).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/keys", tag = "tenants", params(("tenant" = String, Path)),
    request_body = NewKeyBody, responses((status = 201, body = CreatedKey)), security(("bearer" = []), ("basic" = [])))]
pub async fn create_tenant_key(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(tenant): Path<String>,
    JsonBody(body): JsonBody<NewKeyBody>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    create_key_in(&state, &who, Some(&tenant), body).await
}

/// Create a user in another tenant (the operator only).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/users", tag = "tenants", params(("tenant" = String, Path)),
    request_body = NewUserBody, responses((status = 201, body = User)), security(("bearer" = []), ("basic" = [])))]
pub async fn create_tenant_user(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(tenant): Path<String>,
    JsonBody(body): JsonBody<NewUserBody>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    create_user_in(&state, &who, Some(&tenant), body).await
}

/// Create a project in another tenant (the operator only).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/projects", tag = "tenants", params(("tenant" = String, Path)),
    request_body = NewProjectBody, responses((status = 201, body = Project)), security(("bearer" = []), ("basic" = [])))]
pub async fn create_tenant_project(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(tenant): Path<String>,
    JsonBody(body): JsonBody<NewProjectBody>,
) -> Result<(StatusCode, Json<Project>), ApiError> {
    let tenant = state.service.target_tenant(&who, Some(&tenant)).await?;
    let new = NewProject {
        slug: body.slug,
        name: body.name,
        policy: body.policy,
    };
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .service
                .create_project(Some(&who), &tenant, new)
                .await?,
        ),
    ))
}
