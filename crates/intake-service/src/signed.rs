//! Signed direct uploads, the way S3 does them, on intake's own store.
//!
//! - **S3 credentials**: an API key may have an access key id and a secret
//!   (`intake admin key create --s3`), with which any S3 client (boto3's
//!   `generate_presigned_post`, …) signs POST forms for intake's S3 endpoint
//!   (`/s3/<project slug>`): the bucket is a project of the key's tenant.
//! - **Upload intents**: `create_intent` answers a signed S3 POST form for
//!   one file (its id chosen now) and a signed download URL. Both are signed
//!   with the intent's own secret (its id is the access key id), so a form
//!   can only ever write its own file, and only within its window.
//!
//! [`Service::s3_post`] checks a form while its body streams: the signature
//! and the policy (expiration, bucket, key prefix, every field accounted
//! for) before the first byte of the file is read, the policy's
//! `content-length-range` and the project's size limit as the bytes pass,
//! the minimum at the end; the file is then committed like any upload, so
//! it is processed, checked and announced like any other. Nothing is
//! stored when anything fails. [`Service::s3_get`] serves presigned GETs.
//!
//! Signing is generic over the endpoint (`intake_sigv4::Target`): pointed
//! at a real S3 store, the same code signs forms the store checks itself.

use crate::Service;
use crate::files::{Content, NewUpload, content_disposition, decide_format};
use intake_blob::ResponseHeaders;
use intake_catalog::NewJob;
use intake_core::signed::{ACCESS_KEY_PREFIX, INTENT_PREFIX, file_id_of_key, key_prefix};
use intake_core::{
    ApiKey, Error, ErrorKind, FileRecord, Format, JobKind, Metadata, Principal, Project,
    S3Credential, Scope, Scopes, Tenant, UploadIntent, id, name, new_id, now,
};
use intake_ingest::{Body, FormSpec, Gate, PartInfo, read_form_gated};
use intake_sigv4::post::field;
use intake_sigv4::{
    Condition, KeyRule, LengthRange, MAX_EXPIRES_SECONDS, PresignedGet, SigError, SignedPost,
    Target,
};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where intake's S3-compatible endpoint is mounted.
pub const S3_PATH: &str = "/s3";

/// Most `x-amz-meta-*` pairs an intent may carry.
const MAX_METADATA: usize = 32;

/// Settings of signed uploads (`[signed]` in the configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignedSettings {
    /// How long an upload intent's form works when the request does not
    /// say (default 60 s).
    #[serde(with = "humantime_serde")]
    pub upload_window: Duration,
    /// How long download URLs work when the project's policy does not say
    /// (`download_url_seconds`; default 24 h).
    #[serde(with = "humantime_serde")]
    pub download_window: Duration,
    /// The region in credential scopes (default `us-east-1`). Clients may
    /// sign for any region; this one is what intake signs with.
    pub region: String,
    /// The public base URL of this server (`https://files.example.com`),
    /// for the URLs in intents. Empty: taken from each request's `Host`
    /// (and `X-Forwarded-Proto`).
    pub public_url: String,
    /// With the S3 store, a download URL whose file may be served answers
    /// 307 to a presigned GET of the store, which sends the bytes (default
    /// true). Off: intake streams them itself.
    pub redirect_downloads: bool,
    /// How long those presigned GETs work (default 5 min).
    #[serde(with = "humantime_serde")]
    pub redirect_window: Duration,
    /// With the S3 store, how often the workers look in the bucket for the
    /// object of an intent nobody completed (default 10 s).
    #[serde(with = "humantime_serde")]
    pub completion_interval: Duration,
    /// How long after an intent's form expired they go on looking, less
    /// and less often (default 1 h): an upload started in time may end late.
    #[serde(with = "humantime_serde")]
    pub completion_grace: Duration,
}

impl Default for SignedSettings {
    fn default() -> SignedSettings {
        SignedSettings {
            upload_window: Duration::from_secs(60),
            download_window: Duration::from_secs(24 * 3600),
            region: "us-east-1".into(),
            public_url: String::new(),
            redirect_downloads: true,
            redirect_window: Duration::from_secs(300),
            completion_interval: Duration::from_secs(10),
            completion_grace: Duration::from_secs(3600),
        }
    }
}

