//! The records intake keeps. The catalog stores them; front ends render them.

use crate::error::Reason;
use crate::format::Format;
use crate::policy::Policy;
use crate::scope::{Scope, Scopes};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A file's metadata: string pairs chosen by the client.
pub type Metadata = BTreeMap<String, String>;

/// The id of a project's root folder.
pub const ROOT_FOLDER: i64 = 0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tenant {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Project {
    pub id: String,
    #[serde(skip)]
    pub tenant_id: String,
    pub slug: String,
    pub name: String,
    pub policy: Policy,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Folder {
    pub id: i64,
    #[serde(skip)]
    pub project_id: String,
    /// 0 for a folder at the root.
    pub parent_id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    Received,
    Processing,
    Ready,
    Rejected,
    Infected,
    Failed,
    Expired,
}

impl FileStatus {
    pub const ALL: [FileStatus; 7] = [
        FileStatus::Received,
        FileStatus::Processing,
        FileStatus::Ready,
        FileStatus::Rejected,
        FileStatus::Infected,
        FileStatus::Failed,
        FileStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Received => "received",
            FileStatus::Processing => "processing",
            FileStatus::Ready => "ready",
            FileStatus::Rejected => "rejected",
            FileStatus::Infected => "infected",
            FileStatus::Failed => "failed",
            FileStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<FileStatus> {
        FileStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether processing is over for a file in this status.
    pub fn is_final(self) -> bool {
        !matches!(self, FileStatus::Received | FileStatus::Processing)
    }
}

/// One stored upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    pub id: String,
    pub tenant_id: String,
    pub project_id: String,
    pub folder_id: i64,
    /// The request that brought it (several files may share one).
    pub upload_id: String,
    /// Display name: the client's `name`, else the original filename.
    pub name: String,
    pub original_filename: Option<String>,
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
    pub detected_format: Format,
    pub declared_content_type: Option<String>,
    pub metadata: Metadata,
    pub status: FileStatus,
    pub reason: Option<Reason>,
    /// Where the bytes are, in the blob store. Shared by identical files of
    /// the tenant.
    pub blob_key: String,
    /// The document class its checks use, when one applies.
    pub document_class: Option<String>,
    /// An id a front end gave the file in its own format (unique per
    /// tenant), e.g. the attachments dialect's `s3://WS/2026/11/<hex>`.
    pub external_id: Option<String>,
    /// What inspection found, once it has run.
    pub properties: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The request that brought one or more files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upload {
    pub id: String,
    pub tenant_id: String,
    pub project_id: String,
    pub name: Option<String>,
    pub metadata: Metadata,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: String,
    #[serde(skip)]
    pub tenant_id: String,
    pub name: String,
    /// The first characters of the secret, to recognise it in a list.
    pub prefix: String,
    pub scopes: Scopes,
    /// Projects (ids) the key is limited to; empty means all of its tenant's.
    pub projects: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    #[serde(skip)]
    pub tenant_id: String,
    pub username: String,
    pub scopes: Scopes,
    pub projects: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// Who is making a request, once authenticated.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub tenant: Tenant,
    pub scopes: Scopes,
    /// Projects (ids) the credential is limited to; empty means all.
    pub projects: Vec<String>,
    /// `key_…` or `usr_…`, for logs and audit.
    pub credential_id: String,
}

impl Principal {
    pub fn require(&self, scope: Scope) -> Result<(), crate::Error> {
        if self.scopes.allows(scope) {
            Ok(())
        } else {
            Err(crate::Error::forbidden(format!(
                "this credential lacks the {scope} scope"
            )))
        }
    }

    /// Whether the credential reaches `project_id`. A project it cannot reach
    /// is answered as not found, like another tenant's.
    pub fn reaches(&self, project_id: &str) -> bool {
        self.projects.is_empty() || self.projects.iter().any(|p| p == project_id)
    }
}
