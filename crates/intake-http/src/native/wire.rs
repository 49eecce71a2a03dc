//! The native API's request and response bodies.

use chrono::{DateTime, Utc};
use intake_core::{
    ApiKey, Delivery, Error, Event, FileRecord, FileStatus, Format, Metadata, Reason, Scopes, Task,
    Webhook,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Links {
    #[serde(rename = "self")]
    pub this: String,
    pub content: String,
}

/// A stored file.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FileView {
    pub id: String,
    pub project_id: String,
    /// 0 is the project's root.
    pub folder_id: i64,
    pub upload_id: String,
    pub name: String,
    pub original_filename: Option<String>,
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    /// From the bytes, not the name or declared type.
    pub detected_format: Format,
    pub declared_content_type: Option<String>,
    pub metadata: Metadata,
    pub status: FileStatus,
    /// Why the file was rejected: format, dimensions, page_count,
    /// unrenderable, preflight or duplicate.
    pub reason: Option<Reason>,
    pub document_class: Option<String>,
    /// The id a dialect gave the file in its own format, if any (see
    /// `GET /v1/files/by-external-id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// What inspection found (pages, page sizes, image size, …).
    pub properties: Option<serde_json::Value>,
    /// The processing steps (on single-file reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<Task>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub links: Links,
}

impl From<FileRecord> for FileView {
    fn from(f: FileRecord) -> FileView {
        let this = format!("/v1/files/{}", f.id);
        FileView {
            links: Links {
                content: format!("{this}/content"),
                this,
            },
            id: f.id,
            project_id: f.project_id,
            folder_id: f.folder_id,
            upload_id: f.upload_id,
            name: f.name,
            original_filename: f.original_filename,
            size: f.size,
            sha256: f.sha256,
            detected_format: f.detected_format,
            declared_content_type: f.declared_content_type,
            metadata: f.metadata,
            status: f.status,
            reason: f.reason,
            document_class: f.document_class,
            external_id: f.external_id,
            properties: f.properties,
            tasks: None,
            created_at: f.created_at,
            updated_at: f.updated_at,
            expires_at: f.expires_at,
        }
    }
}

/// The multipart form of an upload (for the OpenAPI document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// One or more files.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    pub file: Vec<String>,
    /// Display name for the file(s); defaults to the original filename.
    pub name: Option<String>,
    /// A JSON object of string values, e.g. `{"customer":"42"}`.
    pub meta: Option<String>,
    /// Folder to put the files in; 0 (default) is the root.
    pub folder_id: Option<i64>,
    /// Document class whose checks apply, e.g. `Letter 8.5 x 11`.
    pub document_class: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UploadResponse {
    pub upload_id: String,
    pub files: Vec<FileView>,
}

/// An upload (one request) and its files.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UploadView {
    pub id: String,
    pub project_id: String,
    pub name: Option<String>,
    pub metadata: Metadata,
    /// `processing` until every file is final, then `complete`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub files: Vec<FileView>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitParams {
    /// Long-poll: wait up to this long (e.g. `10s`, at most 60 s) for the
    /// status to change.
    pub wait: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExternalIdParams {
    /// The id a dialect gave the file (URL-encoded), e.g. `s3://WS/2026/6/<32 hex>`.
    pub id: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookBody {
    pub url: String,
    /// Empty or absent: every event.
    #[serde(default)]
    pub events: Vec<Event>,
}

/// A created webhook, with its signing secret (shown once).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// HMAC-SHA256 key: `Intake-Signature: t=<unix>,v1=<hex of HMAC(secret, "<t>.<body>")>`.
    pub secret: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<Delivery>,
}

/// Parses a wait such as `10s`, `1500ms` or `10` (seconds), capped at 60 s.
pub fn parse_wait(raw: Option<&str>) -> Result<Option<std::time::Duration>, Error> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let parsed = match raw.parse::<u64>() {
        Ok(secs) => Ok(std::time::Duration::from_secs(secs)),
        Err(_) => humantime::parse_duration(raw),
    };
    let wait = parsed.map_err(|_| {
        Error::bad_request("invalid_query", format!("wait={raw:?} is not a duration"))
    })?;
    Ok(Some(wait.min(std::time::Duration::from_secs(60))))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FileList {
    pub files: Vec<FileView>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page size, 1 to 1000 (default 50).
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    pub status: Option<FileStatus>,
    pub name_prefix: Option<String>,
    /// RFC 3339; inclusive.
    pub created_after: Option<DateTime<Utc>>,
    /// RFC 3339; exclusive.
    pub created_before: Option<DateTime<Utc>>,
    pub folder_id: Option<i64>,
}

