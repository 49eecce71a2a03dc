//! Contact lists and activities: lists of e-mail addresses per tenant, and
//! the "remove these addresses from these lists" activity driven by an
//! uploaded file (the library seed, 001).
//!
//! Changing lists takes `lists:write` (the seed's `contacts:write`); reading
//! them takes `files:read` or `lists:write`, so the seed's client can poll its
//! own activity with the key that started it.
//!
//! The removal runs in the background after its activity row is committed:
//! a task spawned on this node. The work is idempotent (a final activity is
//! never run or saved again). A node that stops mid-run leaves the activity
//! `QUEUED` or `RUNNING`; the next read of it that finds it untouched for
//! [`STALE_ACTIVITY`] starts it again, so a client that polls always sees it
//! end. (A durable job kind in the catalog's queue would resume it without a
//! poll.)
//!
//! The import file is stored in the dialect's project, marked with
//! [`ACTIVITY_FILE_KEY`], and always as a new file: the project's duplicate
//! rule is about its library, not about import files sent twice.

use crate::Service;
use crate::files::decide_format;
use intake_core::lists::{
    ACTIVITY_FILE_KEY, MAX_ACTIVITY_ERRORS, is_email, normalize_email, parse_removal_file,
};
use intake_core::{
    Activity, ActivityError, ActivityKind, ActivityStatus, ContactList, DuplicateMode, Error,
    ErrorKind, ListStatus, Principal, Project, Scope, Scopes, name, new_id, now,
};
use intake_ingest::{Body, Form, FormSpec, PartInfo, read_form};
use std::time::Duration;

/// Bytes received for a removal file. Files from 4 MB up to this are stored
/// and their activity ends `ERROR` (the seed: "the activity will fail");
/// larger bodies are refused at once (413) so nobody streams gigabytes.
pub const REMOVAL_RECEIVE_CAP: u64 = 16 * 1024 * 1024;
/// Addresses one `add_members` call may carry.
pub const MAX_ADD_MEMBERS: usize = 1000;
/// An activity not final and untouched this long has lost its runner (its
/// node stopped); reading it starts it again.
pub const STALE_ACTIVITY: Duration = Duration::from_secs(60);

fn list_not_found(id: i64) -> Error {
    Error::new(
        ErrorKind::NotFound,
        "list_not_found",
        format!("no list {id}"),
    )
}

fn activity_not_found() -> Error {
    Error::new(
        ErrorKind::NotFound,
        "activity_not_found",
        "activity not found",
    )
}

/// Reading lists and activities: `files:read`, or `lists:write`.
fn require_read(who: &Principal) -> Result<(), Error> {
    if who.scopes.allows(Scope::ListsWrite) {
        return Ok(());
    }
    who.require(Scope::FilesRead)
}

impl Service {
    pub async fn create_list(
        &self,
        who: &Principal,
        name: &str,
        status: ListStatus,
    ) -> Result<ContactList, Error> {
        who.require(Scope::ListsWrite)?;
        let name = name::check_display_name(name, "list name")?;
        Ok(self
            .catalog
            .create_list(&who.tenant.id, &name, status)
            .await?)
    }

    pub async fn lists(&self, who: &Principal) -> Result<Vec<ContactList>, Error> {
        require_read(who)?;
        Ok(self.catalog.lists(&who.tenant.id).await?)
    }

    pub async fn list(&self, who: &Principal, id: i64) -> Result<ContactList, Error> {
        require_read(who)?;
        self.catalog.list(&who.tenant.id, id).await.map_err(|e| {
            if e.is_not_found() {
                list_not_found(id)
            } else {
                e.into()
            }
        })
    }

    /// Adds addresses to a list; returns how many were new, and the list.
    /// Every address must be one (400 `invalid_email` names the first that is not).
    pub async fn add_members(
        &self,
        who: &Principal,
        list_id: i64,
        emails: &[String],
    ) -> Result<(u64, ContactList), Error> {
        who.require(Scope::ListsWrite)?;
        if emails.is_empty() || emails.len() > MAX_ADD_MEMBERS {
            return Err(Error::bad_request(
                "invalid_emails",
                format!("send between 1 and {MAX_ADD_MEMBERS} addresses"),
            ));
        }
        if let Some(bad) = emails.iter().find(|e| !is_email(e.trim())) {
            let shown: String = bad.chars().take(80).collect();
            return Err(Error::bad_request(
                "invalid_email",
                format!("{shown:?} is not an e-mail address"),
            ));
        }
        let emails: Vec<String> = emails.iter().map(|e| normalize_email(e)).collect();
        let added = self
            .catalog
            .add_members(&who.tenant.id, list_id, &emails)
            .await
            .map_err(|e| {
                if e.is_not_found() {
                    list_not_found(list_id)
                } else {
                    Error::from(e)
                }
            })?;
        Ok((added, self.list(who, list_id).await?))
    }

