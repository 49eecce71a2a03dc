#!/usr/bin/env bash
# Stops the PostgreSQL server that scripts/postgres/start.sh DIR started (pg_ctl stop, which
# signals the postmaster recorded in DIR/data/postmaster.pid), and leaves its data in DIR.
set -euo pipefail

die() { echo "postgres/stop.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: $0 DIR"
DATA="$1/data"
PG_USER=${PG_USER:-postgres}

if [[ ! -f $DATA/postmaster.pid ]]; then
  echo "postgres/stop.sh: no $DATA/postmaster.pid; nothing to stop" >&2
  exit 0
fi

BINDIR=${PG_BINDIR:-}
if [[ -z $BINDIR ]]; then
  version=$(cat "$DATA/PG_VERSION" 2>/dev/null || true)
  if [[ -n $version && -x /usr/lib/postgresql/$version/bin/pg_ctl ]]; then
    BINDIR=/usr/lib/postgresql/$version/bin
  elif command -v pg_ctl >/dev/null 2>&1; then
    BINDIR=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
  fi
fi
[[ -n $BINDIR && -x $BINDIR/pg_ctl ]] || die "pg_ctl not found (set PG_BINDIR)"

AS=()
if [[ $(id -u) -eq 0 ]]; then
  if command -v runuser >/dev/null 2>&1; then
    AS=(runuser -u "$PG_USER" --)
  else
    AS=(setpriv --reuid="$PG_USER" --regid="$(id -g "$PG_USER")" --init-groups --)
  fi
fi

if ! "${AS[@]}" "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  echo "postgres/stop.sh: the server in $DATA was not running" >&2
  exit 0
fi
# Fast: open sessions are disconnected, then a clean shutdown. Immediate if that hangs.
if ! "${AS[@]}" "$BINDIR/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null; then
  echo "postgres/stop.sh: a fast stop took over 30s; stopping immediately" >&2
  "${AS[@]}" "$BINDIR/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >/dev/null
fi
echo "postgres/stop.sh: stopped the server in $DATA" >&2
