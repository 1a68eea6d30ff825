#!/usr/bin/env bash
# Everything clusterbot needs on a fresh machine: Node modules, PostgreSQL binaries, a build.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
fail() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || fail "Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none)). Install it from your distribution or nodejs.org."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing Node modules (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

have_pg() {
  for d in "${PG_BIN:-}" "$(pg_config --bindir 2>/dev/null || true)" /usr/lib/postgresql/17/bin /usr/lib/postgresql/16/bin /usr/lib/postgresql/15/bin; do
    [ -n "$d" ] && [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_basebackup" ] && return 0
  done
  return 1
}
if ! have_pg; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing PostgreSQL 15 server binaries (apt-get)"
    # No system-wide cluster: it would take port 5432, which clusterbot's primary uses.
    mkdir -p /etc/postgresql-common
    grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf || echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold postgresql-15 postgresql-client-15 >/dev/null
    have_pg || fail "postgresql-15 installed but its binaries were not found under /usr/lib/postgresql"
  else
    fail "PostgreSQL server binaries not found. Install them (Debian/Ubuntu: sudo apt-get install -y postgresql-15) or set PG_BIN to their folder."
  fi
fi

# The backup engine: pgBackRest (Debian package; no service of its own), run by the bot and by
# every node's archive_command on this machine.
if ! command -v pgbackrest >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing pgBackRest, the backup engine (apt-get install pgbackrest)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbackrest >/dev/null
    command -v pgbackrest >/dev/null || fail "pgbackrest installed but not found on PATH"
  else
    fail "pgBackRest, the backup engine, is not installed. Install it (Debian/Ubuntu: sudo apt-get install -y pgbackrest)."
  fi
fi
# TLS: /cluster up issues the cluster CA and the node certificates with the openssl CLI (postgres/tls.sh).
if ! command -v openssl >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing openssl (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null; }
  else
    fail "openssl is not installed; clusterbot issues its TLS certificates with it. Install it (Debian/Ubuntu: sudo apt-get install -y openssl)."
  fi
fi

# The endpoints: clusterbot runs its own daemons with their configuration under CLUSTERBOT_HOME —
# never the package's service. WRITE_ENDPOINT (default true): PgBouncer on WRITE_ENDPOINT_PORT;
# READ_ENDPOINT (default true): HAProxy on READ_ENDPOINT_PORT.
# shellcheck source=scripts/apt-services.sh
. scripts/apt-services.sh
setting_on() { # setting_on NAME: the environment's value, else .env's, else true
  local v="${!1:-}"
  [ -z "$v" ] && [ -f .env ] && v=$(sed -n "s/^$1=//p" .env | tail -1)
  case "${v:-true}" in false|0|no|off) return 1 ;; *) return 0 ;; esac
}
# ensure_daemon SETTING PACKAGE BIN_VARIABLE DEFAULT_BIN WHAT
ensure_daemon() {
  local setting=$1 pkg=$2 binvar=$3 bin=${!3:-$4} what=$5
  setting_on "$setting" || return 0
  { [ -x "$bin" ] || command -v "$pkg" >/dev/null; } && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing $what (apt-get install $pkg)"
    apt_install_quiet -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$pkg"
    stop_services "$pkg"
    { [ -x "$bin" ] || command -v "$pkg" >/dev/null; } || fail "$pkg installed but not found; set $binvar to its path"
  else
    fail "$what is not installed. Install it (Debian/Ubuntu: sudo apt-get install -y $pkg && sudo systemctl disable --now $pkg), set $binvar to its path, or set $setting=false in .env."
  fi
}
ensure_daemon WRITE_ENDPOINT pgbouncer PGBOUNCER_BIN /usr/sbin/pgbouncer "PgBouncer for the write endpoint"
ensure_daemon READ_ENDPOINT haproxy HAPROXY_BIN /usr/sbin/haproxy "HAProxy for the read endpoint"

say "building (tsc)"
npm run --silent build
