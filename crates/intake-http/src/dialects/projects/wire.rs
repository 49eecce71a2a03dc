//! The project-uploads dialect's JSON: the upload with its tasks, the
//! `meta` array, and the error body.

use chrono::{DateTime, Utc};
use intake_core::{Error, FileRecord, FileStatus, Metadata, Reason, Upload};
use serde::{Deserialize, Serialize};

/// An upload as the seed shows it, plus its tasks (one per file).
/// `fileType` and `fileSize` are the first file's type and the total size.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadView {
    pub id: String,
    pub name: Option<String>,
    pub project_id: String,
    /// `processing` while any task runs; then `completed` when every task
    /// completed, else `failed`.
    pub status: &'static str,
    pub file_type: String,
    pub file_size: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub meta: Vec<MetaItem>,
    pub tasks: Vec<TaskView>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskView {
    /// The file's id (`file_…`), readable in the native API.
    pub id: String,
    pub file_name: String,
    pub file_type: String,
    pub file_size: u64,
    /// `processing`, `completed`, `failed` or `expired`.
    pub status: &'static str,
    /// Why a failed task failed: `format`, `dimensions`, `page_count`,
    /// `unrenderable`, `preflight`, or `infected` / `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaItem {
    pub name: String,
    pub value: serde_json::Value,
}

/// The error body, in the shape Node API frameworks use:
/// `{"statusCode":403,"message":"…","error":"Forbidden","code":"forbidden"}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    pub status_code: u16,
    pub message: String,
    pub error: String,
    /// intake's stable error code.
    pub code: String,
}

fn task_status(status: FileStatus) -> &'static str {
    match status {
        FileStatus::Received | FileStatus::Processing => "processing",
        FileStatus::Ready => "completed",
        FileStatus::Rejected | FileStatus::Infected | FileStatus::Failed => "failed",
        FileStatus::Expired => "expired",
    }
}

fn task_reason(file: &FileRecord) -> Option<&'static str> {
    match file.status {
        FileStatus::Rejected => Some(file.reason.map_or("rejected", Reason::as_str)),
        FileStatus::Infected => Some("infected"),
        FileStatus::Failed => Some("error"),
        _ => None,
    }
}

pub fn view(upload: Upload, project_id: String, files: Vec<FileRecord>) -> UploadView {
    let tasks: Vec<TaskView> = files
        .iter()
        .map(|f| TaskView {
            id: f.id.clone(),
            file_name: f
                .original_filename
                .clone()
                .unwrap_or_else(|| f.name.clone()),
            file_type: f.detected_format.as_str().to_owned(),
            file_size: f.size,
            status: task_status(f.status),
            reason: task_reason(f),
            created_at: f.created_at,
            updated_at: f.updated_at,
        })
        .collect();
    let status = if tasks.iter().any(|t| t.status == "processing") {
        "processing"
    } else if tasks.iter().all(|t| t.status != "failed") {
        "completed"
    } else {
        "failed"
    };
    let updated_at = files
        .iter()
        .map(|f| f.updated_at)
        .max()
        .unwrap_or(upload.created_at);
    UploadView {
        id: upload.id,
        name: upload.name,
        project_id,
        status,
        file_type: tasks
            .first()
            .map(|t| t.file_type.clone())
            .unwrap_or_default(),
        file_size: files.iter().map(|f| f.size).sum(),
        created_at: upload.created_at,
        updated_at,
        meta: upload
            .metadata
            .into_iter()
            .map(|(name, value)| MetaItem {
                name,
                value: serde_json::Value::String(value),
            })
            .collect(),
        tasks,
    }
}

/// Parses `meta`: a JSON array of `{"name": …, "value": …}`; values that
/// are numbers or booleans are kept as their JSON text.
pub fn parse_meta(raw: Option<&str>) -> Result<Metadata, Error> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(Metadata::new());
    };
    let invalid = |why: String| {
        Error::bad_request(
            "invalid_metadata",
            format!("meta must be a JSON array of {{name, value}} objects: {why}"),
        )
    };
    let items: Vec<MetaItem> = serde_json::from_str(raw).map_err(|e| invalid(e.to_string()))?;
    if items.len() > 100 {
        return Err(invalid("more than 100 items".into()));
    }
    items
        .into_iter()
        .map(|item| {
            let value = match item.value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => {
                    return Err(invalid(format!(
                        "the value of {:?} is not a string",
                        item.name
                    )));
                }
            };
            if item.name.trim().is_empty() {
                return Err(invalid("an item has an empty name".into()));
            }
            Ok((item.name, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_is_an_array_of_name_value_pairs() {
        let m = parse_meta(Some(
            r#"[{"name":"category", "value":"invoice"},{"name":"n","value":3}]"#,
        ))
        .unwrap();
        assert_eq!(m["category"], "invoice");
        assert_eq!(m["n"], "3");
        assert!(parse_meta(None).unwrap().is_empty());
        for bad in [
            "{}",
            "[1]",
            r#"[{"name":"a"}]"#,
            r#"[{"name":"a","value":{}}]"#,
            "[",
            r#"[{"name":"","value":"x"}]"#,
        ] {
            assert_eq!(
                parse_meta(Some(bad)).unwrap_err().code,
                "invalid_metadata",
                "{bad}"
            );
        }
    }

    #[test]
    fn statuses_follow_the_files() {
        assert_eq!(task_status(FileStatus::Received), "processing");
        assert_eq!(task_status(FileStatus::Ready), "completed");
        assert_eq!(task_status(FileStatus::Rejected), "failed");
    }
}
