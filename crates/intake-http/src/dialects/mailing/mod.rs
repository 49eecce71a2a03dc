//! 000, mailing documents: `POST /molpro/documents`, the upload endpoint of
//! a print-and-mail service. HTTP Basic (`user` or `user@tenant`); multipart
//! `documentName`, `documentFormat`, `documentClass`, `file`. Files go into
//! the caller's project `dialects.mailing_project`. The answer carries the
//! page count, so the request waits for processing (up to the project's
//! `wait_seconds`) and answers XML: 201 with the document's id and pages, or
//! 400 with the seed's status number (see [`error`]).
//!
//! Duplicates (status 1) and preflight (status 5) come from the project's
//! policy: the mailing project is set up with `"duplicates":"reject"` and
//! `"preflight":{"forbid_encrypted":true}` (README, "Mailing documents").

mod error;
mod handlers;
mod wire;

use crate::AppState;
use axum::Router;
use axum::routing::post;

pub fn router() -> Router<AppState> {
    Router::new().route("/molpro/documents", post(handlers::post))
}
