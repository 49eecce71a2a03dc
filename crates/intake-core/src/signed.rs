//! Signed direct uploads: S3-style credentials of API keys, and upload
//! intents (a short-lived, signed permission to POST one file).

use crate::model::Metadata;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Upload intent ids start with this; an intent's id is also the access
/// key id its forms and download URLs are signed with.
pub const INTENT_PREFIX: &str = "int";
/// S3 access key ids of API keys start with this (20 characters in all,
/// like AWS's).
pub const ACCESS_KEY_PREFIX: &str = "IKAK";

/// An API key's S3 credential: an access key id and the secret SigV4
/// signatures are made with. Unlike a bearer token the secret is stored as
/// it is, because the server must compute the same signature (as every S3
/// server does).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct S3Credential {
    pub access_key_id: String,
    pub tenant_id: String,
    /// The API key whose scopes and projects the credential carries.
    pub key_id: String,
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for S3Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Credential")
            .field("access_key_id", &self.access_key_id)
            .field("tenant_id", &self.tenant_id)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// A signed permission to upload one file into a project, and to download
/// it afterwards. The POST form and the download URL are signed with the
/// intent's own secret, so a form can only ever write its own file.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadIntent {
    /// `int_…`.
    pub id: String,
    pub tenant_id: String,
    pub project_id: String,
    /// The key or user that asked for it.
    pub credential_id: String,
    /// The id the file will have.
    pub file_id: String,
    /// The object key of the form (`uploads/<file id>/<filename>`).
    pub key: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub metadata: Metadata,
    /// Largest body the form allows.
    pub max_size: u64,
    pub secret: String,
    pub created_at: DateTime<Utc>,
    /// The form works until then.
    pub upload_expires_at: DateTime<Utc>,
    /// The download URL works until then.
    pub download_expires_at: DateTime<Utc>,
    /// The file the upload created (another id when the project's
    /// `duplicates: reuse` answered an existing file), once it happened.
    pub uploaded_file_id: Option<String>,
    pub uploaded_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for UploadIntent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadIntent")
            .field("id", &self.id)
            .field("project_id", &self.project_id)
            .field("file_id", &self.file_id)
            .field("key", &self.key)
            .field("upload_expires_at", &self.upload_expires_at)
            .field("uploaded_file_id", &self.uploaded_file_id)
            .finish_non_exhaustive()
    }
}

impl UploadIntent {
    /// The prefix every key of this intent's form starts with.
    pub fn key_prefix(&self) -> String {
        key_prefix(&self.file_id)
    }
}

/// `uploads/<file id>/`.
pub fn key_prefix(file_id: &str) -> String {
    format!("uploads/{file_id}/")
}

/// The file id in a key `uploads/<file id>/…`.
pub fn file_id_of_key(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("uploads/")?;
    let (id, _) = rest.split_once('/')?;
    crate::id::is_id(crate::id::prefix::FILE, id).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_file() {
        let id = crate::new_id("file");
        let key = format!("{}a.pdf", key_prefix(&id));
        assert_eq!(file_id_of_key(&key), Some(id.as_str()));
        assert_eq!(file_id_of_key("uploads/x/a.pdf"), None);
        assert_eq!(file_id_of_key("other/a.pdf"), None);
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let c = S3Credential {
            access_key_id: "IKAKX".into(),
            tenant_id: "ten_x".into(),
            key_id: "key_x".into(),
            secret: "very-secret".into(),
            created_at: crate::now(),
        };
        assert!(!format!("{c:?}").contains("very-secret"));
    }
}
