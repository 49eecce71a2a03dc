//! The API side of processing: waiting for files to reach a final status,
//! upload status, download rules, and webhook management.

use crate::Service;
use intake_catalog::JobTemplate;
use intake_core::{
    Delivery, Error, ErrorKind, Event, FileRecord, FileStatus, JobKind, Principal, Project, Scope,
    Task, Upload, Webhook, new_id, now,
};
use std::time::Duration;
use tokio::time::Instant;

/// How often a waiting request looks at the catalog again. Polling keeps
/// waiting correct across nodes (the worker may be on another one).
const POLL: Duration = Duration::from_millis(50);

fn webhook_not_found() -> Error {
    Error::new(ErrorKind::NotFound, "webhook_not_found", "no such webhook")
}

impl Service {
    /// Waits until every file is final (or `timeout` passes) and returns
    /// them as they are then.
    pub async fn wait_until_final(
        &self,
        files: Vec<FileRecord>,
        timeout: Duration,
    ) -> Result<Vec<FileRecord>, Error> {
        let deadline = Instant::now() + timeout;
        let mut files = files;
        loop {
            if files.iter().all(|f| f.status.is_final()) || Instant::now() >= deadline {
                return Ok(files);
            }
            tokio::time::sleep(POLL.min(deadline - Instant::now())).await;
            let mut fresh = Vec::with_capacity(files.len());
            for f in &files {
                fresh.push(self.catalog.file(&f.tenant_id, &f.id).await?);
            }
            files = fresh;
        }
    }

    /// Long-poll: waits until the file's status differs from `seen` (or is
    /// final), at most `timeout`.
    pub async fn wait_for_change(
        &self,
        file: FileRecord,
        timeout: Duration,
    ) -> Result<FileRecord, Error> {
        let seen = file.status;
        let deadline = Instant::now() + timeout;
        let mut file = file;
        while file.status == seen && !file.status.is_final() && Instant::now() < deadline {
            tokio::time::sleep(POLL.min(deadline - Instant::now())).await;
            file = self.catalog.file(&file.tenant_id, &file.id).await?;
        }
        Ok(file)
    }

    pub async fn tasks(&self, file: &FileRecord) -> Result<Vec<Task>, Error> {
        Ok(self.catalog.tasks(&file.id).await?)
    }

    /// An upload and its files, if the caller may read them.
    pub async fn upload(
        &self,
        who: &Principal,
        id: &str,
    ) -> Result<(Upload, Vec<FileRecord>), Error> {
        who.require(Scope::FilesRead)?;
        let not_found = || Error::new(ErrorKind::NotFound, "upload_not_found", "upload not found");
        let (upload, files) = self.catalog.upload(&who.tenant.id, id).await.map_err(|e| {
            if e.is_not_found() {
                not_found()
            } else {
                e.into()
            }
        })?;
        if !who.reaches(&upload.project_id) {
            return Err(not_found());
        }
        Ok((upload, files))
    }

    /// Whether a file's bytes may be served: an infected file's never; a
    /// file that is not ready only when its project allows it.
    pub async fn check_servable(&self, file: &FileRecord) -> Result<(), Error> {
        match file.status {
            FileStatus::Ready => Ok(()),
            FileStatus::Expired => Err(Error::new(
                ErrorKind::Gone,
                "file_expired",
                "the file has expired and its content was deleted",
            )),
            FileStatus::Infected => Err(Error::new(
                ErrorKind::Conflict,
                "file_infected",
                "the file is infected; its content is never served",
            )),
            status => {
                let project = self
                    .catalog
                    .project(&file.tenant_id, &file.project_id)
                    .await?;
                if project.policy.serve_unready {
                    Ok(())
                } else {
                    Err(Error::new(
                        ErrorKind::Conflict,
                        "file_not_ready",
                        format!(
                            "the file is {}; its content is served once it is ready",
                            status.as_str()
                        ),
                    ))
                }
            }
        }
    }

