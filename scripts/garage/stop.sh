#!/usr/bin/env bash
# Stops the Garage that scripts/garage/start.sh DIR started, by the pid it recorded.
set -euo pipefail

die() { echo "garage/stop.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: $0 DIR"
PIDFILE="$1/garage.pid"

if [[ ! -f $PIDFILE ]]; then
  echo "garage/stop.sh: no $PIDFILE; nothing to stop" >&2
  exit 0
fi
PID=$(cat "$PIDFILE")
[[ $PID =~ ^[0-9]+$ ]] || die "$PIDFILE does not hold a pid"

# Only signal the process if it still is garage: the pid may have been reused since.
if kill -0 "$PID" 2>/dev/null && [[ $(cat "/proc/$PID/comm" 2>/dev/null) == garage ]]; then
  kill -TERM "$PID"
  for _ in $(seq 1 100); do
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$PID" 2>/dev/null || true
  echo "garage/stop.sh: stopped garage (pid $PID)" >&2
fi
rm -f "$PIDFILE" "$1/credentials"
