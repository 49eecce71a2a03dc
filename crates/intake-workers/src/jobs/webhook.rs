//! Webhook events: building a file event's deliveries, and the `deliver_webhook` job.
//!
//! # Contract
//!
//! - A delivery is built with its payload when the event happens, and committed with the change
//!   that caused it (`finish_file`, `expire_file`), so an event is never lost or doubled.
//!   The payload is fixed from then on: a retry sends the same body, with a fresh signature.
//! - The body is `{"id": "dlv_…", "event": "file.ready", "created_at": …, "data": {"file": {…},
//!   "detail": "…"}}`; the file is shown as the native API shows it (plus `document_class` and
//!   `properties`), `detail` says why a file was refused or failed.
//! - Each attempt is a POST with `Content-Type: application/json`, `Intake-Event`,
//!   `Intake-Delivery` (the delivery id: receivers deduplicate on it, since a delivery whose
//!   worker died after the POST is sent again) and `Intake-Signature` (see [`crate::sign`]).
//!   Redirects are not followed. Any 2xx delivers it; anything else records the attempt
//!   (status, the first KiB of the answer or the transport error) and is retried with backoff;
//!   after the last attempt the delivery is `failed` (it can be re-sent through the API).
//! - A delivery or webhook that was deleted meanwhile is not sent.

use futures::StreamExt;
use intake_core::{Delivery, DeliveryState, Event, FileRecord, new_id, now};
use serde_json::{Value, json};
use tracing::instrument;

use super::{Ctx, JobError};
use crate::sign::sign;

/// How much of a receiver's answer is kept.
const RESPONSE_KEEP: usize = 1024;

/// One pending delivery per webhook of the file's project that wants `event`.
pub(crate) async fn deliveries_for(
    ctx: &Ctx,
    file: &FileRecord,
    event: Event,
    detail: Option<&str>,
) -> Result<Vec<Delivery>, JobError> {
    let hooks = ctx.catalog.webhooks(&file.project_id).await?;
    let at = now();
    let deliveries = hooks
        .into_iter()
        .filter(|hook| hook.wants(event))
        .map(|hook| {
            let id = new_id("dlv");
            let mut data = json!({ "file": file_view(file) });
            if let Some(detail) = detail {
                data["detail"] = json!(detail);
            }
            let payload =
                json!({ "id": id, "event": event.as_str(), "created_at": at, "data": data });
            Delivery {
                id,
                webhook_id: hook.id,
                event,
                payload,
                state: DeliveryState::Pending,
                attempts: 0,
                last_status: None,
                last_response: None,
                created_at: at,
                updated_at: at,
            }
        })
        .collect();
    Ok(deliveries)
}

/// The file as the native API shows it (`GET /v1/files/{id}`), plus what inspection found.
pub(crate) fn file_view(f: &FileRecord) -> Value {
    let this = format!("/v1/files/{}", f.id);
    json!({
        "id": f.id,
        "project_id": f.project_id,
        "folder_id": f.folder_id,
        "upload_id": f.upload_id,
        "name": f.name,
        "original_filename": f.original_filename,
        "size": f.size,
        "sha256": f.sha256,
        "detected_format": f.detected_format,
        "declared_content_type": f.declared_content_type,
        "document_class": f.document_class,
        "metadata": f.metadata,
        "status": f.status,
        "reason": f.reason,
        "properties": f.properties,
        "created_at": f.created_at,
        "updated_at": f.updated_at,
        "expires_at": f.expires_at,
        "links": { "self": this, "content": format!("{this}/content") },
    })
}

#[instrument(skip_all, fields(delivery.id = %delivery_id))]
pub(crate) async fn deliver(ctx: &Ctx, delivery_id: &str) -> Result<(), JobError> {
    let mut delivery = match ctx.catalog.delivery(delivery_id).await {
        Ok(d) => d,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if delivery.state == DeliveryState::Delivered {
        return Ok(());
    }
    let hook = match ctx.catalog.webhook(&delivery.webhook_id).await {
        Ok(hook) => hook,
        Err(e) if e.is_not_found() => {
            tracing::debug!("the webhook was deleted; not sending");
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let body =
        serde_json::to_vec(&delivery.payload).map_err(|e| JobError::permanent(e.to_string()))?;
    let signature = sign(&hook.secret, now().timestamp(), &body);
    let sent = ctx
        .http
        .post(&hook.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Intake-Event", delivery.event.as_str())
        .header("Intake-Delivery", &delivery.id)
        .header("Intake-Signature", signature)
        .body(body)
        .send()
        .await;
    delivery.attempts += 1;
    delivery.updated_at = now();
    let failure = match sent {
        Ok(response) => {
            let status = response.status();
            delivery.last_status = Some(status.as_u16());
            delivery.last_response = Some(read_start(response).await);
            if status.is_success() {
                delivery.state = DeliveryState::Delivered;
                None
            } else {
                Some(format!("the receiver answered {status}"))
            }
        }
        Err(e) => {
            let error = transport_error(&e);
            delivery.last_status = None;
            delivery.last_response = Some(error.clone());
            Some(error)
        }
    };
    ctx.catalog.save_delivery(&delivery).await?;
    match failure {
        None => {
            tracing::info!(attempts = delivery.attempts, "webhook delivered");
            Ok(())
        }
        Some(error) => {
            tracing::info!(%error, attempts = delivery.attempts, "webhook delivery failed");
            Err(JobError::retry(error))
        }
    }
}

/// After the last attempt: the delivery is marked failed (re-sendable through the API).
#[instrument(skip_all, fields(delivery.id = %delivery_id))]
pub(crate) async fn give_up(ctx: &Ctx, delivery_id: &str, error: &str) -> Result<(), JobError> {
    let mut delivery = match ctx.catalog.delivery(delivery_id).await {
        Ok(d) => d,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if delivery.state != DeliveryState::Pending {
        return Ok(());
    }
    delivery.state = DeliveryState::Failed;
    delivery.updated_at = now();
    if delivery.last_response.is_none() {
        delivery.last_response = Some(error.to_owned());
    }
    ctx.catalog.save_delivery(&delivery).await?;
    tracing::warn!(%error, attempts = delivery.attempts, "gave up on a webhook delivery");
    Ok(())
}

/// The first KiB of the answer, read no further (a receiver may answer with a huge page).
async fn read_start(response: reqwest::Response) -> String {
    let mut kept = Vec::with_capacity(RESPONSE_KEEP);
    let mut body = response.bytes_stream();
    while kept.len() < RESPONSE_KEEP {
        match body.next().await {
            Some(Ok(chunk)) => {
                kept.extend_from_slice(&chunk[..chunk.len().min(RESPONSE_KEEP - kept.len())])
            }
            _ => break,
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// A transport error with its causes (reqwest's own message is only "error sending request").
fn transport_error(e: &reqwest::Error) -> String {
    let mut message = if e.is_timeout() {
        "timed out".to_owned()
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
