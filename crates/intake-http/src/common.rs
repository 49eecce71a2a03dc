//! Small pieces every front end needs: the body as the ingest pipeline
//! reads it, and the request's Content-Type values.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use futures::TryStreamExt;

/// Every Content-Type header value (some clients send two).
pub fn content_types(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get_all(header::CONTENT_TYPE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

pub fn body_stream(body: Body) -> intake_ingest::Body {
    Box::pin(body.into_data_stream().map_err(std::io::Error::other))
}

/// Counts uploads being received, for the in-flight gauge.
pub struct InFlight;

impl InFlight {
    pub fn start() -> InFlight {
        metrics::gauge!("intake_uploads_in_flight").increment(1.0);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!("intake_uploads_in_flight").decrement(1.0);
    }
}

/// Counts committed files for the upload metrics.
pub fn count_upload(files: &[intake_core::FileRecord]) {
    metrics::counter!("intake_uploads_total").increment(files.len() as u64);
    metrics::counter!("intake_upload_bytes_total").increment(files.iter().map(|f| f.size).sum());
}