    /// A page of a list's addresses, in order, after `after`.
    pub async fn members(
        &self,
        who: &Principal,
        list_id: i64,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, Error> {
        require_read(who)?;
        self.catalog
            .members(&who.tenant.id, list_id, after, limit.clamp(1, 1000))
            .await
            .map_err(|e| {
                if e.is_not_found() {
                    list_not_found(list_id)
                } else {
                    e.into()
                }
            })
    }

    pub async fn activity(&self, who: &Principal, id: &str) -> Result<Activity, Error> {
        require_read(who)?;
        if !intake_core::id::is_id(intake_core::id::prefix::ACTIVITY, id) {
            return Err(activity_not_found());
        }
        let activity = self
            .catalog
            .activity(&who.tenant.id, id)
            .await
            .map_err(|e| {
                if e.is_not_found() {
                    activity_not_found()
                } else {
                    Error::from(e)
                }
            })?;
        self.resume_if_stale(&activity).await;
        Ok(activity)
    }

    /// Starts an activity again when its runner is gone (see the module's
    /// notes). Touching it first keeps other reads from starting it too.
    async fn resume_if_stale(&self, activity: &Activity) {
        let stale = chrono::Duration::from_std(STALE_ACTIVITY).unwrap_or(chrono::Duration::MAX);
        if activity.status.is_final() || now() - activity.updated_at < stale {
            return;
        }
        let mut touched = activity.clone();
        touched.updated_at = now();
        match self.catalog.save_activity(&touched).await {
            Ok(true) => {
                tracing::warn!(activity = %activity.id, status = activity.status.as_str(),
                    "activity left unfinished by a stopped runner; starting it again");
                let service = self.clone();
                let (tenant, id) = (activity.tenant_id.clone(), activity.id.clone());
                tokio::spawn(async move { service.run_removal(&tenant, &id).await });
            }
            Ok(false) => {} // it ended meanwhile
            Err(e) => {
                tracing::warn!(activity = %activity.id, error = %e, "could not resume an activity")
            }
        }
    }

    /// Receives a removal request's multipart body into `project`: the file
    /// part `data` (any format: the activity judges its content) and the
    /// text fields. Nothing is visible until [`Service::start_removal`].
    pub async fn receive_removal(
        &self,
        who: &Principal,
        project: &Project,
        body: Body,
        content_types: &[&str],
    ) -> Result<Form, Error> {
        who.require(Scope::ListsWrite)?;
        let spec = FormSpec {
            file_fields: &["data"],
            max_file_size: project
                .policy
                .max_file_size(self.limits.max_file_size)
                .min(REMOVAL_RECEIVE_CAP),
            max_files: 1,
        };
        let check =
            |part: &PartInfo, detected| Ok(decide_format(part, detected).unwrap_or(detected));
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

    /// Stores the received file, records a `QUEUED` activity (committed
    /// before this returns) and starts the removal in the background.
    pub async fn start_removal(
        &self,
        who: &Principal,
        project: &Project,
        form: Form,
        lists: &[i64],
        file_name: Option<&str>,
    ) -> Result<Activity, Error> {
        who.require(Scope::ListsWrite)?;
        if form.files.is_empty() {
            return Err(Error::bad_request(
                "missing_file",
                "the request has no data part",
            ));
        }
        if lists.is_empty() {
            return Err(Error::bad_request(
                "missing_lists",
                "name at least one list",
            ));
        }
        for id in lists {
            if let Err(e) = self.catalog.list(&who.tenant.id, *id).await {
                return Err(if e.is_not_found() {
                    Error::bad_request("unknown_list", format!("no list {id}"))
                } else {
                    e.into()
                });
            }
        }
        let file_name = file_name
            .map(str::to_owned)
            .or_else(|| form.files.first().and_then(|f| f.part.filename.clone()))
            .unwrap_or_default();
        let lower = file_name.to_ascii_lowercase();
        if !(lower.ends_with(".txt") || lower.ends_with(".csv")) {
            return Err(Error::bad_request(
                "invalid_file_name",
                format!("{file_name:?}: the file must be a .txt or .csv of e-mail addresses"),
            ));
        }
        // contacts:write covers storing its own import file: the file is
        // committed on the caller's behalf with files:write only.
        let mut storer = who.clone();
        storer.scopes = Scopes::new(vec![Scope::FilesWrite]);
        let new = crate::NewUpload {
            upload_name: Some(file_name.clone()),
            file_name: Some(name::check_display_name(&file_name, "file_name")?),
            metadata: [(
                ACTIVITY_FILE_KEY.to_owned(),
                ActivityKind::RemoveFromLists.as_str().to_owned(),
            )]
            .into(),
            ..Default::default()
        };
        let mut project = project.clone();
        project.policy.duplicates = DuplicateMode::Allow;
        let outcome = self.commit(&storer, &project, form, new).await?;
        let at = now();
        let activity = Activity {
            id: new_id(intake_core::id::prefix::ACTIVITY),
            tenant_id: who.tenant.id.clone(),
            kind: ActivityKind::RemoveFromLists,
            status: ActivityStatus::Queued,
            lists: lists.to_vec(),
            file_id: outcome.files.first().map(|f| f.id.clone()),
            file_name: Some(file_name),
            contact_count: 0,
            removed_count: 0,
            not_found_count: 0,
            error_count: 0,
            errors: Vec::new(),
            created_at: at,
            updated_at: at,
        };
        self.catalog.create_activity(&activity).await?;
        let service = self.clone();
        let (tenant, id) = (activity.tenant_id.clone(), activity.id.clone());
        tokio::spawn(async move { service.run_removal(&tenant, &id).await });
        Ok(activity)
    }

    /// Runs a removal activity to its end. Idempotent: a final activity is
    /// left alone, and the final save acts only once. Catalog outages are
    /// retried a few times; then the activity ends `ERROR`.
    pub async fn run_removal(&self, tenant_id: &str, id: &str) {
        let mut delay = Duration::from_millis(200);
        for attempt in 1..=5 {
            match self.try_removal(tenant_id, id).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(activity = id, attempt, error = %e, "removal activity failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
            }
        }
        if let Ok(mut activity) = self.catalog.activity(tenant_id, id).await {
            finish_with_errors(
                &mut activity,
                vec![ActivityError::file("internal error; try again")],
            );
            let _ = self.catalog.save_activity(&activity).await;
        }
    }

    async fn try_removal(&self, tenant_id: &str, id: &str) -> Result<(), Error> {
        let mut activity = self.catalog.activity(tenant_id, id).await?;
        if activity.status.is_final() {
            return Ok(());
        }
        activity.status = ActivityStatus::Running;
        activity.updated_at = now();
        self.catalog.save_activity(&activity).await?;
        let bytes = match &activity.file_id {
            Some(file_id) => self.read_all(tenant_id, file_id).await?,
            None => Vec::new(),
        };
        let addresses = match parse_removal_file(&bytes) {
            Ok(addresses) => addresses,
            Err(errors) => {
                finish_with_errors(&mut activity, errors);
                self.catalog.save_activity(&activity).await?;
                return Ok(());
            }
        };
        match self
            .catalog
            .remove_members(tenant_id, &activity.lists, &addresses)
            .await
        {
            Ok(counts) => {
                activity.status = ActivityStatus::Complete;
                activity.contact_count = counts.processed;
                activity.removed_count = counts.removed;
                activity.not_found_count = counts.not_found;
            }
            Err(e) if e.is_not_found() => {
                finish_with_errors(
                    &mut activity,
                    vec![ActivityError::file(
                        "a list of this activity no longer exists",
                    )],
                );
            }
            Err(e) => return Err(e.into()),
        }
        activity.updated_at = now();
        self.catalog.save_activity(&activity).await?;
        Ok(())
    }

    /// A stored file's bytes, bounded by [`REMOVAL_RECEIVE_CAP`].
    async fn read_all(&self, tenant_id: &str, file_id: &str) -> Result<Vec<u8>, Error> {
        use futures::StreamExt;
        let file = self.catalog.file(tenant_id, file_id).await?;
        let mut body = self
            .blobs
            .get(&file.blob_key, None)
            .await
            .map_err(intake_ingest::blob_error)?;
        let mut bytes =
            Vec::with_capacity(usize::try_from(file.size.min(REMOVAL_RECEIVE_CAP)).unwrap_or(0));
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                tracing::error!(error = %e, file = file_id, "reading a removal file");
                Error::internal()
            })?;
            bytes.extend_from_slice(&chunk);
            if bytes.len() as u64 > REMOVAL_RECEIVE_CAP {
                break; // the validator refuses it for its size anyway
            }
        }
        Ok(bytes)
    }
}

fn finish_with_errors(activity: &mut Activity, mut errors: Vec<ActivityError>) {
    activity.status = ActivityStatus::Error;
    activity.error_count = errors.len() as u64;
    errors.truncate(MAX_ACTIVITY_ERRORS + 1);
    activity.errors = errors;
    activity.updated_at = now();
}
