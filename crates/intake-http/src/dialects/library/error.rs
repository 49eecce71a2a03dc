//! The library dialect's errors, in the vendor's v2 shape: a JSON array of
//! `{"error_key": "…", "error_message": "…"}`.
//!
//! - 400 "Either JSON was malformed or there was a data validation error":
//!   `error_key` is intake's stable code (`invalid_file_type`,
//!   `file_type_mismatch`, `missing_file`, `unknown_list`, …) and the message
//!   says what was wrong. A body that is not multipart, or whose bytes
//!   contradict their declared type, is a validation error here too.
//! - 401 `http.status.unauthorized` / `Unauthorized`, exactly as the vendor.
//! - 403 `http.status.forbidden` (the credential lacks the privilege:
//!   `mylibrary:file:create` = `files:write`, `mylibrary:folder:create` =
//!   `folders:write`, `contacts:write` = `lists:write`).
//! - 404 `http.status.not_found`; 409 `http.status.conflict`; 413
//!   `http.status.payload_too_large`; 500 `http.status.internal_error`.

use crate::error::status_of;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use intake_core::{Error, ErrorKind};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct VendorError {
    pub error_key: String,
    pub error_message: String,
}

fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::UnsupportedFormat | ErrorKind::Unprocessable => StatusCode::BAD_REQUEST,
        kind => status_of(kind),
    }
}

pub fn render(e: Error) -> Response {
    let status = status(e.kind);
    metrics::counter!("intake_errors_total", "code" => e.code).increment(1);
    let (key, message) = match status {
        StatusCode::BAD_REQUEST => (e.code.to_owned(), e.message),
        StatusCode::UNAUTHORIZED => (
            "http.status.unauthorized".to_owned(),
            "Unauthorized".to_owned(),
        ),
        StatusCode::FORBIDDEN => ("http.status.forbidden".to_owned(), e.message),
        StatusCode::NOT_FOUND => ("http.status.not_found".to_owned(), e.message),
        StatusCode::CONFLICT => ("http.status.conflict".to_owned(), e.message),
        StatusCode::PAYLOAD_TOO_LARGE => ("http.status.payload_too_large".to_owned(), e.message),
        StatusCode::INTERNAL_SERVER_ERROR => (
            "http.status.internal_error".to_owned(),
            "Internal server error occurred".to_owned(),
        ),
        other => (format!("http.status.{}", other.as_u16()), e.message),
    };
    let body = [VendorError {
        error_key: key,
        error_message: message,
    }];
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
