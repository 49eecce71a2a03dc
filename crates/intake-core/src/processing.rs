//! Processing: the steps a received file goes through (tasks), the durable
//! jobs that drive them, webhooks, and the policy knobs that govern them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One processing step of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskName {
    Scan,
    Inspect,
    Checks,
}

impl TaskName {
    pub const ALL: [TaskName; 3] = [TaskName::Scan, TaskName::Inspect, TaskName::Checks];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskName::Scan => "scan",
            TaskName::Inspect => "inspect",
            TaskName::Checks => "checks",
        }
    }

    pub fn parse(s: &str) -> Option<TaskName> {
        TaskName::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Pending,
    Running,
    /// Finished and passed.
    Done,
    /// Not run, with the reason in `error`.
    Skipped,
    /// Finished and refused the file, or could not finish.
    Failed,
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "pending",
            TaskState::Running => "running",
            TaskState::Done => "done",
            TaskState::Skipped => "skipped",
            TaskState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<TaskState> {
        [
            TaskState::Pending,
            TaskState::Running,
            TaskState::Done,
            TaskState::Skipped,
            TaskState::Failed,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            TaskState::Done | TaskState::Skipped | TaskState::Failed
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Task {
    pub name: TaskName,
    pub state: TaskState,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// What the step found (a scan verdict, the properties, the checks run).
    pub result: Option<serde_json::Value>,
    /// Why it failed or was skipped.
    pub error: Option<String>,
}

/// Kinds of durable job. Payloads carry ids only; jobs reload what they need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Scan, inspect and check a file; subject: the file id.
    ProcessFile,
    /// Deliver one webhook event; subject: the delivery id.
    DeliverWebhook,
    /// Look in the S3 bucket for an upload intent's object and complete
    /// the upload when it is there; subject: the intent id.
    CompleteUpload,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::ProcessFile => "process_file",
            JobKind::DeliverWebhook => "deliver_webhook",
            JobKind::CompleteUpload => "complete_upload",
        }
    }

    pub fn parse(s: &str) -> Option<JobKind> {
        [
            JobKind::ProcessFile,
            JobKind::DeliverWebhook,
            JobKind::CompleteUpload,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A claimed job: the worker holds its lease until `lease_until`.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    pub kind: JobKind,
    pub subject: String,
    /// How many times it has been claimed, this claim included.
    pub attempts: u32,
    pub max_attempts: u32,
    pub lease_owner: String,
    pub lease_until: DateTime<Utc>,
}

/// Events a webhook can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Event {
    #[serde(rename = "file.ready")]
    FileReady,
    #[serde(rename = "file.rejected")]
    FileRejected,
    #[serde(rename = "file.infected")]
    FileInfected,
    #[serde(rename = "file.failed")]
    FileFailed,
    #[serde(rename = "file.expired")]
    FileExpired,
}

impl Event {
    pub const ALL: [Event; 5] = [
        Event::FileReady,
        Event::FileRejected,
        Event::FileInfected,
        Event::FileFailed,
        Event::FileExpired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::FileReady => "file.ready",
            Event::FileRejected => "file.rejected",
            Event::FileInfected => "file.infected",
            Event::FileFailed => "file.failed",
            Event::FileExpired => "file.expired",
        }
    }

    pub fn parse(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// The event a file reaching `status` announces.
    pub fn for_status(status: crate::FileStatus) -> Option<Event> {
        use crate::FileStatus as S;
        match status {
            S::Ready => Some(Event::FileReady),
            S::Rejected => Some(Event::FileRejected),
            S::Infected => Some(Event::FileInfected),
            S::Failed => Some(Event::FileFailed),
            S::Expired => Some(Event::FileExpired),
            S::Received | S::Processing => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: String,
    #[serde(skip)]
    pub tenant_id: String,
    pub project_id: String,
    pub url: String,
    /// Empty: every event.
    pub events: Vec<Event>,
    /// Signs deliveries (HMAC-SHA256). Shown once, at creation.
    #[serde(skip)]
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

impl Webhook {
    pub fn wants(&self, event: Event) -> bool {
        self.events.is_empty() || self.events.contains(&event)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    /// Gave up after the last attempt.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// One event sent (or to send) to one webhook, with its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: String,
    pub webhook_id: String,
    pub event: Event,
    /// The JSON body sent.
    pub payload: serde_json::Value,
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_status: Option<u16>,
    /// The start of the receiver's last answer, or the transport error.
    pub last_response: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Exponential backoff: `base * 2^(attempt-1)`, capped.
pub fn backoff(
    base: std::time::Duration,
    attempt: u32,
    cap: std::time::Duration,
) -> std::time::Duration {
    let factor = 1u32
        .checked_shl(attempt.saturating_sub(1).min(20))
        .unwrap_or(u32::MAX);
    base.saturating_mul(factor).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = Duration::from_secs;
        assert_eq!(backoff(s(1), 1, s(60)), s(1));
        assert_eq!(backoff(s(1), 2, s(60)), s(2));
        assert_eq!(backoff(s(1), 5, s(60)), s(16));
        assert_eq!(backoff(s(1), 30, s(60)), s(60));
    }

    #[test]
    fn names_round_trip() {
        for t in TaskName::ALL {
            assert_eq!(TaskName::parse(t.as_str()), Some(t));
        }
        for e in Event::ALL {
            assert_eq!(Event::parse(e.as_str()), Some(e));
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
        assert_eq!(JobKind::parse("process_file"), Some(JobKind::ProcessFile));
        assert_eq!(
            JobKind::parse("complete_upload"),
            Some(JobKind::CompleteUpload)
        );
    }
}
