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
    /// Virus scanning through clamd.
    pub scan: ScanMode,
    /// Whether uploads answer once the bytes are durable or after processing.
    pub respond: RespondMode,
    /// With `respond: sync`, how long an upload waits for processing before
    /// it answers 202 anyway (default 30).
    pub wait_seconds: Option<u64>,
    /// Whether the bytes of a file that is not `ready` may be downloaded.
    pub serve_unready: bool,
    /// Document classes defined by this project, in addition to the
    /// built-in ones (`Letter 8.5 x 11`, `Legal 8.5 x 14`, `A4`, …).
    pub document_classes: Vec<DocumentClass>,
    /// The class that applies to files uploaded without one.
    pub default_document_class: Option<String>,
    pub preflight: Preflight,
    /// How long the signed download URL of an upload intent works, in
    /// seconds (at most 7 days). None: the server's `signed.download_window`
    /// (24 hours by default).
    pub download_url_seconds: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScanMode {
    /// No file becomes ready unscanned: while clamd is unreachable the scan
    /// is retried, and in the end the file fails.
    Required,
    /// Scanned when clamd is configured and reachable; otherwise the scan
    /// task is skipped, with the reason.
    #[default]
    Optional,
    Off,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RespondMode {
    /// Answer 201 once the bytes are durable, with a `Location` to poll
    /// while processing runs.
    #[default]
    Async,
    /// Wait for processing (up to `wait_seconds`) and answer 201 with the
    /// final status, or 202 and `Location` when the wait runs out.
    Sync,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    /// Either way round.
    #[default]
    Any,
    Portrait,
    Landscape,
}

/// A physical kind of document: page size (points, 1/72 inch) within a
/// tolerance, orientation, and page count limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentClass {
    pub name: String,
    pub width_pt: f64,
    pub height_pt: f64,
    /// Allowed difference per side, in points (default 3, about 1 mm).
    #[serde(default = "default_tolerance")]
    pub tolerance_pt: f64,
    #[serde(default)]
    pub orientation: Orientation,
    #[serde(default)]
    pub min_pages: Option<u32>,
    #[serde(default)]
    pub max_pages: Option<u32>,
}

fn default_tolerance() -> f64 {
    3.0
}

/// Preflight rules: properties that make a document unfit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Preflight {
    pub forbid_encrypted: bool,
    pub forbid_javascript: bool,
    pub forbid_embedded_files: bool,
    pub forbid_macros: bool,
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
        if matches!(self.download_url_seconds, Some(s) if s == 0 || s > 7 * 24 * 3600) {
            return Err(Error::bad_request(
                "invalid_policy",
                "download_url_seconds must be between 1 and 604800 (7 days)",
            ));
        }
        if self.retention_seconds == Some(0) {
            return Err(Error::bad_request(
                "invalid_policy",
                "retention_seconds must be positive",
            ));
        }
        for class in &self.document_classes {
            let sane = |v: f64| v.is_finite() && v > 0.0 && v < 100_000.0;
            let tolerance_ok = class.tolerance_pt.is_finite() && class.tolerance_pt >= 0.0;
            if class.name.trim().is_empty()
                || !sane(class.width_pt)
                || !sane(class.height_pt)
                || !tolerance_ok
            {
                return Err(Error::bad_request(
                    "invalid_policy",
                    format!("document class {:?} is not valid", class.name),
                ));
            }
        }
        if let Some(name) = &self.default_document_class {
            self.document_class(name)?;
        }
        Ok(())
    }

    /// A class by name: the project's own first, then the built-in ones.
    pub fn document_class(&self, name: &str) -> Result<DocumentClass, Error> {
        let wanted = name.trim();
        self.document_classes
            .iter()
            .cloned()
            .chain(builtin_classes())
            .find(|c| c.name.eq_ignore_ascii_case(wanted))
            .ok_or_else(|| {
                Error::bad_request(
                    "unknown_document_class",
                    format!("no document class {wanted:?}"),
                )
            })
    }

    /// How long a synchronous upload waits for processing.
    pub fn wait(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.wait_seconds.unwrap_or(30))
    }
}

fn class(name: &str, width_pt: f64, height_pt: f64) -> DocumentClass {
    DocumentClass {
        name: name.to_owned(),
        width_pt,
        height_pt,
        tolerance_pt: default_tolerance(),
        orientation: Orientation::Any,
        min_pages: None,
        max_pages: None,
    }
}

/// Classes every project knows.
pub fn builtin_classes() -> Vec<DocumentClass> {
    vec![
        class("Letter 8.5 x 11", 612.0, 792.0),
        class("Legal 8.5 x 14", 612.0, 1008.0),
        class("Tabloid 11 x 17", 792.0, 1224.0),
        class("A4", 595.28, 841.89),
        class("A5", 419.53, 595.28),
        class("A3", 841.89, 1190.55),
    ]
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
