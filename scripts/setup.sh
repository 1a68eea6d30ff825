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

# The write endpoint (WRITE_ENDPOINT, default true): clusterbot runs its own PgBouncer on
# 127.0.0.1:WRITE_ENDPOINT_PORT with an ini under CLUSTERBOT_HOME — never the package's service.
endpoint_wanted() {
  local v="${WRITE_ENDPOINT:-}"
  [ -z "$v" ] && [ -f .env ] && v=$(sed -n 's/^WRITE_ENDPOINT=//p' .env | tail -1)
  case "${v:-true}" in false|0|no|off) return 1 ;; *) return 0 ;; esac
}
have_pgbouncer() { [ -x "${PGBOUNCER_BIN:-/usr/sbin/pgbouncer}" ] || command -v pgbouncer >/dev/null; }
if endpoint_wanted && ! have_pgbouncer; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing PgBouncer for the write endpoint (apt-get install pgbouncer)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold pgbouncer >/dev/null
    # The package starts a system-wide PgBouncer on 6432, the port clusterbot's endpoint uses: stop and disable it.
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
      systemctl disable --now pgbouncer >/dev/null 2>&1 || true
    else
      service pgbouncer stop >/dev/null 2>&1 || true
      command -v update-rc.d >/dev/null && update-rc.d pgbouncer disable >/dev/null 2>&1 || true
    fi
    have_pgbouncer || fail "pgbouncer installed but not found; set PGBOUNCER_BIN to its path"
  else
    fail "PgBouncer (the write endpoint) is not installed. Install it (Debian/Ubuntu: sudo apt-get install -y pgbouncer && sudo systemctl disable --now pgbouncer), set PGBOUNCER_BIN to its path, or set WRITE_ENDPOINT=false in .env."
  fi
fi

# The read endpoint (READ_ENDPOINT, default true): clusterbot runs its own HAProxy on
# 127.0.0.1:READ_ENDPOINT_PORT with a configuration under CLUSTERBOT_HOME — never the package's service.
read_endpoint_wanted() {
  local v="${READ_ENDPOINT:-}"
  [ -z "$v" ] && [ -f .env ] && v=$(sed -n 's/^READ_ENDPOINT=//p' .env | tail -1)
  case "${v:-true}" in false|0|no|off) return 1 ;; *) return 0 ;; esac
}
have_haproxy() { [ -x "${HAPROXY_BIN:-/usr/sbin/haproxy}" ] || command -v haproxy >/dev/null; }
if read_endpoint_wanted && ! have_haproxy; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing HAProxy for the read endpoint (apt-get install haproxy)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold haproxy >/dev/null
    # The package starts a system-wide HAProxy; clusterbot runs its own: stop and disable the service.
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
      systemctl disable --now haproxy >/dev/null 2>&1 || true
    else
      service haproxy stop >/dev/null 2>&1 || true
      command -v update-rc.d >/dev/null && update-rc.d haproxy disable >/dev/null 2>&1 || true
    fi
    have_haproxy || fail "haproxy installed but not found; set HAPROXY_BIN to its path"
  else
    fail "HAProxy (the read endpoint) is not installed. Install it (Debian/Ubuntu: sudo apt-get install -y haproxy && sudo systemctl disable --now haproxy), set HAPROXY_BIN to its path, or set READ_ENDPOINT=false in .env."
  fi
fi

say "building (tsc)"
npm run --silent build
