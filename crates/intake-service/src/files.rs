//! Uploads and files: receiving a multipart body under a project's policy,
//! committing it, and reading, listing and deleting files.

use crate::Service;
use intake_blob::ByteStream;
use intake_catalog::{FileQuery, Page};
use intake_core::{
    Error, ErrorKind, FileRecord, FileStatus, Format, Metadata, Policy, Principal, Project, Reason,
    Scope, Upload, new_id, now,
};
use intake_ingest::{Body, Form, FormSpec, PartInfo, read_form};
use std::ops::Range;

/// How a front end wants the received files recorded.
#[derive(Debug, Clone, Default)]
pub struct NewUpload {
    /// The upload's own name (shown for multi-file uploads).
    pub upload_name: Option<String>,
    /// Each file's display name; None: its original filename.
    pub file_name: Option<String>,
    pub metadata: Metadata,
    pub folder_id: i64,
    /// The document class the checks use; None: the project's default.
    pub document_class: Option<String>,
    /// Ids in the front end's own format, one per file in order.
    pub external_ids: Vec<String>,
    /// How long the files are kept when the project's policy sets no
    /// retention (a front end whose contract promises one, e.g. 7 days).
    /// The project's `retention_seconds` wins when it is set.
    pub default_retention: Option<std::time::Duration>,
}

/// How `receive` treats a declared format the bytes contradict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormatCheck {
    /// Refuse the request (415 `format_mismatch`).
    #[default]
    Strict,
    /// Accept the bytes and record what they are; the checks step then
    /// rejects the file with reason `format` (the projects dialect's way).
    Lenient,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UploadOutcome {
    pub upload: Upload,
    pub files: Vec<FileRecord>,
}

/// A file's bytes, or a range of them, ready to stream.
pub struct Content {
    pub file: FileRecord,
    pub range: Option<Range<u64>>,
    pub body: ByteStream,
}

/// A file found in the caller's tenant, if it is in a project the caller
/// reaches; anything else is simply not found.
fn visible_to(
    who: &Principal,
    found: Result<FileRecord, intake_catalog::CatalogError>,
) -> Result<FileRecord, Error> {
    match found {
        Ok(file) if who.reaches(&file.project_id) => Ok(file),
        Ok(_) => Err(file_not_found()),
        Err(e) if e.is_not_found() => Err(file_not_found()),
        Err(e) => Err(e.into()),
    }
}

/// `attachment` with an ASCII fallback name and the exact name in RFC 8187
/// encoding, so no name can break out of the header.
pub fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

fn file_not_found() -> Error {
    Error::new(ErrorKind::NotFound, "file_not_found", "file not found")
}

fn mismatch(detected: Format, declared: Format) -> Error {
    Error::new(
        ErrorKind::UnsupportedFormat,
        "format_mismatch",
        format!("the file was declared {declared} but its bytes are {detected}"),
    )
    .with_reason(Reason::Format)
}

/// Decides the format to record from the part's declarations and the
/// sniffed bytes (see [`Format::decide`]).
pub fn decide_format(part: &PartInfo, detected: Format) -> Result<Format, Error> {
    Format::decide(
        detected,
        part.content_type.as_deref(),
        part.filename.as_deref(),
    )
    .map_err(|declared| mismatch(detected, declared))
}

impl Service {
    /// Streams a multipart body into the blob store under the project's
    /// limits and format policy. Nothing is visible until [`Service::commit`].
    pub async fn receive(
        &self,
        project: &Project,
        body: Body,
        content_types: &[&str],
        file_fields: &[&str],
        format_check: FormatCheck,
    ) -> Result<Form, Error> {
        self.receive_under(
            &project.policy,
            body,
            content_types,
            file_fields,
            format_check,
        )
        .await
    }

    /// [`Service::receive`] under a policy rather than a project's: for a
    /// front end that learns the project from the body itself (a
    /// `projectId` field), which receives under the server's limits
    /// (`Policy::default()`) and then calls [`Service::admit`].
    pub async fn receive_under(
        &self,
        policy: &Policy,
        body: Body,
        content_types: &[&str],
        file_fields: &[&str],
        format_check: FormatCheck,
    ) -> Result<Form, Error> {
        let spec = FormSpec {
            file_fields,
            max_file_size: policy.max_file_size(self.limits.max_file_size),
            max_files: policy.max_files(self.limits.max_files),
        };
        let check = |part: &PartInfo, detected: Format| {
            let format = match (decide_format(part, detected), format_check) {
                (Ok(format), _) => format,
                (Err(_), FormatCheck::Lenient) => detected,
                (Err(e), FormatCheck::Strict) => return Err(e),
            };
            if format_check == FormatCheck::Strict {
                policy.check_format(format)?;
            }
            Ok(format)
        };
        read_form(
            body,
            content_types,
            &self.limits,
            &self.blobs,
            &spec,
            &check,
        )
        .await
    }

