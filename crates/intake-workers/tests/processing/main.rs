//! The processing runtime end to end: a real catalog (SQLite; PostgreSQL too, below), a real
//! local blob store, the real test clamd, a local webhook receiver, and `intake_workers::Workers`
//! running the queue.
//!
//! Needs the test clamd (`eval "$(scripts/clamd/start.sh /tmp/intake-clamd)"`, which exports
//! `INTAKE_TEST_CLAMD`); `INTAKE_TEST_SKIP_CLAMD=1` runs without it (scan tests skip, the rest
//! run with no scanner). Every wait is bounded by `harness::DEADLINE`.
//!
//! The queue, recovery, retention and webhook tests also run on PostgreSQL (`<test>::postgres`,
//! each on a database of its own): they need `INTAKE_TEST_DATABASE_URL`
//! (`eval "$(scripts/postgres/start.sh /tmp/intake-postgres)"`), or `INTAKE_TEST_SKIP_POSTGRES=1`.
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod documents;
mod harness;
mod process;
mod recovery;
mod retention;
mod webhooks;
