//! Endpoints for operators and tools: liveness, readiness, Prometheus
//! metrics, and the OpenAPI document of the native API.

use crate::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::{Arc, OnceLock};

pub fn router(openapi: Arc<utoipa::openapi::OpenApi>) -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(
            "/openapi.json",
            get(move || async move { Json(openapi.as_ref().clone()) }),
        )
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.service.catalog.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "catalog unavailable\n")
        }
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// Installs the process-wide Prometheus recorder (once; later calls get the
/// same handle) and describes intake's metrics.
pub fn install_metrics() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0,
            ];
            // Catalog commits take fractions of a millisecond.
            let commit_buckets = [
                0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
            ];
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &buckets)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("intake_catalog_commit_seconds".into()),
                        &commit_buckets,
                    )
                })
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            metrics::describe_counter!("intake_uploads_total", "Files received and committed");
            metrics::describe_counter!("intake_upload_bytes_total", "Bytes of committed files");
            metrics::describe_counter!("intake_errors_total", "Error answers, by stable code");
            metrics::describe_gauge!("intake_uploads_in_flight", "Upload requests being received");
            metrics::describe_histogram!(
                "intake_http_request_duration_seconds",
                "Request durations"
            );
            metrics::describe_histogram!(
                "intake_catalog_commit_seconds",
                "SQLite catalog writes, from the start until their commit is durable"
            );
            metrics::describe_counter!(
                "intake_catalog_wal_fsyncs_total",
                "fsyncs of the SQLite catalog's WAL (each covers every commit before it)"
            );
            // Present from the start, so dashboards see zeros, not gaps.
            metrics::counter!("intake_uploads_total").absolute(0);
            metrics::counter!("intake_upload_bytes_total").absolute(0);
            metrics::gauge!("intake_uploads_in_flight").set(0.0);
            handle
        })
        .clone()
}
