//! The workers' configuration: the `[workers]` section of the server's file.
//!
//! Every key has a default (see [`WorkerConfig::default`]), durations are humantime strings
//! (`"500ms"`, `"5min"`), and unknown keys are refused so a typo is not silently ignored.
//!
//! Two values are used by the *API side* as well, and must be the same on every node:
//! [`WorkerConfig::process_job`] is the job each new file gets (its attempt budget), and
//! [`WorkerConfig::webhook_job`] the job each webhook delivery gets.

use std::time::Duration;

use intake_catalog::JobTemplate;
use intake_core::JobKind;
use serde::{Deserialize, Serialize};

use crate::clamd::ClamdAddr;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Jobs this node runs at once. 0: this node runs no jobs and no retention sweep.
    pub workers: usize,
    /// How long a claimed job is reserved for its worker; renewed every third of it while the
    /// job runs. A job whose worker died is taken over once its lease runs out.
    #[serde(with = "humantime_serde")]
    pub lease: Duration,
    /// How often an idle runner looks for due jobs (it is also woken by new uploads).
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// First retry delay; doubles with each attempt.
    #[serde(with = "humantime_serde")]
    pub retry_base: Duration,
    /// Longest retry delay.
    #[serde(with = "humantime_serde")]
    pub retry_cap: Duration,
    /// Attempts a file's processing gets before the file ends `failed`.
    pub process_attempts: u32,
    /// Attempts a webhook delivery gets before it is marked failed.
    pub webhook_attempts: u32,
    /// Bound on one webhook request, connect to last byte.
    #[serde(with = "humantime_serde")]
    pub webhook_timeout: Duration,
    /// clamd's address: `tcp://host:port`, `host:port`, `unix:///path` or `/path`. None: no
    /// scanner (projects with `scan: required` then never get a file ready).
    pub clamd: Option<ClamdAddr>,
    /// Bound on one whole scan (connect, stream, verdict).
    #[serde(with = "humantime_serde")]
    pub clamd_timeout: Duration,
    /// clamd's `StreamMaxLength` in bytes, so larger files are refused before being sent.
    pub clamd_stream_max_length: Option<u64>,
    /// Keep an infected file's bytes (never served) instead of deleting them.
    pub quarantine_infected: bool,
    /// How often expired files are looked for.
    #[serde(with = "humantime_serde")]
    pub retention_interval: Duration,
    /// Bound on one inspection; a file that takes longer is rejected as `unrenderable`.
    #[serde(with = "humantime_serde")]
    pub inspect_timeout: Duration,
    /// Bounds on what one inspection may read, unpack and hold.
    pub inspect: intake_inspect::Limits,
}

impl Default for WorkerConfig {
    fn default() -> WorkerConfig {
        WorkerConfig {
            workers: 4,
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_millis(500),
            retry_base: Duration::from_secs(1),
            retry_cap: Duration::from_secs(300),
            process_attempts: 8,
            webhook_attempts: 8,
            webhook_timeout: Duration::from_secs(10),
            clamd: None,
            clamd_timeout: Duration::from_secs(60),
            clamd_stream_max_length: None,
            quarantine_infected: false,
            retention_interval: Duration::from_secs(30),
            inspect_timeout: Duration::from_secs(60),
            inspect: intake_inspect::Limits::default(),
        }
    }
}

impl WorkerConfig {
    /// The job every new file gets; the API side passes it to `commit_upload`.
    pub fn process_job(&self) -> JobTemplate {
        JobTemplate {
            kind: JobKind::ProcessFile,
            max_attempts: self.process_attempts,
        }
    }

    /// The job every webhook delivery gets (also for re-sends through the API).
    pub fn webhook_job(&self) -> JobTemplate {
        JobTemplate {
            kind: JobKind::DeliverWebhook,
            max_attempts: self.webhook_attempts,
        }
    }

    /// Refuses values that would make the runner spin or never finish a job.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("lease", self.lease),
            ("poll_interval", self.poll_interval),
            ("webhook_timeout", self.webhook_timeout),
            ("clamd_timeout", self.clamd_timeout),
            ("retention_interval", self.retention_interval),
            ("inspect_timeout", self.inspect_timeout),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, d)| d.is_zero()) {
            return Err(format!("workers.{name} must be positive"));
        }
        if self.process_attempts == 0 || self.webhook_attempts == 0 {
            return Err(
                "workers.process_attempts and workers.webhook_attempts must be at least 1".into(),
            );
        }
        if self.retry_cap < self.retry_base {
            return Err("workers.retry_cap must not be below workers.retry_base".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_default_and_durations_are_humantime() {
        let config: WorkerConfig = serde_json::from_str(
            r#"{"workers": 2, "lease": "90s", "clamd": "tcp://127.0.0.1:3310", "inspect": {"max_pages": 5}}"#,
        )
        .unwrap();
        assert_eq!(config.workers, 2);
        assert_eq!(config.lease, Duration::from_secs(90));
        assert_eq!(config.poll_interval, Duration::from_millis(500));
        assert_eq!(config.clamd, Some(ClamdAddr::Tcp("127.0.0.1:3310".into())));
        assert_eq!(config.inspect.max_pages, 5);
        assert!(config.validate().is_ok());
        assert!(serde_json::from_str::<WorkerConfig>(r#"{"worker": 2}"#).is_err());
        let zero = WorkerConfig {
            lease: Duration::ZERO,
            ..WorkerConfig::default()
        };
        assert!(zero.validate().is_err());
    }
}
