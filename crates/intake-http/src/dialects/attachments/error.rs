//! The attachments dialect's errors. The seed documents 400 ("the request
//! did not match the expected format") and 401 ("Authentication Error")
//! only, so every client error is one of those two: 401 for missing or bad
//! credentials and for a credential without the `files:write` permission,
//! 400 for anything else the client did (no file, several files, not
//! multipart, a file too large, …). Server errors keep their 5xx status.
//!
//! Body: `{"error":{"code":400,"type":"missing_file","message":"…"}}`,
//! with `"requestID"` beside `error` when the request has `X-DEBUG: 1`.

use super::wire::{Failure, FailureDetail};
use crate::error::{current_request_id, status_of};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use intake_core::{Error, ErrorKind};

fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Unauthorized | ErrorKind::Forbidden => StatusCode::UNAUTHORIZED,
        kind => {
            let status = status_of(kind);
            if status.is_client_error() {
                StatusCode::BAD_REQUEST
            } else {
                status
            }
        }
    }
}

/// Renders `e`; `debug` adds the request id.
pub fn render(e: Error, debug: bool) -> Response {
    let status = status(e.kind);
    metrics::counter!("intake_errors_total", "code" => e.code).increment(1);
    let body = Failure {
        error: FailureDetail {
            code: status.as_u16(),
            kind: e.code.to_owned(),
            message: e.message,
        },
        request_id: debug.then(current_request_id).flatten(),
    };
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"intake\", charset=\"UTF-8\""),
        );
    }
    if matches!(e.kind, ErrorKind::PayloadTooLarge | ErrorKind::Timeout) {
        // The rest of the body will not be read.
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_are_400_or_401() {
        assert_eq!(status(ErrorKind::Unauthorized), StatusCode::UNAUTHORIZED);
        assert_eq!(status(ErrorKind::Forbidden), StatusCode::UNAUTHORIZED);
        assert_eq!(
            status(ErrorKind::UnsupportedFormat),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(status(ErrorKind::PayloadTooLarge), StatusCode::BAD_REQUEST);
        assert_eq!(
            status(ErrorKind::Internal),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
