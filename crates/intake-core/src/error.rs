//! One error type for the core, with a kind (what class of failure) and a
//! stable machine-readable `code`. Each front end renders it in its own wire
//! format: the native API as RFC 9457 problem+json, the seed dialects in
//! theirs. Messages are for people and may change; codes may not.

use std::fmt;

/// The class of a failure. Front ends map it to a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    Gone,
    PayloadTooLarge,
    UnsupportedFormat,
    Unprocessable,
    RangeNotSatisfiable,
    Timeout,
    Unavailable,
    Internal,
}

/// Why a file was refused or ended `rejected`. The seed dialects turn these
/// into their own error tables, so the strings are a contract.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Format,
    Dimensions,
    PageCount,
    Unrenderable,
    Preflight,
    Duplicate,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Format => "format",
            Reason::Dimensions => "dimensions",
            Reason::PageCount => "page_count",
            Reason::Unrenderable => "unrenderable",
            Reason::Preflight => "preflight",
            Reason::Duplicate => "duplicate",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        [
            Reason::Format,
            Reason::Dimensions,
            Reason::PageCount,
            Reason::Unrenderable,
            Reason::Preflight,
            Reason::Duplicate,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    /// Stable, machine-readable, snake_case.
    pub code: &'static str,
    /// For people; never contains internal detail.
    pub message: String,
    /// Set when the failure is a policy rejection of a file.
    pub reason: Option<Reason>,
    /// The existing file, for a duplicate refused by policy.
    pub existing_file: Option<String>,
}

impl Error {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Error {
        Error {
            kind,
            code,
            message: message.into(),
            reason: None,
            existing_file: None,
        }
    }

    pub fn with_reason(mut self, reason: Reason) -> Error {
        self.reason = Some(reason);
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::BadRequest, code, message)
    }

    pub fn not_found(what: &str) -> Error {
        Error::new(
            ErrorKind::NotFound,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn unauthorized(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Unauthorized, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Forbidden, "forbidden", message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Conflict, code, message)
    }

    /// The message is generic on purpose: internal detail goes to the log.
    pub fn internal() -> Error {
        Error::new(ErrorKind::Internal, "internal", "internal error")
    }

    pub fn unavailable(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Unavailable, "unavailable", message)
    }

    pub fn payload_too_large(limit: u64) -> Error {
        Error::new(
            ErrorKind::PayloadTooLarge,
            "payload_too_large",
            format!("the file exceeds the limit of {limit} bytes"),
        )
    }

    pub fn duplicate(existing_file: &str) -> Error {
        let mut e = Error::conflict(
            "duplicate",
            "an identical file already exists in this project",
        )
        .with_reason(Reason::Duplicate);
        e.existing_file = Some(existing_file.to_owned());
        e
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
