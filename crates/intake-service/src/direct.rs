//! Upload intents whose forms went straight to the S3 store.
//!
//! With an S3 blob store, an intent's form is signed for the bucket itself
//! (see `signed::create_intent`), so the browser's bytes never pass through
//! intake and intake does not see the upload happen. It is completed by a
//! call (`POST /v1/upload-intents/{id}/complete`), or when the intent's
//! download URL is first used: intake then checks that the object exists
//! within the promised size, reads it once through the same pipeline as any
//! upload (limits, format, SHA-256, a blob of its own) and commits the file
//! under the id the intent promised. Until then there is no file, so nothing
//! can show `ready` before its bytes exist. Completing twice answers the
//! same file.
//!
//! Nobody has to ask, though: each such intent gets a `complete_upload` job
//! (see `create_intent`), and the workers call
//! [`Service::look_for_direct_upload`] every `signed.completion_interval`
//! until the object is there, and less and less often after the form's
//! window, up to `signed.completion_grace`. Calls, first downloads and the
//! job may race, on one node or several: the file id is the intent's, so
//! only one commit can win, and the others answer the file it made.

use crate::Service;
use crate::files::{NewUpload, decide_format};
use crate::signed::chrono_duration;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use intake_core::{Error, ErrorKind, FileRecord, Principal, Scope, Scopes, UploadIntent, now};
use intake_ingest::{BlobGuard, Form, PartInfo, StagedFile, blob_error};

fn intent_not_found() -> Error {
    Error::new(
        ErrorKind::NotFound,
        "intent_not_found",
        "upload intent not found",
    )
}

fn not_uploaded() -> Error {
    Error::new(
        ErrorKind::Conflict,
        "upload_not_found",
        "nothing has been uploaded with this intent's form yet",
    )
}

impl Service {
    /// Completes an intent's upload for a caller who may write into its
    /// project; answers the file.
    pub async fn complete_intent_upload(
        &self,
        who: &Principal,
        intent_id: &str,
    ) -> Result<FileRecord, Error> {
        who.require(Scope::FilesWrite)?;
        let intent = match self.catalog.intent(intent_id).await {
            Ok(intent) if intent.tenant_id == who.tenant.id && who.reaches(&intent.project_id) => {
                intent
            }
            Ok(_) => return Err(intent_not_found()),
            Err(e) if e.is_not_found() => return Err(intent_not_found()),
            Err(e) => return Err(e.into()),
        };
        self.complete_direct(&intent).await
    }

    /// One look for an intent's object, for the workers' `complete_upload`
    /// job: None when the job is done (completed now or before, refused for
    /// good, or no longer awaited), else when to look again. Errors are
    /// outages, worth another try.
    pub async fn look_for_direct_upload(
        &self,
        intent_id: &str,
    ) -> Result<Option<DateTime<Utc>>, Error> {
        let intent = match self.catalog.intent(intent_id).await {
            Ok(intent) => intent,
            // Forgotten once its download URL expired.
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let error = match self.complete_direct(&intent).await {
            Ok(file) => {
                tracing::info!(intent = %intent.id, file = %file.id, "direct upload completed");
                return Ok(None);
            }
            Err(e) => e,
        };
        match error.kind {
            ErrorKind::Timeout | ErrorKind::Unavailable | ErrorKind::Internal => Err(error),
            _ if error.code == "upload_not_found" => {
                let at = now();
                let closed = intent.upload_expires_at;
                if at >= closed + chrono_duration(self.signed.completion_grace) {
                    tracing::info!(intent = %intent.id, "no direct upload arrived; stopped looking");
                    return Ok(None);
                }
                // After the window, an upload can only be one still in
                // flight: look less often the longer it has been.
                let since = (at - closed).to_std().unwrap_or_default();
                let delay = self.signed.completion_interval.max(since / 2);
                Ok(Some(at + chrono_duration(delay)))
            }
            _ => {
                // Too large, a refused format…: the completion call says so.
                tracing::info!(intent = %intent.id, code = error.code, "direct upload refused");
                Ok(None)
            }
        }
    }

    /// The intent's file, committing it first when its object is in the
    /// store and no file exists yet.
    pub(crate) async fn complete_direct(&self, intent: &UploadIntent) -> Result<FileRecord, Error> {
        if let Some(file) = self.intent_file(intent).await? {
            return Ok(file);
        }
        match self.adopt_direct(intent).await {
            Ok(file) => Ok(file),
            // Completed meanwhile by another call, job or node: its file
            // is the answer (the object may be gone, or the id taken).
            Err(e) => self.intent_file(intent).await?.ok_or(e),
        }
    }

    async fn intent_file(&self, intent: &UploadIntent) -> Result<Option<FileRecord>, Error> {
        let file_id = intent.uploaded_file_id.as_ref().unwrap_or(&intent.file_id);
        match self.catalog.file(&intent.tenant_id, file_id).await {
            Ok(file) => Ok(Some(file)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Takes the intent's object in as its file, under the promised id.
    async fn adopt_direct(&self, intent: &UploadIntent) -> Result<FileRecord, Error> {
        // On local disk the form's POST commits the file itself.
        let Some(store) = &self.direct else {
            return Err(not_uploaded());
        };
        let Some(size) = store.object_size(&intent.key).await.map_err(blob_error)? else {
            return Err(not_uploaded());
        };
        if size > intent.max_size {
            store.delete_object(&intent.key).await.map_err(blob_error)?;
            return Err(Error::payload_too_large(intent.max_size));
        }
        let project = self
            .catalog
            .project(&intent.tenant_id, &intent.project_id)
            .await?;
        let part = PartInfo {
            field_name: "file".into(),
            filename: Some(intent.filename.clone()),
            content_type: intent.content_type.clone(),
        };
        let bytes = store.read_object(&intent.key).await.map_err(blob_error)?;
        let stored = intake_ingest::store(
            bytes.map_err(|e| blob_error(intake_blob::BlobError::Io(e))),
            self.blobs.as_ref(),
            intent.max_size,
            self.limits.sniff_bytes,
            |detected| {
                let format = decide_format(&part, detected)?;
                project.policy.check_format(format)?;
                Ok(format)
            },
        )
        .await?;
        let mut guard = BlobGuard::new(self.blobs.clone());
        guard.add(stored.key.clone());
        let form = Form {
            fields: Vec::new(),
            files: vec![StagedFile { part, blob: stored }],
            guard,
        };
        let principal = Principal {
            tenant: self.catalog.tenant(&intent.tenant_id).await?,
            scopes: Scopes::new(vec![Scope::FilesWrite]),
            projects: vec![project.id.clone()],
            credential_id: intent.credential_id.clone(),
        };
        let new = NewUpload {
            file_name: Some(intent.filename.clone()),
            metadata: intent.metadata.clone(),
            ..NewUpload::default()
        };
        let outcome = self
            .commit_with_ids(
                &principal,
                &project,
                form,
                new,
                std::slice::from_ref(&intent.file_id),
            )
            .await?;
        let file = outcome
            .files
            .into_iter()
            .next()
            .ok_or_else(Error::internal)?;
        self.catalog
            .complete_intent(&intent.id, &file.id, now())
            .await?;
        // The file has its own blob now; the browser's object is a copy.
        if let Err(e) = store.delete_object(&intent.key).await {
            tracing::warn!(key = %intent.key, error = %e, "could not remove a completed direct upload");
        }
        Ok(file)
    }
}
