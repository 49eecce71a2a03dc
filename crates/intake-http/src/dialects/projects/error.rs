//! The project-uploads dialect's errors, as
//! `{"statusCode":400,"message":"…","error":"Bad Request","code":"missing_file"}`:
//! 400 for bad fields, malformed `meta`, no file, or a malformed request;
//! 401 for missing or bad keys; 403 for a team or project the key cannot
//! reach (the seed's "you don't have access to this project"; the handlers
//! turn the core's not-found for projects into it) or a missing scope; 404
//! for an unknown upload; 413 over the project's size limit.

use super::wire::Failure;
use crate::error::status_of;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use intake_core::{Error, ErrorKind};

fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        // Not multipart, or a format refused outright: a bad request here.
        ErrorKind::UnsupportedFormat => StatusCode::BAD_REQUEST,
        kind => status_of(kind),
    }
}

pub fn render(e: Error) -> Response {
    let status = status(e.kind);
    metrics::counter!("intake_errors_total", "code" => e.code).increment(1);
    let body = Failure {
        status_code: status.as_u16(),
        message: e.message,
        error: status.canonical_reason().unwrap_or("Error").to_owned(),
        code: e.code.to_owned(),
    };
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"intake\""),
        );
    }
    if matches!(e.kind, ErrorKind::PayloadTooLarge | ErrorKind::Timeout) {
        // The rest of the body will not be read.
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
