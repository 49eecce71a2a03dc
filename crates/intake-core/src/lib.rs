//! The domain of intake: what a tenant, project, file or credential is, and
//! the rules that apply to them. Pure logic: no HTTP types, no SQL, no I/O,
//! so every policy here can be unit-tested in microseconds.

pub mod checks;
pub mod error;
pub mod format;
pub mod id;
pub mod lists;
pub mod model;
pub mod name;
pub mod policy;
pub mod processing;
pub mod scope;
pub mod signed;

pub use error::{Error, ErrorKind, Reason};
pub use format::Format;
pub use id::new_id;
pub use lists::{
    Activity, ActivityError, ActivityKind, ActivityStatus, ContactList, ListStatus, RemovalCounts,
};
pub use model::*;
pub use policy::{
    DocumentClass, DuplicateMode, Orientation, Policy, Preflight, RespondMode, ScanMode,
};
pub use processing::*;
pub use scope::{Scope, Scopes};
pub use signed::{S3Credential, UploadIntent};

/// Timestamps are UTC everywhere.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// The current time, truncated to milliseconds so that what the catalog
/// stores and what the API answered are the same value.
pub fn now() -> Timestamp {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}
