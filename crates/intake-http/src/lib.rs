//! intake's HTTP front ends. Each translates its wire format to calls on
//! [`intake_service::Service`] and back, and holds no business rule: the
//! native JSON API under `/v1` (described by the OpenAPI document it
//! serves), the health and metrics endpoints, and the seed dialects.

mod auth;
mod common;
pub mod dialects;
mod error;
mod extract;
mod middleware;
mod native;
mod observe;
mod s3post;

pub use auth::Auth;
pub use error::ApiError;
pub use observe::install_metrics;

use axum::Router;
use intake_service::Service;
use serde::{Deserialize, Serialize};

/// Settings of the HTTP layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Largest JSON request body in bytes (default 1 MiB).
    pub max_json_bytes: usize,
    pub dialects: dialects::DialectsConfig,
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            max_json_bytes: 1 << 20,
            dialects: dialects::DialectsConfig::default(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub config: HttpConfig,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
}

/// The whole application: every front end, with the shared middleware.
pub fn router(state: AppState) -> Router {
    let (native, openapi) = native::router().split_for_parts();
    let openapi = std::sync::Arc::new(openapi);
    Router::new()
        .merge(native)
        .merge(dialects::router(&state.config.dialects))
        .merge(s3post::router())
        .merge(observe::router(openapi))
        .fallback(error::not_found_route)
        .with_state(state.clone())
        .layer(axum::middleware::from_fn(middleware::observe))
}
