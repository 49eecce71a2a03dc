//! intake's S3-compatible endpoint for signed direct uploads on its own
//! store (design §6: "with local disk the server itself checks the same S3
//! POST policy"). Path-style, under `/s3`:
//!
//! - `POST /s3/{bucket}`: an S3 browser-POST form (SigV4 policy, `key`,
//!   `Content-Type`, `x-amz-meta-*`, …, then `file`), signed by an upload
//!   intent or by an API key's S3 credential; the bucket is a project slug
//!   of the signer's tenant. Answers as S3 does: `success_action_status`
//!   200 (empty), 201 (`<PostResponse>`), or 204 (the default), or a 303 to
//!   `success_action_redirect`; refusals are S3 `<Error>` documents.
//! - `GET /s3/{bucket}/{key}`: presigned GETs (the intents' download URLs);
//!   with the S3 store, a 307 to a presigned GET of the bucket itself.
//!
//! Point boto3 at it with `endpoint_url="http://host:port/s3"` (path-style
//! addressing).

mod xml;

use crate::AppState;
use crate::common::{InFlight, body_stream, content_types, count_upload};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use intake_service::signed::{S3_PATH, served_content_type};
use intake_service::{Download, PostedObject, content_disposition};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/s3/{bucket}", post(upload))
        .route("/s3/{bucket}/", post(upload))
        .route("/s3/{bucket}/{*key}", get(download))
}

/// The server's public base URL: `signed.public_url` when configured, else
/// the request's `Host` with `X-Forwarded-Proto` (http by default).
pub(crate) fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    let configured = state.service.signed.public_url.trim_end_matches('/');
    if !configured.is_empty() {
        return configured.to_owned();
    }
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
    {
        Some(s) if s.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("{scheme}://{host}")
}

async fn upload(
    State(state): State<AppState>,
    Path(bucket): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let _in_flight = InFlight::start();
    let resource = format!("{S3_PATH}/{bucket}");
    match state
        .service
        .s3_post(&bucket, body_stream(body), &content_types(&headers))
        .await
    {
        Ok(posted) => posted_response(&state, &headers, posted),
        Err(e) => {
            let mut response = xml::error(e, &resource);
            // The rest of the body may not have been read.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

fn posted_response(state: &AppState, headers: &HeaderMap, posted: PostedObject) -> Response {
    count_upload(std::slice::from_ref(&posted.file));
    let location = format!(
        "{}/v1/files/{}",
        public_base(state, headers),
        posted.file.id
    );
    let etag = format!("\"{}\"", posted.file.sha256);
    let mut response = if let Some(redirect) = posted.success_action_redirect {
        let sep = if redirect.contains('?') { '&' } else { '?' };
        let target = format!(
            "{redirect}{sep}bucket={}&key={}&etag={}",
            query_encode(&posted.bucket),
            query_encode(&posted.key),
            query_encode(&etag)
        );
        let mut r = StatusCode::SEE_OTHER.into_response();
        if let Ok(v) = HeaderValue::from_str(&target) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        return with_file_headers(r, &posted.file.id, &etag);
    } else {
        match posted.success_action_status.as_deref().map(str::trim) {
            Some("201") => (
                StatusCode::CREATED,
                [(header::CONTENT_TYPE, "application/xml")],
                xml::post_response(&location, &posted.bucket, &posted.key, &etag),
            )
                .into_response(),
            Some("200") => StatusCode::OK.into_response(),
            _ => StatusCode::NO_CONTENT.into_response(),
        }
    };
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    with_file_headers(response, &posted.file.id, &etag)
}

fn with_file_headers(mut response: Response, file_id: &str, etag: &str) -> Response {
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(file_id) {
        h.insert("x-intake-file-id", v);
    }
    response
}

fn query_encode(s: &str) -> String {
    intake_sigv4::uri_encode(s, false)
}

async fn download(
    State(state): State<AppState>,
    Path((bucket, key)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let header_value = |name: &str| -> Option<String> {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| {
                (name == "host")
                    .then(|| uri.authority().map(|a| a.as_str().to_owned()))
                    .flatten()
            })
    };
    let download = match state
        .service
        .s3_get(
            &bucket,
            &key,
            uri.path(),
            uri.query().unwrap_or(""),
            &header_value,
        )
        .await
    {
        Ok(download) => download,
        Err(e) => return xml::error(e, uri.path()),
    };
    let content = match download {
        Download::Content(content) => content,
        Download::Redirect { file, url } => {
            let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
            let h = response.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&url) {
                h.insert(header::LOCATION, v);
            }
            // The presigned URL expires long before this one does.
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return with_file_headers(response, &file.id, &format!("\"{}\"", file.sha256));
        }
    };
    let file = &content.file;
    let etag = format!("\"{}\"", file.sha256);
    let size = file.size;
    let file_id = file.id.clone();
    let content_type = served_content_type(file).to_owned();
    let disposition = content_disposition(file.original_filename.as_deref().unwrap_or(&file.name));
    let mut response = Response::new(Body::from_stream(content.body));
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    with_file_headers(response, &file_id, &etag)
}
