//! Contact lists, contacts (addresses joining lists) and activities: the
//! removal of a file's addresses from lists.

use super::error::render;
use super::wire::{self, ActivityView, Collection, Contact, List, NewContact, NewList};
use super::{library_caller, library_project, location, not_found, read_json};
use crate::AppState;
use crate::common::{InFlight, body_stream, content_types};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use intake_core::{Error, ListStatus, Scope};
use serde::Deserialize;
use serde_json::json;

fn respond(result: Result<Response, Error>) -> Response {
    result.unwrap_or_else(render)
}

fn path_list_id(raw: &str) -> Result<i64, Error> {
    raw.trim().parse().map_err(|_| not_found("list"))
}

/// `POST /v2/lists` (`{"name", "status": "ACTIVE"}`; contacts:write).
pub async fn create(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        async {
            let who = library_caller(&state, &headers, &uri).await?;
            who.require(Scope::ListsWrite)?;
            let new: NewList = read_json(&state, body).await?;
            let status = match new.status.as_deref() {
                None => ListStatus::Active,
                Some(s) => ListStatus::parse(s).ok_or_else(|| {
                    Error::bad_request(
                        "invalid_status",
                        format!("status {s:?} is not ACTIVE or HIDDEN"),
                    )
                })?,
            };
            let list = state.service.create_list(&who, &new.name, status).await?;
            let location = location(&headers, &format!("/v2/lists/{}", list.id));
            Ok((
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                Json(List::from(&list)),
            )
                .into_response())
        }
        .await,
    )
}

/// `GET /v2/lists`: an array, as the vendor answers it.
pub async fn list(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    respond(
        async {
            let who = library_caller(&state, &headers, &uri).await?;
            let lists = state.service.lists(&who).await?;
            Ok(Json(lists.iter().map(List::from).collect::<Vec<_>>()).into_response())
        }
        .await,
    )
}

pub async fn get(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    respond(
        async {
            let who = library_caller(&state, &headers, &uri).await?;
            let list = state.service.list(&who, path_list_id(&id)?).await?;
            Ok(Json(List::from(&list)).into_response())
        }
        .await,
    )
}

#[derive(Debug, Default, Deserialize)]
struct ContactParams {
    limit: Option<u32>,
    next: Option<String>,
}

/// `GET /v2/lists/{id}/contacts`: the list's addresses, a page at a time.
pub async fn contacts(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    respond(
        async {
            let who = library_caller(&state, &headers, &uri).await?;
            let id = path_list_id(&id)?;
            let p: ContactParams = serde_urlencoded::from_str(uri.query().unwrap_or(""))
                .map_err(|e| Error::bad_request("invalid_query", format!("invalid query: {e}")))?;
            let limit = p.limit.unwrap_or(50);
            if !(1..=500).contains(&limit) {
                return Err(Error::bad_request(
                    "invalid_limit",
                    "limit must be between 1 and 500",
                ));
            }
            let members = state
                .service
                .members(&who, id, p.next.as_deref(), limit)
                .await?;
            let next_link = (members.len() == limit as usize)
                .then(|| members.last())
                .flatten()
                .map(|last| {
                    format!(
                        "/v2/lists/{id}/contacts?limit={limit}&next={}",
                        percent(last)
                    )
                });
            let results = members.iter().map(|m| Contact::new(m, &[id])).collect();
            Ok(Json(Collection::new(results, next_link)).into_response())
        }
        .await,
    )
}

fn percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `POST /v2/contacts`: every address joins every list named (contacts:write).
pub async fn add_contact(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        async {
            let who = library_caller(&state, &headers, &uri).await?;
            who.require(Scope::ListsWrite)?;
            let new: NewContact = read_json(&state, body).await?;
            let emails: Vec<String> = new
                .email_addresses
                .iter()
                .map(|e| e.email_address.clone())
                .collect();
            let lists = new
                .lists
                .iter()
                .map(|l| wire::list_id(&l.id))
                .collect::<Result<Vec<_>, _>>()?;
            if lists.is_empty() {
                return Err(Error::bad_request(
                    "missing_lists",
                    "a contact must belong to at least one list",
                ));
            }
            let unknown = |e: Error| {
                if e.code == "list_not_found" {
                    Error::bad_request("unknown_list", e.message)
                } else {
                    e
                }
            };
            // Every list first, so an unknown one changes nothing.
            for id in &lists {
                state.service.list(&who, *id).await.map_err(unknown)?;
            }
            for id in &lists {
                state
                    .service
                    .add_members(&who, *id, &emails)
                    .await
                    .map_err(unknown)?;
            }
            let first = emails
                .first()
                .map(|e| intake_core::lists::normalize_email(e))
                .unwrap_or_default();
            let mut contact = Contact::new(&first, &lists);
            contact.email_addresses = emails
                .iter()
                .map(|e| wire::EmailAddress {
                    email_address: intake_core::lists::normalize_email(e),
                    status: "ACTIVE",
                })
                .collect();
            Ok((StatusCode::CREATED, Json(contact)).into_response())
        }
        .await,
    )
}

/// `POST /v2/activities/removefromlists` (contacts:write): multipart
/// `file_name`, `lists`, `data`. The file is stored in the library project
/// and the activity is committed `QUEUED` before this answers.
pub async fn remove_from_lists(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        async {
            let who = library_caller(&state, &headers, &uri).await?;
            who.require(Scope::ListsWrite)?;
            let project = library_project(&state, &who, Scope::ListsWrite).await?;
            let _in_flight = InFlight::start();
            let form = state
                .service
                .receive_removal(&who, &project, body_stream(body), &content_types(&headers))
                .await?;
            let lists = wire::list_ids(form.field("lists"))?;
            let file_name = form
                .field("file_name")
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned);
            let activity = state
                .service
                .start_removal(&who, &project, form, &lists, file_name.as_deref())
                .await?;
            let location = location(&headers, &format!("/v2/activities/{}", activity.id));
            let body = json!({
                "id": activity.id,
                "type": "REMOVE_CONTACTS_FROM_LISTS",
                "status": activity.status.as_str(),
                "file_name": activity.file_name,
                "contact_count": 0,
                "error_count": 0,
                "created_date": wire::date(activity.created_at),
            });
            Ok((
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                Json(body),
            )
                .into_response())
        }
        .await,
    )
}

/// `GET /v2/activities/{id}`: poll until `COMPLETE` or `ERROR`.
pub async fn activity(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    respond(
        async {
            let who = library_caller(&state, &headers, &uri).await?;
            let activity = state.service.activity(&who, &id).await?;
            Ok(Json(ActivityView::from(&activity)).into_response())
        }
        .await,
    )
}
