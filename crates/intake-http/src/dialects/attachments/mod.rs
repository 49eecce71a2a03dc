//! 003, conversation attachments: `POST
//! /dana/conversation/http/rest/file/upload`, the file-upload service of a
//! conversation platform. HTTP Basic as `user@companycode:password` (the
//! company code is the tenant's slug); one multipart `file`. Answers 200
//! JSON with `fileID` (`s3://WS/<year>/<month>/<32 hex>`, stored as the
//! file's external id, so `GET /v1/files/by-external-id?id=…` finds it),
//! `fileName`, `idCompany`, and `requestID` when the request has
//! `X-DEBUG: 1`. Files go into the tenant's project
//! `dialects.attachments_project` and are kept for its `retention_seconds`,
//! or 7 days when it sets none. Errors: see [`error`].

mod error;
mod handlers;
mod wire;

use crate::AppState;
use axum::Router;
use axum::routing::post;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/dana/conversation/http/rest/file/upload",
        post(handlers::post),
    )
}
