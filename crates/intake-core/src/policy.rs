//! A project's policy: what it accepts and how long it keeps it. Stored as
//! JSON in the catalog; every field has a default so older rows keep working
//! when fields are added.

use crate::error::{Error, ErrorKind, Reason};
use crate::format::Format;
use serde::{Deserialize, Serialize};

/// What an upload whose bytes already exist in the project (same SHA-256) does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateMode {
    /// Create another file; the bytes are still stored once.
    #[default]
    Allow,
    /// Refuse with 409 and the existing file's id.
    Reject,
    /// Answer the existing file instead of creating one.
    Reuse,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Formats accepted, checked against the detected format. Empty: any.
    pub allowed_formats: Vec<Format>,
    /// Largest file in bytes; the server's `limits.max_file_size` applies too.
    pub max_file_size: Option<u64>,
    /// Most files in one request; the server's `limits.max_files` applies too.
    pub max_files_per_request: Option<u32>,
    /// How long files are kept, in seconds. None: forever.
    pub retention_seconds: Option<u64>,
    pub duplicates: DuplicateMode,
}

impl Policy {
    /// The size limit in force: the smaller of the project's and the server's.
    pub fn max_file_size(&self, server_limit: u64) -> u64 {
        self.max_file_size
            .map_or(server_limit, |p| p.min(server_limit))
    }

    pub fn max_files(&self, server_limit: u32) -> u32 {
        self.max_files_per_request
            .map_or(server_limit, |p| p.min(server_limit))
    }

    pub fn check_format(&self, format: Format) -> Result<(), Error> {
        if self.allowed_formats.is_empty() || self.allowed_formats.contains(&format) {
            return Ok(());
        }
        let allowed: Vec<&str> = self.allowed_formats.iter().map(|f| f.as_str()).collect();
        Err(Error::new(
            ErrorKind::UnsupportedFormat,
            "format_not_allowed",
            format!(
                "{format} files are not accepted here; allowed: {}",
                allowed.join(", ")
            ),
        )
        .with_reason(Reason::Format))
    }

    /// Checks the values a client may set. Called before a policy is stored.
    pub fn validate(&self) -> Result<(), Error> {
        if self.max_file_size == Some(0) {
            return Err(Error::bad_request(
                "invalid_policy",
                "max_file_size must be positive",
            ));
        }
        if self.max_files_per_request == Some(0) {
            return Err(Error::bad_request(
                "invalid_policy",
                "max_files_per_request must be positive",
            ));
        }
        if self.retention_seconds == Some(0) {
            return Err(Error::bad_request(
                "invalid_policy",
                "retention_seconds must be positive",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_take_the_smaller_of_project_and_server() {
        let p = Policy {
            max_file_size: Some(10),
            max_files_per_request: Some(50),
            ..Policy::default()
        };
        assert_eq!(p.max_file_size(100), 10);
        assert_eq!(p.max_file_size(5), 5);
        assert_eq!(p.max_files(20), 20);
        assert_eq!(Policy::default().max_file_size(7), 7);
    }

    #[test]
    fn format_check_follows_the_allow_list() {
        let any = Policy::default();
        assert!(any.check_format(Format::Binary).is_ok());
        let pdf_only = Policy {
            allowed_formats: vec![Format::Pdf],
            ..Policy::default()
        };
        assert!(pdf_only.check_format(Format::Pdf).is_ok());
        let err = pdf_only.check_format(Format::Png).unwrap_err();
        assert_eq!(err.code, "format_not_allowed");
        assert_eq!(err.reason, Some(Reason::Format));
    }

    #[test]
    fn unknown_fields_and_zero_limits_are_refused() {
        assert!(serde_json::from_str::<Policy>(r#"{"max_size": 3}"#).is_err());
        let p: Policy = serde_json::from_str(r#"{"max_file_size": 0}"#).unwrap();
        assert!(p.validate().is_err());
        let p: Policy = serde_json::from_str(r#"{"duplicates": "reuse"}"#).unwrap();
        assert_eq!(p.duplicates, DuplicateMode::Reuse);
    }
}
