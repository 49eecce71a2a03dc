//! Black-box tests of the `intake` binary: every test starts the real
//! server (`CARGO_BIN_EXE_intake serve`) on a free port and a temporary
//! data directory, speaks HTTP to it (or runs its CLI), and asserts on
//! status codes, problem codes, bytes, hashes, and what is left on disk.
//!
//! Infrastructure: `harness` (the server process), `http` (requests,
//! answers, multipart builder), `raw` (HTTP over a bare socket), `fixtures`
//! (generated data). The other modules are tests, one area each.

mod fixtures;
mod harness;
mod http;
mod raw;

mod admin;
mod auth;
mod bad_input;
mod cli;
mod config;
mod crash;
mod dialect_attachments;
mod dialect_library;
mod dialect_mailing;
mod dialect_projects;
mod dialect_signed;
mod direct_uploads;
mod limits;
mod openapi;
mod ops;
mod policy;
mod processing;
mod reads;
mod scale_out;
mod scopes;
mod signed_uploads;
mod uploads;
