//! The checks step: the project's preflight rules and the file's document class, applied to
//! what inspection found (`intake_core::checks` holds the rules themselves).
//!
//! - Format first: the bytes must admit what the client declared (content type, file name)
//!   and the project must allow the format. Uploads received strictly were refused at the door
//!   for this; a dialect that accepts leniently (004) gets `rejected`/`format` here.
//! - Preflight runs when the project forbids anything; a failure is `rejected`/`preflight`.
//! - The document class is the file's own (chosen at upload), else the project's default. A
//!   failure is `rejected` with `page_count` or `dimensions`. A class the project no longer
//!   defines cannot be checked and will not appear by retrying: the file ends `failed`.
//! - With neither, the task is Skipped. Otherwise its result lists the checks that ran:
//!   `{"ran": ["preflight", "document_class"], "document_class": "Letter 8.5 x 11"}`.
//!
//! A document whose pages the inspector could not see (an encrypted object stream) passes the
//! class check vacuously; preflight's `forbid_encrypted` is the rule that catches those.

use intake_core::checks::{check_class, check_preflight};
use intake_core::{FileRecord, FileStatus, Format, Policy, Preflight, Reason, TaskName, TaskState};
use intake_inspect::Properties;
use serde_json::json;

use super::JobError;
use super::process::{Refused, TaskLog};
use crate::facts::document_facts;

/// Runs the checks step; `Some` when the file fails one.
pub(crate) async fn checks(
    file: &FileRecord,
    policy: &Policy,
    props: &Properties,
    log: &mut TaskLog<'_>,
) -> Result<Option<Refused>, JobError> {
    if let Some(detail) = format_refusal(file, policy) {
        log.start(TaskName::Checks).await?;
        return refuse(log, json!({ "ran": ["format"] }), Reason::Format, detail).await;
    }
    let class_name = file
        .document_class
        .as_ref()
        .or(policy.default_document_class.as_ref());
    let preflight = policy.preflight != Preflight::default();
    if !preflight && class_name.is_none() {
        log.skip(
            TaskName::Checks,
            "the project has no preflight rules and the file no document class",
        )
        .await?;
        return Ok(None);
    }
    log.start(TaskName::Checks).await?;
    let facts = document_facts(props);
    let mut ran = Vec::new();
    let mut verdict = Ok(());
    if preflight {
        ran.push("preflight");
        verdict = check_preflight(&facts, &policy.preflight);
    }
    if let Some(name) = class_name
        && verdict.is_ok()
    {
        let class = policy.document_class(name).map_err(|_| {
            JobError::permanent(format!("the document class {name:?} is not defined"))
        })?;
        ran.push("document_class");
        verdict = check_class(&facts, &class);
    }
    let result = json!({ "ran": ran, "document_class": class_name });
    match verdict {
        Ok(()) => {
            log.end(TaskName::Checks, TaskState::Done, Some(result), None)
                .await?;
            Ok(None)
        }
        Err(refusal) => refuse(log, result, refusal.reason, refusal.detail).await,
    }
}

/// Why the file's format is refused: bytes that contradict the declaration,
/// or a format the project does not allow.
fn format_refusal(file: &FileRecord, policy: &Policy) -> Option<String> {
    // The recorded format may be a refinement of what the bytes showed.
    let detected = file.detected_format.family();
    let declared = Format::decide(
        detected,
        file.declared_content_type.as_deref(),
        file.original_filename.as_deref(),
    );
    match declared {
        Err(declared) => Some(format!(
            "the file was declared {declared} but its bytes are {detected}"
        )),
        Ok(_) => policy
            .check_format(file.detected_format)
            .err()
            .map(|e| e.message),
    }
}

async fn refuse(
    log: &mut TaskLog<'_>,
    result: serde_json::Value,
    reason: Reason,
    detail: String,
) -> Result<Option<Refused>, JobError> {
    tracing::info!(reason = reason.as_str(), %detail, "file refused by a check");
    log.end(
        TaskName::Checks,
        TaskState::Failed,
        Some(result),
        Some(detail.clone()),
    )
    .await?;
    Ok(Some(Refused {
        status: FileStatus::Rejected,
        reason: Some(reason),
        detail,
    }))
}
