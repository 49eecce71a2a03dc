//! The mailing dialect's errors: XML in the success body's shape, with the
//! seed's status numbers.
//!
//! | HTTP | status | when |
//! |---|---|---|
//! | 400 | 9 | a missing parameter, no file, a format outside the list, an extension that does not match `documentFormat`, an unknown `documentClass`, a malformed request |
//! | 400 | 1 | the same bytes are already in the mailing project (`Duplicate Document`) |
//! | 400 | 2 | a page outside the class's dimensions |
//! | 400 | 3 | too many (or too few) pages for the class; the message says which |
//! | 400 | 4 | the document cannot be parsed, or its bytes are not the `documentFormat` it claims |
//! | 400 | 5 | preflight (an encrypted PDF, JavaScript, macros…, or a virus); the message says which |
//!
//! Errors the seed's table has no row for keep their HTTP status and carry
//! it as the status number too: 401 (with `WWW-Authenticate: Basic`), 403,
//! 404 (no mailing project in the tenant), 413, 408, 500, and 503 when
//! processing did not finish within the wait (with the stored `<id>`).

use super::wire;
use crate::error::status_of;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use intake_core::{Error, ErrorKind, Reason};

/// A core error on its way to a mailing client.
#[derive(Debug)]
pub struct MailingError {
    pub error: Error,
    /// The stored document, when there is one to name.
    pub id: Option<String>,
}

impl<E: Into<Error>> From<E> for MailingError {
    fn from(e: E) -> MailingError {
        MailingError {
            error: e.into(),
            id: None,
        }
    }
}

/// (HTTP status, the seed's status number, description).
fn row(e: &Error) -> (StatusCode, u16, String) {
    let bad = StatusCode::BAD_REQUEST;
    match e.reason {
        Some(Reason::Duplicate) => return (bad, 1, "Duplicate Document".into()),
        Some(Reason::Dimensions) => return (bad, 2, "Document Dimensions outside of range".into()),
        Some(Reason::PageCount) => return (bad, 3, e.message.clone()),
        Some(Reason::Unrenderable) => return (bad, 4, "Could not render document".into()),
        Some(Reason::Preflight) => return (bad, 5, e.message.clone()),
        Some(Reason::Format) => return (bad, 9, e.message.clone()),
        None => {}
    }
    match e.kind {
        ErrorKind::BadRequest | ErrorKind::UnsupportedFormat | ErrorKind::Unprocessable => {
            (bad, 9, e.message.clone())
        }
        kind => {
            let status = status_of(kind);
            (status, status.as_u16(), e.message.clone())
        }
    }
}

impl IntoResponse for MailingError {
    fn into_response(self) -> Response {
        let (status, number, description) = row(&self.error);
        metrics::counter!("intake_errors_total", "code" => self.error.code).increment(1);
        let body = wire::failure(number, &description, self.id.as_deref());
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"intake\", charset=\"UTF-8\""),
            );
        }
        if matches!(
            self.error.kind,
            ErrorKind::PayloadTooLarge | ErrorKind::Timeout
        ) {
            // The rest of the body will not be read.
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_map_to_the_seed_table() {
        let rejected = |r: Reason| Error::bad_request("rejected", "detail").with_reason(r);
        assert_eq!(row(&rejected(Reason::Duplicate)).1, 1);
        assert_eq!(row(&rejected(Reason::Dimensions)).1, 2);
        assert_eq!(
            row(&rejected(Reason::PageCount)),
            (StatusCode::BAD_REQUEST, 3, "detail".into())
        );
        assert_eq!(row(&rejected(Reason::Unrenderable)).1, 4);
        assert_eq!(row(&rejected(Reason::Preflight)).1, 5);
        assert_eq!(row(&Error::bad_request("missing_file", "x")).1, 9);
        assert_eq!(row(&Error::unauthorized("x")).0, StatusCode::UNAUTHORIZED);
        assert_eq!(
            row(&Error::internal()),
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                500,
                "internal error".into()
            )
        );
    }
}
