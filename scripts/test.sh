#!/usr/bin/env bash
# The test command: bash scripts/test.sh
#
# On a fresh Debian machine (as root) it installs what is missing (scripts/ci-install.sh),
# starts the real services the tests use, runs `cargo fmt --check`, clippy with -D warnings,
# and every test of the workspace, then stops what it started, whatever happened.
# Exits non-zero when any step fails; all steps run, and a summary lists the failures.
#
# Services: one start_/stop_ pair of functions each (clamd, PostgreSQL; Garage joins the same
# way): a start function that exports the variables the tests read, registered with
# `started stop_x`, and one line in main.
#
# Environment:
#   CARGO_BUILD_JOBS   parallel compile jobs (default 2: these machines have two cores)
#   INTAKE_TEST_ARGS   extra arguments for the test runner, e.g. a filter
#   CLAMD_PORT         TCP port for the test clamd (default 3310, see scripts/clamd/start.sh)
#   PG_PORT            TCP port for the test PostgreSQL (default: the first free from 55432, see
#                      scripts/postgres/start.sh)
#   INTAKE_TEST_DATABASE_URL  an existing PostgreSQL server to test against instead of starting one
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=never
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
export NO_COLOR=1

log() { echo "==> $*" >&2; }

# Stop functions of started services, run in reverse order on exit.
STOPS=()
started() { STOPS+=("$1"); }
stop_all() {
  local i
  for ((i = ${#STOPS[@]} - 1; i >= 0; i--)); do
    "${STOPS[i]}" || log "${STOPS[i]} failed"
  done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# --- services -------------------------------------------------------------------------------

CLAMD_DIR="${TMPDIR:-/tmp}/intake-clamd"

start_clamd() {
  log "starting clamd in $CLAMD_DIR"
  local exports
  exports=$(scripts/clamd/start.sh "$CLAMD_DIR")
  started stop_clamd
  eval "$exports" # INTAKE_TEST_CLAMD, INTAKE_TEST_CLAMD_SOCKET
  log "INTAKE_TEST_CLAMD=$INTAKE_TEST_CLAMD INTAKE_TEST_CLAMD_SOCKET=$INTAKE_TEST_CLAMD_SOCKET"
}

stop_clamd() {
  scripts/clamd/stop.sh "$CLAMD_DIR"
}

# A private PostgreSQL cluster (scripts/postgres/start.sh); the catalog and worker tests create a
# database each on it and drop it again. INTAKE_TEST_DATABASE_URL already set: that server is used
# as it is, nothing is started.
PG_DIR="${TMPDIR:-/tmp}/intake-postgres"

start_postgres() {
  if [[ -n ${INTAKE_TEST_DATABASE_URL:-} ]]; then
    log "using the PostgreSQL server of INTAKE_TEST_DATABASE_URL"
    return
  fi
  log "starting PostgreSQL in $PG_DIR"
  local exports
  exports=$(scripts/postgres/start.sh "$PG_DIR")
  started stop_postgres
  eval "$exports" # INTAKE_TEST_DATABASE_URL
  log "INTAKE_TEST_DATABASE_URL=$INTAKE_TEST_DATABASE_URL"
}

stop_postgres() {
  scripts/postgres/stop.sh "$PG_DIR"
}

# A private single-node Garage with one bucket and key (scripts/garage/start.sh); the S3 store's
# tests and the scale-out tests use it, each under a prefix of its own.
GARAGE_DIR="${TMPDIR:-/tmp}/intake-garage"

start_garage() {
  log "starting Garage in $GARAGE_DIR"
  local exports
  exports=$(scripts/garage/start.sh "$GARAGE_DIR")
  started stop_garage
  eval "$exports" # INTAKE_TEST_S3_*
  log "INTAKE_TEST_S3_ENDPOINT=$INTAKE_TEST_S3_ENDPOINT INTAKE_TEST_S3_BUCKET=$INTAKE_TEST_S3_BUCKET"
}

stop_garage() {
  scripts/garage/stop.sh "$GARAGE_DIR"
}

# --- checks ---------------------------------------------------------------------------------

FAILED=()
step() {
  local name=$1
  shift
  log "$name: $*"
  local started_at=$SECONDS
  if "$@"; then
    log "$name: ok ($((SECONDS - started_at)) s)"
  else
    log "$name: FAILED ($((SECONDS - started_at)) s)"
    FAILED+=("$name")
  fi
}

run_tests() {
  # shellcheck disable=SC2086 # INTAKE_TEST_ARGS is a list of words on purpose
  if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast ${INTAKE_TEST_ARGS:-} &&
      cargo test --workspace --doc
  else
    cargo test --workspace --no-fail-fast ${INTAKE_TEST_ARGS:-}
  fi
}

main() {
  step install bash scripts/ci-install.sh
  if ((${#FAILED[@]})); then
    log "cannot install what the tests need; stopping"
    exit 1
  fi
  start_clamd
  start_postgres
  start_garage

  step fmt cargo fmt --all --check
  step clippy cargo clippy --workspace --all-targets -- -D warnings
  step tests run_tests
  step bench-smoke bash bench/run.sh --smoke

  if ((${#FAILED[@]})); then
    log "failed: ${FAILED[*]}"
    exit 1
  fi
  log "all checks passed"
}

main "$@"
