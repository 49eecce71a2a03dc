//! The processing runtime end to end: a real SQLite catalog, a real local blob store, the real
//! test clamd, a local webhook receiver, and `intake_workers::Workers` running the queue.
//!
//! Needs the test clamd (`eval "$(scripts/clamd/start.sh /tmp/intake-clamd)"`, which exports
//! `INTAKE_TEST_CLAMD`); `INTAKE_TEST_SKIP_CLAMD=1` runs without it (scan tests skip, the rest
//! run with no scanner). Every wait is bounded by `harness::DEADLINE`.
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod documents;
mod harness;
mod process;
mod recovery;
mod retention;
mod webhooks;
