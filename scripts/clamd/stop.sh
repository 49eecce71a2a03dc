#!/usr/bin/env bash
# Stops the clamd that scripts/clamd/start.sh DIR started, by the pid it recorded.
set -euo pipefail

die() { echo "clamd/stop.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: $0 DIR"
PIDFILE="$1/clamd.pid"

if [[ ! -f $PIDFILE ]]; then
  echo "clamd/stop.sh: no $PIDFILE; nothing to stop" >&2
  exit 0
fi
PID=$(cat "$PIDFILE")
[[ $PID =~ ^[0-9]+$ ]] || die "$PIDFILE does not hold a pid"

# Only signal the process if it still is a clamd: the pid may have been reused since.
if kill -0 "$PID" 2>/dev/null && [[ $(cat "/proc/$PID/comm" 2>/dev/null) == clamd ]]; then
  kill -TERM "$PID"
  for _ in $(seq 1 100); do
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$PID" 2>/dev/null; then
    echo "clamd/stop.sh: clamd (pid $PID) ignored SIGTERM for 10s; sending SIGKILL" >&2
    kill -KILL "$PID" 2>/dev/null || true
  fi
  echo "clamd/stop.sh: stopped clamd (pid $PID)" >&2
else
  echo "clamd/stop.sh: clamd (pid $PID) was not running" >&2
fi
rm -f "$PIDFILE" "$1/clamd.sock"