    /// Registers a webhook; its signing secret is returned once.
    pub async fn create_webhook(
        &self,
        who: &Principal,
        project: &str,
        url: &str,
        events: Vec<Event>,
    ) -> Result<Webhook, Error> {
        let project = self.project_for(who, project, Scope::ProjectsAdmin).await?;
        let parsed = url.parse::<http_url::Url>();
        if !parsed.ok().is_some_and(|u| u.is_http()) {
            return Err(Error::bad_request(
                "invalid_url",
                "the webhook URL must be an absolute http(s) URL",
            ));
        }
        let hook = Webhook {
            id: new_id("whk"),
            tenant_id: project.tenant_id.clone(),
            project_id: project.id.clone(),
            url: url.to_owned(),
            events,
            secret: format!("whsec_{}", intake_core::id::random_token(40)),
            created_at: now(),
        };
        self.catalog.create_webhook(&hook).await?;
        Ok(hook)
    }

    pub async fn webhooks(
        &self,
        who: &Principal,
        project: &str,
    ) -> Result<(Project, Vec<Webhook>), Error> {
        let project = self.project_for(who, project, Scope::ProjectsAdmin).await?;
        let hooks = self.catalog.webhooks(&project.id).await?;
        Ok((project, hooks))
    }

    /// A webhook of a project the caller administers.
    pub async fn webhook(&self, who: &Principal, id: &str) -> Result<Webhook, Error> {
        who.require(Scope::ProjectsAdmin)?;
        let hook = self.catalog.webhook(id).await.map_err(|e| {
            if e.is_not_found() {
                webhook_not_found()
            } else {
                e.into()
            }
        })?;
        if hook.tenant_id != who.tenant.id || !who.reaches(&hook.project_id) {
            return Err(webhook_not_found());
        }
        Ok(hook)
    }

    pub async fn delete_webhook(&self, who: &Principal, id: &str) -> Result<(), Error> {
        let hook = self.webhook(who, id).await?;
        Ok(self
            .catalog
            .delete_webhook(&hook.tenant_id, &hook.id)
            .await?)
    }

    pub async fn deliveries(
        &self,
        who: &Principal,
        webhook_id: &str,
        limit: u32,
    ) -> Result<Vec<Delivery>, Error> {
        let hook = self.webhook(who, webhook_id).await?;
        Ok(self.catalog.deliveries(&hook.id, limit).await?)
    }

    /// Sends a delivery again, whatever its state.
    pub async fn redeliver(&self, who: &Principal, delivery_id: &str) -> Result<Delivery, Error> {
        let not_found = || {
            Error::new(
                ErrorKind::NotFound,
                "delivery_not_found",
                "no such delivery",
            )
        };
        let delivery = self.catalog.delivery(delivery_id).await.map_err(|e| {
            if e.is_not_found() {
                not_found()
            } else {
                e.into()
            }
        })?;
        self.webhook(who, &delivery.webhook_id)
            .await
            .map_err(|_| not_found())?;
        let job = JobTemplate {
            kind: JobKind::DeliverWebhook,
            max_attempts: self.webhook_attempts,
        };
        let delivery = self.catalog.redeliver(&delivery.id, job).await?;
        self.jobs_ready.notify_one();
        Ok(delivery)
    }
}

/// A minimal absolute-URL check, so a webhook cannot point at a relative
/// path or another scheme.
mod http_url {
    pub struct Url(String);

    impl Url {
        pub fn is_http(&self) -> bool {
            let rest = self
                .0
                .strip_prefix("https://")
                .or_else(|| self.0.strip_prefix("http://"));
            rest.is_some_and(|r| {
                !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace)
            })
        }
    }

    impl std::str::FromStr for Url {
        type Err = ();
        fn from_str(s: &str) -> Result<Url, ()> {
            Ok(Url(s.trim().to_ascii_lowercase()))
        }
    }
}
