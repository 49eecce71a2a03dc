#!/usr/bin/env bash
# intake's benchmark: one command (see bench/README.md).
#
#   bash bench/run.sh            # full run: intake against nginx, @tus/server, FastAPI
#   bash bench/run.sh --smoke    # ~1 s per workload, intake only, tiny sizes; exits non-zero on a failed upload
#   bash bench/run.sh --rev=HEAD # benchmark a commit (exported with git archive), not the work tree
#
# Other options go to bench/bench.py (--rounds, --duration, --servers, --workloads, --no-profile, ...).
# Builds intake in release mode and the load generator, installs missing peers (nginx from Debian,
# @tus/server from npm into bench/peers/tus/node_modules, FastAPI into bench/.venv), then runs
# bench/bench.py, which writes bench/results/<date>-<host>.md and .json.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/bench

SMOKE=0
REV=""
PASS=()
for a in "$@"; do
  case "$a" in
    --smoke) SMOKE=1; PASS+=("$a") ;;
    --rev=*) REV=${a#--rev=} ;;
    -h|--help) exec python3 "$BENCH/bench.py" --help ;;
    *) PASS+=("$a") ;;
  esac
done

mkdir -p "$BENCH/scratch"
PIDFILE=$(mktemp "$BENCH/scratch/pids.XXXXXX")
BENCH_PID=""
cleanup() {
  # Stop, by PID, everything this run started (bench.py records every PID it starts here).
  if [ -n "$BENCH_PID" ] && kill -0 "$BENCH_PID" 2>/dev/null; then kill -TERM "$BENCH_PID" 2>/dev/null || true; fi
  if [ -f "$PIDFILE" ]; then
    while read -r pid; do
      [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null || true
    done < "$PIDFILE"
    sleep 1
    while read -r pid; do
      [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    done < "$PIDFILE"
    rm -f "$PIDFILE"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "[bench] $*" >&2; }

# Two cores are shared with other builds: keep cargo to two jobs unless told otherwise.
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
EXTRA=()
if [ "$SMOKE" = 1 ]; then
  # The smoke run checks the harness, not speed: the debug build (which the test suite has
  # already built) and a debug load generator keep it cheap in CI.
  say "building intake (debug, smoke mode)"
  cargo build -p intake
  say "building the load generator (debug, smoke mode)"
  (cd "$BENCH/loadgen" && CARGO_TARGET_DIR="$BENCH/loadgen/target" cargo build --locked)
  EXTRA=(--intake-bin "$TARGET_DIR/debug/intake" --loadgen "$BENCH/loadgen/target/debug/intake-loadgen")
else
  if [ -n "$REV" ]; then
    # --rev=REV: benchmark a commit, not the work tree (which others may be editing): its files
    # are exported with `git archive` under bench/scratch and built into the same target directory.
    SHA=$(git rev-parse --verify "$REV^{commit}")
    SRC="$BENCH/scratch/src-${SHA:0:12}"
    if [ ! -f "$SRC/Cargo.toml" ]; then
      rm -rf "$SRC" && mkdir -p "$SRC"
      git archive "$SHA" | tar -x -C "$SRC"
    fi
    say "building intake ${SHA:0:12} (release) from $SRC"
    (cd "$SRC" && CARGO_TARGET_DIR="$TARGET_DIR" cargo build --release -p intake)
    export BENCH_INTAKE_VERSION="${SHA:0:12} (--rev=$REV)"
  else
    say "building intake (release)"
    cargo build --release -p intake
  fi
  say "building the load generator"
  (cd "$BENCH/loadgen" && CARGO_TARGET_DIR="$BENCH/loadgen/target" cargo build --release --locked)
  EXTRA=(--intake-bin "$TARGET_DIR/release/intake")
fi

if [ "$SMOKE" = 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  if ! command -v nginx >/dev/null; then
    say "installing nginx (Debian)"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx-light
  fi
  if ! command -v strace >/dev/null; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq strace || say "no strace: fsync counts skipped"
  fi
  if ! command -v node >/dev/null; then
    say "node is required for @tus/server (Node >= 20.19)"; exit 1
  fi
  if [ ! -d "$BENCH/peers/tus/node_modules/@tus/server" ]; then
    say "installing @tus/server, @tus/file-store, tus-js-client (npm ci)"
    (cd "$BENCH/peers/tus" && npm ci --no-audit --no-fund)
  fi
  if ! "$BENCH/.venv/bin/python" -c 'import fastapi, multipart, uvicorn, uvloop, httptools' 2>/dev/null; then
    say "installing FastAPI, python-multipart, uvicorn, uvloop, httptools into bench/.venv"
    python3 -m venv "$BENCH/.venv"
    "$BENCH/.venv/bin/pip" install -q -r "$BENCH/peers/fastapi/requirements.txt"
  fi
fi

BENCH_COMMAND="bash bench/run.sh $*" python3 "$BENCH/bench.py" --pidfile "$PIDFILE" "${EXTRA[@]}" ${PASS[@]+"${PASS[@]}"} &
BENCH_PID=$!
wait "$BENCH_PID"
