//! Around every request: an `X-Request-Id` (the client's, when it sent a
//! sane one), a tracing span, and the request-duration histogram.

use crate::error::REQUEST_ID;
use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;
use tracing::Instrument;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

fn request_id(request: &Request) -> String {
    request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| intake_core::new_id("req"), str::to_owned)
}

pub async fn observe(request: Request, next: Next) -> Response {
    let id = request_id(&request);
    let method = request.method().clone();
    // The route pattern, not the path: ids would explode the label set.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let span = tracing::info_span!("request", request_id = %id, %method, path = %request.uri().path(), tenant = tracing::field::Empty);
    let started = Instant::now();
    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(request).instrument(span.clone()))
        .await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    metrics::histogram!(
        "intake_http_request_duration_seconds",
        "method" => method.to_string(),
        "route" => route,
        "status" => status.to_string()
    )
    .record(elapsed.as_secs_f64());
    span.in_scope(|| tracing::info!(status, elapsed_ms = elapsed.as_millis() as u64, "served"));
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}
