//! Contact lists, their members, and activities (the bulk jobs that act on
//! lists, started through the library dialect's
//! `POST /v2/activities/removefromlists`).

use crate::error::{ApiError, Problem};
use crate::extract::{JsonBody, QueryParams};
use crate::{AppState, Auth};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use intake_core::{Activity, ContactList, Error, ErrorKind, ListStatus};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewListBody {
    pub name: String,
    /// Default `active`.
    #[serde(default)]
    pub status: ListStatus,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMembersBody {
    /// E-mail addresses, 1 to 1000; stored lower-case.
    pub emails: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MembersAdded {
    /// How many addresses were not on the list yet.
    pub added: u64,
    pub list: ContactList,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberParams {
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberPage {
    pub members: Vec<String>,
    pub next_cursor: Option<String>,
}

/// A list id from the path; anything but an integer names no list.
pub fn list_id(raw: &str) -> Result<i64, Error> {
    raw.trim().parse().map_err(|_| {
        Error::new(
            ErrorKind::NotFound,
            "list_not_found",
            format!("no list {raw:?}"),
        )
    })
}

/// The caller's contact lists.
#[utoipa::path(get, path = "/v1/lists", tag = "lists",
    responses((status = 200, body = Vec<ContactList>)), security(("bearer" = []), ("basic" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<Vec<ContactList>>, ApiError> {
    Ok(Json(state.service.lists(&who).await?))
}

/// Create a contact list (scope `lists:write`).
#[utoipa::path(post, path = "/v1/lists", tag = "lists", request_body = NewListBody,
    responses((status = 201, body = ContactList), (status = 409, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Auth(who): Auth,
    JsonBody(body): JsonBody<NewListBody>,
) -> Result<(StatusCode, Json<ContactList>), ApiError> {
    let list = state
        .service
        .create_list(&who, &body.name, body.status)
        .await?;
    Ok((StatusCode::CREATED, Json(list)))
}

#[utoipa::path(get, path = "/v1/lists/{id}", tag = "lists", params(("id" = i64, Path)),
    responses((status = 200, body = ContactList), (status = 404, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<ContactList>, ApiError> {
    Ok(Json(state.service.list(&who, list_id(&id)?).await?))
}

/// Add addresses to a list (scope `lists:write`); adding one twice adds it once.
#[utoipa::path(post, path = "/v1/lists/{id}/members", tag = "lists", params(("id" = i64, Path)),
    request_body = NewMembersBody,
    responses((status = 200, body = MembersAdded), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn add_members(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewMembersBody>,
) -> Result<Json<MembersAdded>, ApiError> {
    let (added, list) = state
        .service
        .add_members(&who, list_id(&id)?, &body.emails)
        .await?;
    Ok(Json(MembersAdded { added, list }))
}

/// A list's addresses, in order, a page at a time.
#[utoipa::path(get, path = "/v1/lists/{id}/members", tag = "lists", params(("id" = i64, Path), MemberParams),
    responses((status = 200, body = MemberPage), (status = 404, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn members(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    QueryParams(params): QueryParams<MemberParams>,
) -> Result<Json<MemberPage>, ApiError> {
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Error::bad_request("invalid_query", "limit must be between 1 and 1000").into());
    }
    let members = state
        .service
        .members(&who, list_id(&id)?, params.cursor.as_deref(), limit)
        .await?;
    // The cursor is the last address of a full page: addresses are the key.
    let next_cursor = (members.len() == limit as usize)
        .then(|| members.last().cloned())
        .flatten();
    Ok(Json(MemberPage {
        members,
        next_cursor,
    }))
}

/// An activity: a bulk job driven by an uploaded file, polled until its
/// status is `COMPLETE` or `ERROR`.
#[utoipa::path(get, path = "/v1/activities/{id}", tag = "lists", params(("id" = String, Path)),
    responses((status = 200, body = Activity), (status = 404, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn activity(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<Activity>, ApiError> {
    Ok(Json(state.service.activity(&who, &id).await?))
}
