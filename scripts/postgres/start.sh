#!/usr/bin/env bash
# Starts a private PostgreSQL server for tests: its own cluster under DIR, listening on 127.0.0.1.
#
#   scripts/postgres/start.sh DIR          # then: scripts/postgres/stop.sh DIR
#   eval "$(scripts/postgres/start.sh DIR)" # also exports INTAKE_TEST_DATABASE_URL
#
# Needs PostgreSQL's server binaries (initdb, pg_ctl, postgres): Debian's `postgresql` package
# puts them in /usr/lib/postgresql/<version>/bin. Nothing is installed or downloaded here.
# The system cluster (pg_ctlcluster, /var/lib/postgresql) is not used: this one has its data,
# configuration, socket and log under DIR, and only competes for the TCP port.
# PostgreSQL refuses to run as root: run as root, this script runs the server as PG_USER
# (default `postgres`, which Debian's package creates) and hands DIR to that user, so DIR must
# be reachable by them (under /tmp is; under /root is not).
#
# For tests only: no passwords (trust on 127.0.0.1 and on the socket in DIR), and no fsync
# (a crash may lose the cluster; the tests create and drop their databases anyway).
# An existing cluster in DIR is started again as it is.
#
# Environment:
#   PG_PORT           TCP port on 127.0.0.1 (default: the first free port from 55432)
#   PG_USER           system user the server runs as when this script runs as root (default postgres)
#   PG_BINDIR         directory of initdb and pg_ctl (default: the newest /usr/lib/postgresql/*/bin,
#                     else where initdb on PATH really is)
#   PG_START_TIMEOUT  seconds to wait for the server (default 60)
#
# stdout carries only `export VAR=value` lines, so it can be eval'ed; messages go to stderr.
set -euo pipefail

die() { echo "postgres/start.sh: $*" >&2; exit 1; }

[[ $# -eq 1 ]] || die "usage: $0 DIR"
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
DATA="$DIR/data"
LOG="$DIR/postgres.log"
CONF="$DATA/intake-test.conf"
PORTFILE="$DIR/port"
PG_USER=${PG_USER:-postgres}
START_TIMEOUT=${PG_START_TIMEOUT:-60}
[[ $START_TIMEOUT =~ ^[0-9]+$ ]] || die "PG_START_TIMEOUT must be a number of seconds, got '$START_TIMEOUT'"

# --- binaries -------------------------------------------------------------------------------

find_bindir() {
  if [[ -n ${PG_BINDIR:-} ]]; then
    echo "$PG_BINDIR"
    return
  fi
  local dir
  while read -r dir; do
    if [[ -x $dir/initdb && -x $dir/pg_ctl ]]; then
      echo "$dir"
      return
    fi
  done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r)
  local initdb
  initdb=$(command -v initdb || true)
  [[ -z $initdb ]] || dirname "$(readlink -f "$initdb")"
}

BINDIR=$(find_bindir)
[[ -n $BINDIR && -x $BINDIR/initdb && -x $BINDIR/pg_ctl ]] ||
  die "PostgreSQL server binaries (initdb, pg_ctl) not found. Install them with: apt-get install -y postgresql (or set PG_BINDIR)"

# --- who runs the server --------------------------------------------------------------------

AS=()
if [[ $(id -u) -eq 0 ]]; then
  id -u "$PG_USER" >/dev/null 2>&1 ||
    die "running as root, and there is no user '$PG_USER' to run the server as (set PG_USER, or: useradd --system $PG_USER)"
  if command -v runuser >/dev/null 2>&1; then
    AS=(runuser -u "$PG_USER" --)
  else
    AS=(setpriv --reuid="$PG_USER" --regid="$(id -g "$PG_USER")" --init-groups --)
  fi
  chown "$PG_USER:" "$DIR"
  [[ ! -d $DATA ]] || chown -R "$PG_USER:" "$DATA"
  "${AS[@]}" test -w "$DIR" -a -x "$DIR" ||
    die "user '$PG_USER' cannot write to $DIR: every directory above it must be searchable by them (put DIR under /tmp, for example)"
fi
as_pg() { "${AS[@]}" "$@"; }

# --- port -----------------------------------------------------------------------------------

# Whether something accepts connections on 127.0.0.1:$1 (bash's /dev/tcp).
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

url() { echo "postgres://postgres@127.0.0.1:$1/postgres"; }

running() { [[ -f $DATA/postmaster.pid ]] && as_pg "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

print_url() {
  local port=$1
  echo "PostgreSQL $("$BINDIR/pg_ctl" --version | awk '{print $3}') is running on 127.0.0.1:$port (data: $DATA; log: $LOG)" >&2
  echo "export INTAKE_TEST_DATABASE_URL=$(url "$port")"
}

# Already running from this DIR: say so rather than start a second one.
if running; then
  [[ -f $PORTFILE ]] || die "a server runs from $DATA but $PORTFILE is missing; stop it with scripts/postgres/stop.sh $DIR"
  print_url "$(cat "$PORTFILE")"
  exit 0
fi

if [[ -n ${PG_PORT:-} ]]; then
  [[ $PG_PORT =~ ^[0-9]+$ ]] && ((PG_PORT > 0 && PG_PORT < 65536)) || die "PG_PORT must be a port number, got '$PG_PORT'"
  PORT=$PG_PORT
  ! port_busy "$PORT" || die "something already listens on 127.0.0.1:$PORT. Stop it or set PG_PORT to a free port."
else
  PORT=55432
  while port_busy "$PORT"; do
    PORT=$((PORT + 1))
    ((PORT < 55532)) || die "no free port in 55432-55531; set PG_PORT"
  done
fi

# --- cluster --------------------------------------------------------------------------------

if [[ ! -f $DATA/PG_VERSION ]]; then
  rm -rf "$DATA"
  echo "postgres/start.sh: creating a cluster in $DATA" >&2
  as_pg "$BINDIR/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1 || {
    tail -n 20 "$DIR/initdb.log" >&2
    die "initdb failed (see above)"
  }
fi

# The socket lives in DIR, unless its path would be too long for a unix socket (TCP only then).
SOCKET_DIR=$DIR
((${#DIR} + 20 < 107)) || SOCKET_DIR=""

as_pg tee "$CONF" >/dev/null <<CONF
# Generated by scripts/postgres/start.sh; edits are overwritten.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCKET_DIR'
max_connections = 300
shared_buffers = 128MB
# Test data only: speed over durability.
fsync = off
synchronous_commit = off
full_page_writes = off
log_line_prefix = '%m [%p] %d '
CONF
grep -q "^include_if_exists = 'intake-test.conf'" "$DATA/postgresql.conf" ||
  echo "include_if_exists = 'intake-test.conf'" | as_pg tee -a "$DATA/postgresql.conf" >/dev/null

echo "$PORT" >"$PORTFILE"
: >"$LOG"
[[ ${#AS[@]} -eq 0 ]] || chown "$PG_USER:" "$LOG"
if ! as_pg "$BINDIR/pg_ctl" -D "$DATA" -l "$LOG" -w -t "$START_TIMEOUT" start >/dev/null; then
  echo "---- $LOG (last 20 lines) ----" >&2
  tail -n 20 "$LOG" >&2
  die "the server did not start within ${START_TIMEOUT}s (see above)"
fi

# Ready means it accepts connections on the port the tests will use.
deadline=$((SECONDS + START_TIMEOUT))
until port_busy "$PORT"; do
  if ((SECONDS >= deadline)); then
    tail -n 20 "$LOG" >&2
    die "the server started but does not accept connections on 127.0.0.1:$PORT"
  fi
  sleep 0.2
done

print_url "$PORT"
