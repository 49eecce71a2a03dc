//! Background work for intake (design.md §3–§4): the durable job runner and what it runs.
//!
//! - [`Workers`] claims jobs from the catalog's queue with leases and runs them, bounded by
//!   [`WorkerConfig::workers`], retrying with backoff; it also sweeps expired files.
//! - `process_file` (scan with [`clamd`], inspect with `intake_inspect`, check against the
//!   project's policy) takes a file from `received` to `ready`, `rejected`, `infected` or
//!   `failed`; `deliver_webhook` POSTs signed events ([`sign`]); `complete_upload` asks the
//!   service's [`UploadCompleter`] whether an upload straight to the S3 bucket has arrived.
//! - Every job is idempotent: it carries only an id and reloads what it needs, and the
//!   catalog's final writes act once, so a job that runs twice changes nothing.
//!
//! Wiring (see [`Workers::new`]): build it from the same catalog and blob store as the API,
//! share the API's wake-up [`tokio::sync::Notify`] with [`Workers::with_waker`], spawn
//! [`Workers::run`] with a cancellation token, and bound the wait for it at shutdown.

pub mod clamd;
mod config;
mod facts;
mod jobs;
mod retention;
mod runner;
mod sign;

pub use config::WorkerConfig;
pub use facts::document_facts;
pub use jobs::direct::{UploadCheck, UploadCompleter};
pub use runner::{StartError, Workers, node_id};
pub use sign::{SignatureError, sign, verify};
