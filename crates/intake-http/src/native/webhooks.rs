//! Webhooks: per-project endpoints that receive signed events, and their
//! deliveries (listed, and sent again on request).

use super::wire::{CreatedWebhook, DeliveryList, NewWebhookBody};
use crate::error::{ApiError, Problem};
use crate::extract::JsonBody;
use crate::{AppState, Auth};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use intake_core::{Delivery, Webhook};

/// A project's webhooks (scope `projects:admin`).
#[utoipa::path(get, path = "/v1/projects/{project}/webhooks", tag = "webhooks", params(("project" = String, Path)),
    responses((status = 200, body = Vec<Webhook>)), security(("bearer" = []), ("basic" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(project): Path<String>,
) -> Result<Json<Vec<Webhook>>, ApiError> {
    Ok(Json(state.service.webhooks(&who, &project).await?.1))
}

/// Register a webhook; the answer carries its signing secret, once.
#[utoipa::path(post, path = "/v1/projects/{project}/webhooks", tag = "webhooks", params(("project" = String, Path)),
    request_body = NewWebhookBody,
    responses((status = 201, body = CreatedWebhook), (status = 400, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(project): Path<String>,
    JsonBody(body): JsonBody<NewWebhookBody>,
) -> Result<(StatusCode, Json<CreatedWebhook>), ApiError> {
    let webhook = state
        .service
        .create_webhook(&who, &project, &body.url, body.events)
        .await?;
    let secret = webhook.secret.clone();
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook { webhook, secret }),
    ))
}

#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.service.delete_webhook(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A webhook's deliveries, newest first, with their attempts and last answer.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = DeliveryList), (status = 404, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn deliveries(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<DeliveryList>, ApiError> {
    Ok(Json(DeliveryList {
        deliveries: state.service.deliveries(&who, &id, 100).await?,
    }))
}

/// Send a delivery again.
#[utoipa::path(post, path = "/v1/deliveries/{id}/redeliver", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 202, body = Delivery), (status = 404, body = Problem)), security(("bearer" = []), ("basic" = [])))]
pub async fn redeliver(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Delivery>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(state.service.redeliver(&who, &id).await?),
    ))
}