/// What a client asks an intent for.
#[derive(Debug, Clone, Default)]
pub struct NewIntent {
    pub filename: String,
    pub content_type: Option<String>,
    /// Sent as `x-amz-meta-<name>` fields, stored as the file's metadata.
    pub metadata: Metadata,
    /// The form's window; None: `signed.upload_window`.
    pub expires_in: Option<Duration>,
    /// 200, 201 (the default: an XML body) or 204.
    pub success_action_status: Option<u16>,
}

/// An intent with its signed form and download URL.
#[derive(Debug, Clone)]
pub struct IntentGrant {
    pub intent: UploadIntent,
    /// Where to POST the form.
    pub url: String,
    /// The form's fields, to send before the file part.
    pub fields: Vec<(String, String)>,
    pub download_url: String,
}

/// An object stored through the S3 endpoint.
#[derive(Debug, Clone)]
pub struct PostedObject {
    pub file: FileRecord,
    pub bucket: String,
    pub key: String,
    /// The form's `success_action_status`, as sent.
    pub success_action_status: Option<String>,
    /// The form's `success_action_redirect` (or `redirect`).
    pub success_action_redirect: Option<String>,
}

/// What a presigned GET answers: the bytes, or (with the S3 store) where
/// the store serves them.
pub enum Download {
    Content(Content),
    Redirect { file: FileRecord, url: String },
}

/// The type a download URL serves a file as: the one declared at upload.
pub fn served_content_type(file: &FileRecord) -> &str {
    file.declared_content_type
        .as_deref()
        .unwrap_or("application/octet-stream")
}

/// What a verified form allows.
struct Authorized {
    principal: Principal,
    project: Project,
    intent: Option<UploadIntent>,
    key: String,
    filename: String,
    content_type: Option<String>,
    metadata: Metadata,
    range: LengthRange,
    max_size: u64,
    success_action_status: Option<String>,
    success_action_redirect: Option<String>,
}

/// A signature failure as a core error, with a code front ends can render
/// the S3 way (`signature_does_not_match` → `SignatureDoesNotMatch`).
pub fn sig_error(e: SigError) -> Error {
    let code = match e.s3_code() {
        "InvalidArgument" => "invalid_argument",
        "InvalidAccessKeyId" => "invalid_access_key_id",
        "SignatureDoesNotMatch" => "signature_does_not_match",
        "InvalidPolicyDocument" => "invalid_policy_document",
        "AccessDenied" => "access_denied",
        _ => "authorization_query_parameters_error",
    };
    let kind = if e.status() == 400 {
        ErrorKind::BadRequest
    } else {
        ErrorKind::Forbidden
    };
    Error::new(kind, code, e.to_string())
}

fn access_denied(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Forbidden, "access_denied", message)
}

fn no_such_bucket(bucket: &str) -> Error {
    Error::new(
        ErrorKind::NotFound,
        "no_such_bucket",
        format!("The specified bucket does not exist: {bucket:?}"),
    )
}

fn no_such_key() -> Error {
    Error::new(
        ErrorKind::NotFound,
        "no_such_key",
        "The specified key does not exist.",
    )
}

fn invalid_argument(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::BadRequest, "invalid_argument", message)
}

pub(crate) fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// A new S3 access key id: `IKAK` + 16 upper-case base32 characters.
fn new_access_key_id() -> String {
    format!(
        "{ACCESS_KEY_PREFIX}{}",
        id::random_token(16).to_ascii_uppercase()
    )
}

fn check_text(value: &str, what: &str, max: usize) -> Result<(), Error> {
    if value.len() > max || value.chars().any(char::is_control) {
        return Err(Error::bad_request(
            "invalid_field",
            format!("{what} must be at most {max} bytes without control characters"),
        ));
    }
    Ok(())
}