    /// Checks a form received under another policy against the project's
    /// file count, size limit and (with `Strict`) allowed formats: the same
    /// rules [`Service::receive`] applies while streaming, applied after.
    pub fn admit(
        &self,
        project: &Project,
        form: &Form,
        format_check: FormatCheck,
    ) -> Result<(), Error> {
        let policy = &project.policy;
        let max_files = policy.max_files(self.limits.max_files);
        if form.files.len() > max_files as usize {
            return Err(Error::bad_request(
                "too_many_files",
                format!("at most {max_files} files may be sent in one request"),
            ));
        }
        let max_size = policy.max_file_size(self.limits.max_file_size);
        for staged in &form.files {
            if staged.blob.size > max_size {
                return Err(Error::payload_too_large(max_size));
            }
            if format_check == FormatCheck::Strict {
                policy.check_format(staged.blob.format)?;
            }
        }
        Ok(())
    }

    /// Records the received files in one transaction and answers them. The
    /// project's duplicate rule applies here.
    pub async fn commit(
        &self,
        who: &Principal,
        project: &Project,
        form: Form,
        new: NewUpload,
    ) -> Result<UploadOutcome, Error> {
        self.commit_with_ids(who, project, form, new, &[]).await
    }

    /// [`Service::commit`], giving the files ids chosen beforehand, in order
    /// (an upload intent promised its file's id); files beyond get new ids.
    pub async fn commit_with_ids(
        &self,
        who: &Principal,
        project: &Project,
        form: Form,
        new: NewUpload,
        file_ids: &[String],
    ) -> Result<UploadOutcome, Error> {
        who.require(Scope::FilesWrite)?;
        if form.files.is_empty() {
            return Err(Error::bad_request(
                "missing_file",
                "the request has no file part",
            ));
        }
        self.check_folder(project, new.folder_id).await?;
        let document_class = match new
            .document_class
            .as_deref()
            .or(project.policy.default_document_class.as_deref())
        {
            Some(name) => Some(project.policy.document_class(name)?.name),
            None => None,
        };
        let at = now();
        let upload = Upload {
            id: new_id("upl"),
            tenant_id: project.tenant_id.clone(),
            project_id: project.id.clone(),
            name: new.upload_name.clone(),
            metadata: new.metadata.clone(),
            created_at: at,
        };
        let expires_at = project
            .policy
            .retention_seconds
            .or(new.default_retention.map(|d| d.as_secs()))
            .and_then(|s| i64::try_from(s).ok())
            .map(|s| at + chrono::Duration::seconds(s));
        let records = form
            .files
            .iter()
            .enumerate()
            .map(|(i, staged)| FileRecord {
                id: file_ids.get(i).cloned().unwrap_or_else(|| new_id("file")),
                tenant_id: project.tenant_id.clone(),
                project_id: project.id.clone(),
                folder_id: new.folder_id,
                upload_id: upload.id.clone(),
                name: new
                    .file_name
                    .clone()
                    .or_else(|| staged.part.filename.clone())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "untitled".into()),
                original_filename: staged.part.filename.clone(),
                size: staged.blob.size,
                sha256: staged.blob.sha256.clone(),
                detected_format: staged.blob.format,
                declared_content_type: staged.part.content_type.clone(),
                metadata: new.metadata.clone(),
                status: FileStatus::Received,
                reason: None,
                blob_key: staged.blob.key.clone(),
                document_class: document_class.clone(),
                external_id: new.external_ids.get(i).cloned(),
                properties: None,
                created_at: at,
                updated_at: at,
                expires_at,
            })
            .collect();
        let committed = self
            .catalog
            .commit_upload(
                &upload,
                records,
                project.policy.duplicates,
                Some(self.process_job),
            )
            .await?;
        self.jobs_ready.notify_one();
        // From here the catalog owns the blobs it kept; the rest go.
        let mut guard = form.guard;
        guard.disarm();
        for key in committed.unused_blobs {
            guard.add(key);
        }
        guard.release().await;
        Ok(UploadOutcome {
            upload,
            files: committed.files,
        })
    }

    /// A file the caller may read (or delete, with `scope`).
    pub async fn file(&self, who: &Principal, id: &str, scope: Scope) -> Result<FileRecord, Error> {
        who.require(scope)?;
        visible_to(who, self.catalog.file(&who.tenant.id, id).await)
    }

    /// A file by the id a front end gave it ([`NewUpload::external_ids`]),
    /// under the same rules as [`Service::file`].
    pub async fn file_by_external_id(
        &self,
        who: &Principal,
        external_id: &str,
        scope: Scope,
    ) -> Result<FileRecord, Error> {
        who.require(scope)?;
        let found = self
            .catalog
            .file_by_external_id(&who.tenant.id, external_id)
            .await;
        visible_to(who, found)
    }

    /// Opens a file's bytes; `range` is already checked against its size.
    pub async fn content(
        &self,
        file: FileRecord,
        range: Option<Range<u64>>,
    ) -> Result<Content, Error> {
        self.check_servable(&file).await?;
        self.stream(file, range).await
    }

    /// The bytes of a file already found servable.
    pub(crate) async fn stream(
        &self,
        file: FileRecord,
        range: Option<Range<u64>>,
    ) -> Result<Content, Error> {
        let body = self
            .blobs
            .get(&file.blob_key, range.clone())
            .await
            .map_err(intake_ingest::blob_error)?;
        Ok(Content { file, range, body })
    }

    pub async fn delete_file(&self, who: &Principal, id: &str) -> Result<(), Error> {
        let file = self.file(who, id, Scope::FilesDelete).await?;
        let freed = self.catalog.delete_file(&who.tenant.id, &file.id).await?;
        if let Some(key) = freed
            && let Err(e) = self.blobs.delete(&key).await
        {
            // The row is gone; the orphan sweep will find the blob.
            tracing::warn!(%key, error = %e, "could not delete a freed blob");
        }
        Ok(())
    }

    pub async fn list_files(
        &self,
        who: &Principal,
        project: &Project,
        mut query: FileQuery,
    ) -> Result<Page<FileRecord>, Error> {
        who.require(Scope::FilesRead)?;
        query.project_id = Some(project.id.clone());
        Ok(self.catalog.list_files(&who.tenant.id, &query).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_cannot_break_out() {
        assert_eq!(
            content_disposition("a.pdf"),
            "attachment; filename=\"a.pdf\"; filename*=UTF-8''a%2Epdf"
        );
        let tricky = content_disposition("x\";\r\nSet-Cookie: y=z ü.pdf");
        assert!(!tricky.contains('\r') && !tricky.contains('\n'));
        assert!(tricky.starts_with("attachment; filename=\"x_;__Set-Cookie: y=z _.pdf\""));
    }

    fn part(filename: Option<&str>, content_type: Option<&str>) -> PartInfo {
        PartInfo {
            field_name: "file".into(),
            filename: filename.map(str::to_owned),
            content_type: content_type.map(str::to_owned),
        }
    }

    #[test]
    fn declarations_must_agree_with_the_bytes() {
        assert_eq!(
            decide_format(&part(Some("a.pdf"), Some("application/pdf")), Format::Pdf).unwrap(),
            Format::Pdf
        );
        assert_eq!(
            decide_format(&part(Some("a.bin"), None), Format::Pdf).unwrap(),
            Format::Pdf
        );
        assert_eq!(
            decide_format(&part(Some("a.doc"), None), Format::Ole).unwrap(),
            Format::Doc
        );
        assert_eq!(
            decide_format(&part(Some("list.csv"), Some("text/plain")), Format::Text).unwrap(),
            Format::Text
        );
        assert_eq!(
            decide_format(&part(Some("list.csv"), None), Format::Text).unwrap(),
            Format::Csv
        );
        let err = decide_format(&part(Some("x.pdf"), None), Format::Png).unwrap_err();
        assert_eq!(
            (err.code, err.reason),
            ("format_mismatch", Some(Reason::Format))
        );
        assert!(decide_format(&part(Some("x.png"), Some("application/pdf")), Format::Png).is_err());
        assert!(
            decide_format(
                &part(None, Some("application/octet-stream")),
                Format::Binary
            )
            .is_ok()
        );
    }
}
