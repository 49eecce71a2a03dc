//! S3's XML bodies: `<Error>` for refusals, `<PostResponse>` for a 201.

use crate::error::{current_request_id, status_of};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use intake_core::Error;

const PROLOG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `payload_too_large` → `PayloadTooLarge`.
fn camel(code: &str) -> String {
    code.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The S3 status and code for an intake error: S3's own where S3 has one
/// (400 for a form S3 cannot use, 403 for a refusal, 404 for what is not
/// there), intake's code in S3's spelling otherwise.
pub fn s3_status_and_code(e: &Error) -> (StatusCode, String) {
    let bad = StatusCode::BAD_REQUEST;
    let (status, code) = match e.code {
        "payload_too_large" => (bad, "EntityTooLarge"),
        "entity_too_small" => (bad, "EntityTooSmall"),
        "too_many_files" | "missing_file" | "invalid_argument" => (bad, "InvalidArgument"),
        "field_too_large" => (bad, "MaxPostPreDataLengthExceeded"),
        "request_timeout" => (bad, "RequestTimeout"),
        "truncated_body"
        | "malformed_multipart"
        | "missing_boundary"
        | "part_headers_too_large"
        | "malformed_part_headers"
        | "part_without_name"
        | "missing_content_type"
        | "unsupported_content_type"
        | "malformed_content_type"
        | "body_read_failed"
        | "too_many_parts"
        | "unexpected_file"
        | "invalid_field"
        | "invalid_filename" => (bad, "MalformedPOSTRequest"),
        "access_denied" | "forbidden" | "unauthorized" => (StatusCode::FORBIDDEN, "AccessDenied"),
        "internal" => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError"),
        "unavailable" => (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"),
        other => return (status_of(e.kind), camel(other)),
    };
    (status, code.to_owned())
}

/// `<Error><Code>…</Code><Message>…</Message><Resource>…</Resource><RequestId>…</RequestId></Error>`.
pub fn error(e: Error, resource: &str) -> Response {
    let (status, code) = s3_status_and_code(&e);
    metrics::counter!("intake_errors_total", "code" => e.code).increment(1);
    let body = format!(
        "{PROLOG}\n<Error><Code>{}</Code><Message>{}</Message><Resource>{}</Resource><RequestId>{}</RequestId></Error>",
        escape(&code),
        escape(&e.message),
        escape(resource),
        escape(&current_request_id().unwrap_or_default()),
    );
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

/// S3's answer to a POST with `success_action_status` 201.
pub fn post_response(location: &str, bucket: &str, key: &str, etag: &str) -> String {
    format!(
        "{PROLOG}\n<PostResponse><Location>{}</Location><Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag></PostResponse>",
        escape(location),
        escape(bucket),
        escape(key),
        escape(etag)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use intake_core::ErrorKind;

    #[test]
    fn codes_are_spelled_the_s3_way() {
        let e = |code| Error::new(ErrorKind::BadRequest, code, "m");
        assert_eq!(
            s3_status_and_code(&Error::payload_too_large(5)),
            (StatusCode::BAD_REQUEST, "EntityTooLarge".into())
        );
        assert_eq!(
            s3_status_and_code(&Error::new(
                ErrorKind::Forbidden,
                "signature_does_not_match",
                "m"
            )),
            (StatusCode::FORBIDDEN, "SignatureDoesNotMatch".into())
        );
        assert_eq!(
            s3_status_and_code(&e("truncated_body")).1,
            "MalformedPOSTRequest"
        );
        assert_eq!(
            s3_status_and_code(&Error::new(ErrorKind::NotFound, "no_such_key", "m")),
            (StatusCode::NOT_FOUND, "NoSuchKey".into())
        );
        assert_eq!(escape("<a&'\">"), "&lt;a&amp;&apos;&quot;&gt;");
    }
}