impl Service {
    /// Gives an API key an S3 credential; the secret is shown once.
    pub async fn add_s3_credential(
        &self,
        tenant: &Tenant,
        key: &ApiKey,
    ) -> Result<S3Credential, Error> {
        if key.tenant_id != tenant.id {
            return Err(Error::not_found("key"));
        }
        let credential = S3Credential {
            access_key_id: new_access_key_id(),
            tenant_id: tenant.id.clone(),
            key_id: key.id.clone(),
            secret: id::random_token(40),
            created_at: now(),
        };
        self.catalog.create_s3_credential(&credential).await?;
        Ok(credential)
    }

    /// The target intents of `project` are signed for: this server's S3
    /// endpoint under `base_url`, the project as the bucket.
    fn intent_target(&self, base_url: &str, project: &Project, intent: &UploadIntent) -> Target {
        Target {
            endpoint: format!("{}{S3_PATH}", base_url.trim_end_matches('/')),
            bucket: project.slug.clone(),
            region: self.signed.region.clone(),
            access_key: intent.id.clone(),
            secret: intent.secret.clone(),
        }
    }

    /// A signed permission to upload one file into `project` (scope
    /// `files:write`): an S3 POST form and a download URL, for this server
    /// at `base_url`.
    pub async fn create_intent(
        &self,
        who: &Principal,
        project: &Project,
        base_url: &str,
        new: NewIntent,
    ) -> Result<IntentGrant, Error> {
        who.require(Scope::FilesWrite)?;
        if !who.reaches(&project.id) || project.tenant_id != who.tenant.id {
            return Err(Error::not_found("project"));
        }
        let filename = name::check_filename(&new.filename)?;
        if filename.is_empty() {
            return Err(Error::bad_request(
                "invalid_filename",
                "filename is required",
            ));
        }
        let content_type = new
            .content_type
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        if let Some(t) = &content_type {
            check_text(t, "content_type", 255)?;
        }
        if new.metadata.len() > MAX_METADATA {
            return Err(Error::bad_request(
                "invalid_metadata",
                format!("at most {MAX_METADATA} metadata pairs"),
            ));
        }
        for (k, v) in &new.metadata {
            let valid_name = !k.is_empty()
                && k.len() <= 128
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid_name {
                return Err(Error::bad_request(
                    "invalid_metadata",
                    format!(
                        "metadata names are 1-128 of A-Z a-z 0-9 - _ (they become x-amz-meta-* fields), not {k:?}"
                    ),
                ));
            }
            check_text(v, "a metadata value", 2048)?;
        }
        let status = new.success_action_status.unwrap_or(201);
        if ![200, 201, 204].contains(&status) {
            return Err(Error::bad_request(
                "invalid_field",
                "success_action_status is 200, 201 or 204",
            ));
        }
        let window = new.expires_in.unwrap_or(self.signed.upload_window);
        if window.is_zero() || window.as_secs() > MAX_EXPIRES_SECONDS {
            return Err(Error::bad_request(
                "invalid_field",
                format!("expires_in is between 1 and {MAX_EXPIRES_SECONDS} seconds"),
            ));
        }
        let download_window = project
            .policy
            .download_url_seconds
            .map_or(self.signed.download_window, Duration::from_secs)
            .min(Duration::from_secs(MAX_EXPIRES_SECONDS))
            .max(Duration::from_secs(1));
        let at = now();
        let file_id = new_id(id::prefix::FILE);
        let intent = UploadIntent {
            id: new_id(INTENT_PREFIX),
            tenant_id: project.tenant_id.clone(),
            project_id: project.id.clone(),
            credential_id: who.credential_id.clone(),
            key: format!("{}{filename}", key_prefix(&file_id)),
            file_id,
            filename,
            content_type,
            metadata: new.metadata,
            max_size: project.policy.max_file_size(self.limits.max_file_size),
            secret: id::random_token(40),
            created_at: at,
            upload_expires_at: at + chrono_duration(window),
            download_expires_at: at + chrono_duration(download_window),
            uploaded_file_id: None,
            uploaded_at: None,
        };
        let target = self.intent_target(base_url, project, &intent);
        // The form goes to the object store itself when there is one; the
        // file appears once its upload is completed (see `direct`).
        let (upload_target, key_prefix, key) = match &self.direct {
            Some(store) => {
                let s3 = store.config();
                let upload = store.signing_target();
                let prefix = format!("{}{}", s3.prefix, intent.key_prefix());
                (upload, prefix, format!("{}{}", s3.prefix, intent.key))
            }
            None => (target.clone(), intent.key_prefix(), intent.key.clone()),
        };
        let mut fields = Vec::new();
        if let Some(t) = &intent.content_type {
            fields.push(("Content-Type".to_owned(), t.clone()));
        }
        for (k, v) in &intent.metadata {
            fields.push((format!("x-amz-meta-{k}"), v.clone()));
        }
        fields.push(("success_action_status".to_owned(), status.to_string()));
        let post = upload_target.presign_post(
            &KeyRule::Prefix {
                prefix: key_prefix,
                field_value: key,
            },
            &fields,
            &[Condition::ContentLengthRange {
                min: 0,
                max: intent.max_size,
            }],
            at,
            chrono_duration(window),
        );
        let download_url = target.presign_get(&intent.key, at, chrono_duration(download_window));
        self.catalog.create_intent(&intent).await?;
        if self.direct.is_some() {
            // Nobody may ever complete it: the workers will look for it.
            self.catalog
                .enqueue(&self.completion_job(&intent, window))
                .await?;
        }
        // Now and then, forget intents whose download URL has expired.
        if rand::random::<u8>() < 8 {
            match self.catalog.delete_intents_before(at).await {
                Ok(n) if n > 0 => tracing::debug!(n, "forgot expired upload intents"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not forget expired upload intents"),
            }
        }
        Ok(IntentGrant {
            intent,
            url: post.url,
            fields: post.fields,
            download_url,
        })
    }

    /// The `complete_upload` job of an intent signed for the S3 bucket: first
    /// due one interval on, with attempts for every look up to the grace
    /// period's end (looks are at least an interval apart) and for retries.
    fn completion_job(&self, intent: &UploadIntent, window: Duration) -> NewJob {
        let interval = self.signed.completion_interval.max(Duration::from_secs(1));
        let looks = (window + self.signed.completion_grace).as_secs() / interval.as_secs();
        NewJob {
            kind: JobKind::CompleteUpload,
            subject: intent.id.clone(),
            max_attempts: u32::try_from(looks + 1)
                .unwrap_or(u32::MAX)
                .saturating_add(self.process_job.max_attempts)
                .min(i32::MAX as u32),
            run_at: intent.created_at + chrono_duration(interval),
        }
    }

    /// Checks a form's fields (those before the file): signature, who
    /// signed, the bucket, the policy, the key.
    async fn authorize_post(
        &self,
        bucket: &str,
        fields: &[(String, String)],
        part_filename: Option<&str>,
    ) -> Result<Authorized, Error> {
        let signed = SignedPost::from_fields(fields).map_err(sig_error)?;
        let access_key = signed.access_key.as_str();
        let (principal, project, intent) = if is_intent_key(access_key) {
            let intent = match self.catalog.intent(access_key).await {
                Ok(i) => i,
                Err(e) if e.is_not_found() => return Err(sig_error(SigError::InvalidAccessKeyId)),
                Err(e) => return Err(e.into()),
            };
            signed.verify(&intent.secret).map_err(sig_error)?;
            let tenant = self.catalog.tenant(&intent.tenant_id).await?;
            let project = match self
                .catalog
                .project(&intent.tenant_id, &intent.project_id)
                .await
            {
                Ok(p) => p,
                Err(e) if e.is_not_found() => return Err(no_such_bucket(bucket)),
                Err(e) => return Err(e.into()),
            };
            if project.slug != bucket {
                return Err(access_denied(format!(
                    "this form uploads into the bucket {:?}",
                    project.slug
                )));
            }
            if intent.uploaded_file_id.is_some() {
                return Err(access_denied(
                    "this upload form has been used already: each intent uploads one file",
                ));
            }
            let principal = Principal {
                tenant,
                scopes: Scopes::new(vec![Scope::FilesWrite]),
                projects: vec![project.id.clone()],
                credential_id: intent.credential_id.clone(),
            };
            (principal, project, Some(intent))
        } else {
            let (credential, key) = match self.catalog.s3_credential(access_key).await {
                Ok(found) => found,
                Err(e) if e.is_not_found() => return Err(sig_error(SigError::InvalidAccessKeyId)),
                Err(e) => return Err(e.into()),
            };
            signed.verify(&credential.secret).map_err(sig_error)?;
            if key.revoked_at.is_some() {
                return Err(access_denied("this access key has been revoked"));
            }
            let principal = Principal {
                tenant: self.catalog.tenant(&credential.tenant_id).await?,
                scopes: key.scopes,
                projects: key.projects,
                credential_id: key.id,
            };
            if !principal.scopes.allows(Scope::FilesWrite) {
                return Err(access_denied("this access key lacks the files:write scope"));
            }
            let project = match self
                .project_for(&principal, bucket, Scope::FilesWrite)
                .await
            {
                Ok(p) => p,
                Err(e) if e.kind == ErrorKind::NotFound => return Err(no_such_bucket(bucket)),
                Err(e) => return Err(e),
            };
            (principal, project, None)
        };
        let key = field(fields, "key").ok_or_else(|| sig_error(SigError::MissingField("key")))?;
        let policy = signed.policy().map_err(sig_error)?;
        let range = policy.check(fields, bucket, now()).map_err(sig_error)?;
        let key = key.replace("${filename}", part_filename.unwrap_or_default());
        if key.is_empty() || key.len() > 1024 || key.chars().any(char::is_control) {
            return Err(invalid_argument(
                "the key must be 1-1024 bytes without control characters",
            ));
        }
        let filename = match &intent {
            Some(intent) => {
                let Some(rest) = key.strip_prefix(&intent.key_prefix()) else {
                    return Err(access_denied(format!(
                        "the key must start with {:?}",
                        intent.key_prefix()
                    )));
                };
                rest.to_owned()
            }
            None => key.rsplit('/').next().unwrap_or_default().to_owned(),
        };
        let filename = name::check_filename(&filename).map_err(|e| invalid_argument(e.message))?;
        let filename = if filename.is_empty() {
            part_filename
                .and_then(|f| name::check_filename(f).ok())
                .filter(|f| !f.is_empty())
                .unwrap_or_else(|| "untitled".to_owned())
        } else {
            filename
        };
        let metadata: Metadata = fields
            .iter()
            .filter_map(|(n, v)| {
                let lower = n.to_ascii_lowercase();
                lower
                    .strip_prefix("x-amz-meta-")
                    .map(|k| (k.to_owned(), v.clone()))
            })
            .collect();
        let max_size = range
            .max
            .min(project.policy.max_file_size(self.limits.max_file_size));
        Ok(Authorized {
            principal,
            project,
            intent,
            key,
            filename,
            content_type: field(fields, "Content-Type").map(str::to_owned),
            metadata,
            range,
            max_size,
            success_action_status: field(fields, "success_action_status").map(str::to_owned),
            success_action_redirect: field(fields, "success_action_redirect")
                .or_else(|| field(fields, "redirect"))
                .map(str::to_owned),
        })
    }

    /// An S3 browser POST into `bucket` (a project of the signer's tenant):
    /// verified before the file is read, limited while it streams,
    /// committed like any upload.
    pub async fn s3_post(
        &self,
        bucket: &str,
        body: Body,
        content_types: &[&str],
    ) -> Result<PostedObject, Error> {
        let slot: Arc<Mutex<Option<Authorized>>> = Arc::default();
        let gate: Box<Gate> = {
            let service = self.clone();
            let slot = slot.clone();
            let bucket = bucket.to_owned();
            Box::new(move |fields: Vec<(String, String)>, part: PartInfo| {
                let service = service.clone();
                let slot = slot.clone();
                let bucket = bucket.clone();
                Box::pin(async move {
                    let auth = service
                        .authorize_post(&bucket, &fields, part.filename.as_deref())
                        .await?;
                    let max = auth.max_size;
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(auth);
                    Ok(max)
                })
            })
        };
        let check = |part: &PartInfo, detected: Format| -> Result<Format, Error> {
            let guard = slot.lock().unwrap_or_else(|e| e.into_inner());
            let Some(auth) = guard.as_ref() else {
                return Err(Error::internal());
            };
            // S3's meaning: the form's Content-Type field is the object's.
            let declared = PartInfo {
                field_name: part.field_name.clone(),
                filename: Some(auth.filename.clone()),
                content_type: auth
                    .content_type
                    .clone()
                    .or_else(|| part.content_type.clone()),
            };
            let format = decide_format(&declared, detected)?;
            auth.project.policy.check_format(format)?;
            Ok(format)
        };
        let spec = FormSpec {
            file_fields: &["file"],
            max_file_size: self.limits.max_file_size,
            max_files: 1,
        };
        let mut form = read_form_gated(
            body,
            content_types,
            &self.limits,
            &self.blobs,
            &spec,
            &check,
            Some(gate.as_ref()),
        )
        .await?;
        let taken = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(auth) = taken else {
            // No file part: the fields still answer for themselves first.
            self.authorize_post(bucket, &form.fields, None).await?;
            return Err(invalid_argument(
                "POST requires exactly one file upload per request.",
            ));
        };
        let Some(staged) = form.files.first_mut() else {
            return Err(Error::internal());
        };
        if staged.blob.size < auth.range.min {
            return Err(Error::new(
                ErrorKind::BadRequest,
                "entity_too_small",
                format!(
                    "Your proposed upload is smaller than the minimum allowed size of {} bytes.",
                    auth.range.min
                ),
            ));
        }
        staged.part.filename = Some(auth.filename.clone());
        if auth.content_type.is_some() {
            staged.part.content_type = auth.content_type.clone();
        }
        let new = NewUpload {
            file_name: Some(auth.filename.clone()),
            metadata: auth.metadata.clone(),
            ..NewUpload::default()
        };
        let ids: Vec<String> = auth.intent.iter().map(|i| i.file_id.clone()).collect();
        let outcome = self
            .commit_with_ids(&auth.principal, &auth.project, form, new, &ids)
            .await?;
        let Some(file) = outcome.files.into_iter().next() else {
            return Err(Error::internal());
        };
        if let Some(intent) = &auth.intent
            && !self
                .catalog
                .complete_intent(&intent.id, &file.id, now())
                .await?
        {
            tracing::warn!(intent = %intent.id, "an intent's upload completed twice");
        }
        Ok(PostedObject {
            file,
            bucket: auth.project.slug,
            key: auth.key,
            success_action_status: auth.success_action_status,
            success_action_redirect: auth.success_action_redirect,
        })
    }

    /// A presigned GET of `key` in `bucket`. `raw_path` and `query` are the
    /// request's as received; `header` gives the signed headers' values.
    /// Signed by an intent: its file, once uploaded (404 before). Signed by
    /// an API key's credential: a file of the project by its key
    /// (`uploads/<file id>/…`). Waits up to the project's `wait_seconds`
    /// for processing, then serves what the project allows: with the S3
    /// store, as a redirect to a short-lived presigned GET of the blob.
    pub async fn s3_get(
        &self,
        bucket: &str,
        key: &str,
        raw_path: &str,
        query: &str,
        header: &(dyn Fn(&str) -> Option<String> + Sync),
    ) -> Result<Download, Error> {
        if !PresignedGet::is_presigned(query) {
            return Err(access_denied(
                "Anonymous access is not allowed: use a signed URL.",
            ));
        }
        let get = PresignedGet::from_query(query).map_err(sig_error)?;
        let access_key = get.credential.access_key.as_str();
        let at = now();
        let (tenant_id, project, file_id, url_expires_at) = if is_intent_key(access_key) {
            let intent = match self.catalog.intent(access_key).await {
                Ok(i) => i,
                Err(e) if e.is_not_found() => return Err(sig_error(SigError::InvalidAccessKeyId)),
                Err(e) => return Err(e.into()),
            };
            get.verify(&intent.secret, "GET", raw_path, header, at)
                .map_err(sig_error)?;
            if at >= intent.download_expires_at {
                return Err(sig_error(SigError::RequestExpired));
            }
            let url_expires_at = intent.download_expires_at.min(get.expires_at());
            let project = self
                .catalog
                .project(&intent.tenant_id, &intent.project_id)
                .await
                .map_err(|_| no_such_bucket(bucket))?;
            if project.slug != bucket || intent.key != key {
                return Err(no_such_key());
            }
            let file_id = match intent.uploaded_file_id {
                Some(id) => id,
                // The upload may have committed without its intent being
                // marked (a crash in between): the file is what counts.
                // With the S3 store the upload went to the bucket: the first
                // use of the download URL completes it (see `direct`).
                None => match self.complete_direct(&intent).await {
                    Ok(f) => f.id,
                    Err(e) if e.code == "upload_not_found" => {
                        return Err(Error::new(
                            ErrorKind::NotFound,
                            "no_such_key",
                            "The file has not been uploaded yet: this URL serves it once its upload form has been posted.",
                        ));
                    }
                    Err(e) => return Err(e),
                },
            };
            (intent.tenant_id, project, file_id, url_expires_at)
        } else {
            let (credential, api_key) = match self.catalog.s3_credential(access_key).await {
                Ok(found) => found,
                Err(e) if e.is_not_found() => return Err(sig_error(SigError::InvalidAccessKeyId)),
                Err(e) => return Err(e.into()),
            };
            get.verify(&credential.secret, "GET", raw_path, header, at)
                .map_err(sig_error)?;
            if api_key.revoked_at.is_some() {
                return Err(access_denied("this access key has been revoked"));
            }
            let principal = Principal {
                tenant: self.catalog.tenant(&credential.tenant_id).await?,
                scopes: api_key.scopes,
                projects: api_key.projects,
                credential_id: api_key.id,
            };
            if !principal.scopes.allows(Scope::FilesRead) {
                return Err(access_denied("this access key lacks the files:read scope"));
            }
            let project = match self.project_for(&principal, bucket, Scope::FilesRead).await {
                Ok(p) => p,
                Err(e) if e.kind == ErrorKind::NotFound => return Err(no_such_bucket(bucket)),
                Err(e) => return Err(e),
            };
            let file_id = file_id_of_key(key).ok_or_else(no_such_key)?.to_owned();
            (credential.tenant_id, project, file_id, get.expires_at())
        };
        let file = match self.catalog.file(&tenant_id, &file_id).await {
            Ok(f) if f.project_id == project.id => f,
            Ok(_) => return Err(no_such_key()),
            Err(e) if e.is_not_found() => return Err(no_such_key()),
            Err(e) => return Err(e.into()),
        };
        let file = if file.status.is_final() {
            file
        } else {
            self.wait_until_final(vec![file], project.policy.wait())
                .await?
                .pop()
                .ok_or_else(Error::internal)?
        };
        self.check_servable(&file).await?;
        if let Some(url) = self.presigned_download(&file, url_expires_at)? {
            return Ok(Download::Redirect { file, url });
        }
        self.stream(file, None).await.map(Download::Content)
    }

    /// A presigned GET of the file's blob, when the store has them and
    /// downloads are redirected; it works for `signed.redirect_window`, and
    /// no longer than the URL that led to it.
    fn presigned_download(
        &self,
        file: &FileRecord,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<String>, Error> {
        if !self.signed.redirect_downloads {
            return Ok(None);
        }
        let left = (until - now()).to_std().unwrap_or_default();
        let window = self
            .signed
            .redirect_window
            .min(left)
            .max(Duration::from_secs(1));
        let headers = ResponseHeaders {
            content_type: served_content_type(file).to_owned(),
            content_disposition: content_disposition(
                file.original_filename.as_deref().unwrap_or(&file.name),
            ),
        };
        self.blobs
            .presigned_get(&file.blob_key, window, &headers)
            .map_err(intake_ingest::blob_error)
    }
}

/// Whether an access key id is an intent's (else an API key's credential).
fn is_intent_key(access_key: &str) -> bool {
    access_key
        .strip_prefix(INTENT_PREFIX)
        .is_some_and(|rest| rest.starts_with('_'))
}
