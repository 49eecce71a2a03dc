#!/usr/bin/env bash
# Installs what scripts/test.sh needs and this machine lacks; does nothing when all is there.
# Meant for a fresh Debian machine as root (uses sudo otherwise). One function per need, so
# later services (Garage) add a function and a line at the bottom.
#
# Nothing here starts a service: scripts/test.sh starts private instances and stops them.
set -euo pipefail

log() { echo "ci-install: $*" >&2; }
die() { log "$*"; exit 1; }

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || die "not root and no sudo: cannot install packages"
  SUDO=(sudo)
fi

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install by hand: $*"
  if ((APT_UPDATED == 0)); then
    log "apt-get update"
    "${SUDO[@]}" apt-get update -qq
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  # Debian's own clamav services must not start: freshclam would try to download signatures on
  # a closed network, and clamd would compete for port 3310. A policy-rc.d that exits 101
  # tells invoke-rc.d to start nothing; ours is removed again right after.
  local policy=/usr/sbin/policy-rc.d ours=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy"
    ours=1
  fi
  local status=0
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$@" || status=$?
  if ((ours)); then "${SUDO[@]}" rm -f "$policy"; fi
  return "$status"
}

# clamd for the virus-scan tests (scripts/clamd/start.sh runs a private, offline instance).
need_clamd() {
  if command -v clamd >/dev/null 2>&1 || [[ -x /usr/sbin/clamd ]]; then
    return
  fi
  apt_install clamav-daemon clamdscan
}

# PostgreSQL's server binaries for the catalog tests (scripts/postgres/start.sh runs a private
# cluster; Debian's own cluster is not started: apt_install keeps services from starting).
need_postgres() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x $dir/initdb && -x $dir/pg_ctl ]] && return
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    return
  fi
  apt_install postgresql
}

# cargo fmt and cargo clippy, when the toolchain came without them.
need_rust_components() {
  command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust (rustup) first"
  local missing=()
  cargo fmt --version >/dev/null 2>&1 || missing+=(rustfmt)
  cargo clippy --version >/dev/null 2>&1 || missing+=(clippy)
  ((${#missing[@]} == 0)) && return
  command -v rustup >/dev/null 2>&1 || die "cargo ${missing[*]} missing and no rustup to add them"
  log "rustup component add ${missing[*]}"
  rustup component add "${missing[@]}"
}

# The seed dialects' own clients for the black-box tests: Python requests and requests-toolbelt
# (000, 004), closeio and boto3 (002, signed uploads), Node 20 with fetch/FormData/File (004), curl (003, 004).
need_dialect_clients() {
  command -v curl >/dev/null 2>&1 || apt_install curl
  command -v python3 >/dev/null 2>&1 || apt_install python3 python3-pip
  if ! python3 -c 'import requests, requests_toolbelt' >/dev/null 2>&1; then
    log "pip install requests requests-toolbelt"
    local pip=(python3 -m pip install --quiet --disable-pip-version-check requests requests-toolbelt)
    python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
    # Debian's own Python refuses installs outside a venv (PEP 668); its packages are fine too.
    "${pip[@]}" 2>/dev/null || "${pip[@]}" --break-system-packages 2>/dev/null ||
      apt_install python3-requests python3-requests-toolbelt
  fi
  # 002's sample uses the vendor's client library (closeio); the signed-upload tests use boto3.
  if ! python3 -c 'import closeio_api, boto3' >/dev/null 2>&1; then
    log "pip install closeio boto3"
    local pip2=(python3 -m pip install --quiet --disable-pip-version-check closeio boto3)
    python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
    "${pip2[@]}" 2>/dev/null || "${pip2[@]}" --break-system-packages 2>/dev/null ||
      die "could not pip install closeio boto3 (the 002 and signed-upload tests need them)"
  fi
  local major
  major=$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/')
  if [[ -z $major || $major -lt 20 ]]; then
    apt_install nodejs
    major=$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/')
    [[ -n $major && $major -ge 20 ]] || die "Node 20 or newer is needed for the 004 client (have: ${major:-none})"
  fi
}

# The 001 seed's own kind of client: Java with Apache HttpClient 4 and httpmime, from Debian's
# packages (their jars land in /usr/share/java); the tests compile the samples with javac.
need_java_clients() {
  local pkgs=()
  command -v javac >/dev/null 2>&1 || pkgs+=(default-jdk-headless)
  [[ -e /usr/share/java/httpclient.jar && -e /usr/share/java/httpcore.jar &&
    -e /usr/share/java/commons-logging.jar && -e /usr/share/java/commons-codec.jar ]] ||
    pkgs+=(libhttpclient-java)
  [[ -e /usr/share/java/httpmime.jar ]] || pkgs+=(libhttpmime-java)
  ((${#pkgs[@]} == 0)) && return
  apt_install "${pkgs[@]}"
}

# Garage, the S3-compatible store of the tests: built from crates.io (about 12 minutes on two
# cores) once; cargo keeps the binary in ~/.cargo/bin, so later runs on the machine reuse it.
need_garage() {
  local want=2.5.0
  if garage --version 2>/dev/null | grep -q "$want" ||
    "$HOME/.cargo/bin/garage" --version 2>/dev/null | grep -q "$want"; then
    return
  fi
  log "cargo install garage --version $want --locked (takes a while)"
  cargo install garage --version "$want" --locked --quiet
}

need_rust_components
need_clamd
need_garage
need_postgres
need_dialect_clients
need_java_clients