/// A created key: shown with its token, once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// The secret. It is not stored and cannot be shown again.
    pub token: String,
    /// With `"s3": true`: the S3 access key id for SigV4 clients (boto3…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_access_key_id: Option<String>,
    /// With `"s3": true`: the S3 secret access key, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_secret_access_key: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyBody {
    #[serde(default)]
    pub name: String,
    /// Defaults to `["files:read", "files:write"]`.
    pub scopes: Option<Scopes>,
    /// Project slugs or ids; empty: every project of the tenant.
    #[serde(default)]
    pub projects: Vec<String>,
    /// Also give the key an S3 access key id and secret, for signing S3
    /// POST forms and presigned URLs (`/s3/<project>`) with SigV4.
    #[serde(default)]
    pub s3: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    pub username: String,
    pub password: String,
    pub scopes: Option<Scopes>,
    #[serde(default)]
    pub projects: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProjectBody {
    pub slug: String,
    pub name: Option<String>,
    #[serde(default)]
    pub policy: intake_core::Policy,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectPatch {
    pub name: Option<String>,
    /// Replaces the whole policy.
    pub policy: Option<intake_core::Policy>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFolderBody {
    pub name: String,
    /// 0 (default) for a folder at the root.
    #[serde(default)]
    pub parent_id: i64,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FolderParams {
    /// Only the direct children of this folder (0: the root's).
    pub parent_id: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenantBody {
    pub slug: String,
    pub name: Option<String>,
}

/// Parses the `meta` field: a JSON object whose values are strings (numbers
/// and booleans are kept as their JSON text).
pub fn parse_metadata(raw: Option<&str>) -> Result<Metadata, Error> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(Metadata::new());
    };
    let invalid = |why: &str| {
        Error::bad_request(
            "invalid_metadata",
            format!("meta must be a JSON object of strings: {why}"),
        )
    };
    let value: serde_json::Value =
        serde_json::from_str(raw).map_err(|e| invalid(&e.to_string()))?;
    let serde_json::Value::Object(map) = value else {
        return Err(invalid("not an object"));
    };
    if map.len() > 100 {
        return Err(invalid("more than 100 keys"));
    }
    map.into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => Ok((k, s)),
            serde_json::Value::Number(n) => Ok((k, n.to_string())),
            serde_json::Value::Bool(b) => Ok((k, b.to_string())),
            _ => Err(invalid(&format!("the value of {k:?} is not a string"))),
        })
        .collect()
}

pub fn parse_folder_id(raw: Option<&str>) -> Result<i64, Error> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(0),
        Some(r) => r.parse().map_err(|_| {
            Error::bad_request(
                "invalid_folder",
                format!("folder_id {r:?} is not a folder id"),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_an_object_of_strings() {
        let m = parse_metadata(Some(r#"{"customer":"42","n":7,"ok":true}"#)).unwrap();
        assert_eq!(m["customer"], "42");
        assert_eq!(m["n"], "7");
        assert_eq!(m["ok"], "true");
        assert!(parse_metadata(None).unwrap().is_empty());
        for bad in ["[1]", "\"x\"", "{\"a\":{}}", "{\"a\":null}", "{not json"] {
            assert_eq!(
                parse_metadata(Some(bad)).unwrap_err().code,
                "invalid_metadata",
                "{bad}"
            );
        }
    }

    #[test]
    fn folder_ids_parse() {
        assert_eq!(parse_folder_id(None).unwrap(), 0);
        assert_eq!(parse_folder_id(Some(" 3 ")).unwrap(), 3);
        assert_eq!(
            parse_folder_id(Some("x")).unwrap_err().code,
            "invalid_folder"
        );
    }
}
