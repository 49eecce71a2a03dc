//! `POST /molpro/documents`: receive, check the fields against the file,
//! commit, wait for processing, answer XML.
//!
//! The file part's bytes must be the `documentFormat` they claim: a file
//! whose extension names another format is a parameter error (9), while
//! bytes that contradict the declared format cannot be rendered as it (4),
//! like a PDF whose structure is broken.

use super::error::MailingError;
use super::wire::{self, DocumentFields};
use crate::AppState;
use crate::auth::caller;
use crate::common::{InFlight, body_stream, content_types, count_upload};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use intake_core::{Error, ErrorKind, FileRecord, FileStatus, Format, Reason, Scope, TaskState};
use intake_ingest::Form;
use intake_service::{FormatCheck, NewUpload, decide_format};

pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    match upload(&state, &headers, body).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn upload(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, MailingError> {
    let service = &state.service;
    let who = caller(state, headers).await?;
    let project = service
        .project_for(
            &who,
            &state.config.dialects.mailing_project,
            Scope::FilesWrite,
        )
        .await?;
    let _in_flight = InFlight::start();
    // Lenient: the format checks below come after the parameter checks, in
    // the seed's order, so they must not fail the read itself.
    let form = service
        .receive(
            &project,
            body_stream(body),
            &content_types(headers),
            &["file"],
            FormatCheck::Lenient,
        )
        .await?;
    let fields = DocumentFields::from_form(&form)?;
    check_file(&form, fields.format)?;
    project.policy.check_format(fields.format)?;
    let new = NewUpload {
        upload_name: Some(fields.name.clone()),
        file_name: Some(intake_core::name::check_display_name(
            &fields.name,
            "documentName",
        )?),
        document_class: Some(fields.class),
        ..NewUpload::default()
    };
    let outcome = service.commit(&who, &project, form, new).await?;
    count_upload(&outcome.files);
    let files = service
        .wait_until_final(outcome.files, project.policy.wait())
        .await?;
    let Some(file) = files.into_iter().next() else {
        return Err(Error::internal().into());
    };
    answer(state, file).await
}

/// The file part against `documentFormat`: its extension must name that
/// format, and its bytes must be able to be it.
fn check_file(form: &Form, format: Format) -> Result<(), Error> {
    let Some(staged) = form.files.first() else {
        return Err(Error::bad_request("missing_file", wire::MISSING_FILE));
    };
    let extension = staged
        .part
        .filename
        .as_deref()
        .and_then(Format::from_extension);
    if extension != Some(format) {
        return Err(Error::bad_request(
            "extension_mismatch",
            format!("The file's extension must match documentFormat ({format})."),
        ));
    }
    let contradicted = || {
        Error::bad_request(
            "format_mismatch",
            "the bytes are not the declared documentFormat",
        )
        .with_reason(Reason::Unrenderable)
    };
    if Format::reconcile(staged.blob.detected, Some(format)).is_none() {
        return Err(contradicted());
    }
    // A part Content-Type that contradicts the bytes is a bad parameter.
    decide_format(&staged.part, staged.blob.detected)
        .map_err(|e| Error::bad_request("format_mismatch", e.message))?;
    Ok(())
}

/// 201 with the page count once the file is ready; its refusal otherwise.
async fn answer(state: &AppState, file: FileRecord) -> Result<Response, MailingError> {
    let refused = |reason: Reason, message: String| MailingError {
        error: Error::bad_request("rejected", message).with_reason(reason),
        id: None,
    };
    match file.status {
        FileStatus::Ready => {
            let pages = wire::pages(file.properties.as_ref(), file.detected_format);
            let body = wire::success(&file.id, pages);
            let mut response = (StatusCode::CREATED, body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/xml"),
            );
            Ok(response)
        }
        FileStatus::Rejected => {
            let reason = file.reason.unwrap_or(Reason::Unrenderable);
            Err(refused(reason, refusal_detail(state, &file).await))
        }
        FileStatus::Infected => Err(refused(
            Reason::Preflight,
            format!(
                "The document failed preflight: {}",
                refusal_detail(state, &file).await
            ),
        )),
        FileStatus::Received | FileStatus::Processing => Err(MailingError {
            error: Error::new(
                ErrorKind::Unavailable,
                "processing_timeout",
                "The document was stored but not yet checked; try again later.",
            ),
            id: Some(file.id),
        }),
        FileStatus::Failed | FileStatus::Expired => Err(Error::internal().into()),
    }
}

/// What the failed processing step said, for the statuses whose message is
/// the seed's "custom error message".
async fn refusal_detail(state: &AppState, file: &FileRecord) -> String {
    let tasks = state.service.tasks(file).await.unwrap_or_default();
    let detail = tasks
        .into_iter()
        .filter(|t| t.state == TaskState::Failed)
        .find_map(|t| t.error);
    match (file.reason, detail) {
        (Some(Reason::PageCount), Some(d)) => format!("Page count outside of range: {d}"),
        (Some(Reason::Preflight), Some(d)) => format!("Preflight failed: {d}"),
        (_, Some(d)) => d,
        (_, None) => "The document was refused by its checks".to_owned(),
    }
}
