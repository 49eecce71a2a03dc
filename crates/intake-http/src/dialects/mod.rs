//! The seed dialects: five real upload APIs, each mounted at the root paths
//! its own clients use, each a thin translation onto `intake_service`. A
//! dialect holds no business rule; it maps its wire format to the core
//! (files, projects, folders, tasks, reason codes) and back, and renders
//! errors in its own format. Each can be switched off in configuration.

mod attachments;
mod library;
mod mailing;
mod projects;
mod signed;

use crate::AppState;
use axum::Router;
use serde::{Deserialize, Serialize};

/// Which dialects are mounted, and the project each one files uploads
/// under (a slug within the caller's tenant) where its wire format does not
/// name one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DialectsConfig {
    /// `POST /molpro/documents` (000: mailing documents).
    pub mailing: bool,
    pub mailing_project: String,
    /// `/v2/library/…` and `/v2/activities/…` (001: library files, lists).
    pub library: bool,
    pub library_project: String,
    /// `/api/v1/files/upload` (002: signed direct upload).
    pub signed: bool,
    pub signed_project: String,
    /// `/dana/conversation/http/rest/file/upload` (003: attachments).
    pub attachments: bool,
    pub attachments_project: String,
    /// `/v2/{team}/project/{project}/upload`, `/api/v1/uploads` (004).
    pub projects: bool,
}

impl Default for DialectsConfig {
    fn default() -> DialectsConfig {
        DialectsConfig {
            mailing: true,
            mailing_project: "default".into(),
            library: true,
            library_project: "default".into(),
            signed: true,
            signed_project: "default".into(),
            attachments: true,
            attachments_project: "default".into(),
            projects: true,
        }
    }
}

/// A dialect's switch and its routes.
type Dialect = (bool, fn() -> Router<AppState>);

/// The enabled dialects, in one readable list.
pub fn router(config: &DialectsConfig) -> Router<AppState> {
    let dialects: &[Dialect] = &[
        (config.mailing, mailing::router),         // 000
        (config.library, library::router),         // 001
        (config.signed, signed::router),           // 002
        (config.attachments, attachments::router), // 003
        (config.projects, projects::router),       // 004
    ];
    let mut router = Router::new();
    for (enabled, make) in dialects {
        if *enabled {
            router = router.merge(make());
        }
    }
    router
}
