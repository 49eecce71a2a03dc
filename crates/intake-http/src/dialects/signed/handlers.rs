//! `POST /api/v1/files/upload`: an upload intent in the vendor's shape.

use super::wire::{Download, Failure, Invalid, Upload, UploadRequest, UploadResponse};
use crate::AppState;
use crate::auth::caller;
use crate::error::status_of;
use crate::s3post::public_base;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use intake_core::{Error, ErrorKind, Scope};
use intake_service::NewIntent;

pub async fn upload(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match create(&state, &headers, &body).await {
        Ok(response) => response,
        Err(e) => render(e),
    }
}

fn field_error(field: &str, message: &str) -> Error {
    Error::bad_request("invalid_field", format!("{field}: {message}"))
}

async fn create(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Response, Error> {
    let who = caller(state, headers).await?;
    let limit = state.config.max_json_bytes;
    if body.len() > limit {
        return Err(Error::bad_request(
            "invalid_body",
            format!("the JSON body is over {limit} bytes"),
        ));
    }
    let request: UploadRequest = serde_json::from_slice(body)
        .map_err(|e| Error::bad_request("invalid_body", format!("invalid JSON body: {e}")))?;
    let filename = request
        .filename
        .filter(|f| !f.trim().is_empty())
        .ok_or_else(|| field_error("filename", "This field is required."))?;
    let content_type = request
        .content_type
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| field_error("content_type", "This field is required."))?;
    let project = state
        .service
        .project_for(
            &who,
            &state.config.dialects.signed_project,
            Scope::FilesWrite,
        )
        .await?;
    let new = NewIntent {
        filename,
        content_type: Some(content_type),
        success_action_status: Some(201),
        ..NewIntent::default()
    };
    let base = public_base(state, headers);
    let grant = state
        .service
        .create_intent(&who, &project, &base, new)
        .await?;
    Ok(Json(UploadResponse {
        upload: Upload {
            url: grant.url,
            fields: grant.fields.into_iter().collect(),
        },
        download: Download {
            url: grant.download_url,
        },
    })
    .into_response())
}

/// 400 as field errors where a field is to blame, 401 with a Basic
/// challenge, others `{"error": …}` with their own status.
fn render(e: Error) -> Response {
    metrics::counter!("intake_errors_total", "code" => e.code).increment(1);
    let status = status_of(e.kind);
    if e.kind == ErrorKind::BadRequest {
        let mut invalid = Invalid::default();
        match e.message.split_once(": ") {
            Some((field, message)) if e.code == "invalid_field" => {
                invalid
                    .field_errors
                    .insert(field.to_owned(), message.to_owned());
            }
            _ if e.code == "invalid_filename" => {
                invalid.field_errors.insert("filename".into(), e.message);
            }
            _ => invalid.errors.push(e.message),
        }
        return (StatusCode::BAD_REQUEST, Json(invalid)).into_response();
    }
    let mut response = (status, Json(Failure { error: e.message })).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"intake\", charset=\"UTF-8\""),
        );
    }
    response
}
