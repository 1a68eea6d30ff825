#!/bin/bash
# Node operations inside the clusterbot PostgreSQL image. Used by the entrypoint (sourced) and by
# clusterbot's Docker runtime (`node-tool.sh <command>`, in the running container or in a one-off
# container that shares a stopped node's volumes).
#   fence <reason>                 never start writable again: FENCED marker + standby.signal
#   unfence                        remove the marker (the node stays whatever it is now)
#   follow <source-host> <name>    configure as a replica of source-host (standby.signal + primary_conninfo)
#   rewind <source-host> <name> <admin-user>   pg_rewind from source-host, then follow it
#   ready                          exit 0 when PostgreSQL accepts connections (the healthcheck)
#   as-postgres <program> [args]   run a PostgreSQL program as the postgres OS user
set -euo pipefail

VOLUME=/var/lib/postgresql/data
PGDATA=${PGDATA:-$VOLUME/pgdata}
PASSFILE=$VOLUME/pgpass
FENCED=$VOLUME/FENCED
# Written by follow/rewind: a fenced node that was re-pointed follows timelines again.
REJOINED=$VOLUME/REJOINED
# The pgBackRest repository on the shared backups volume (the bot's BACKUP_DIR/pgbackrest).
REPO=/backups/pgbackrest
STANZA=${BACKUP_STANZA:-clusterbot}
PGPORT_IN=5432

say() { printf '[clusterbot-node] %s\n' "$*" >&2; }
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

# A conninfo value inside single quotes (postgresql.conf syntax).
sq() { printf "%s" "$1" | sed "s/'/''/g"; }

replica_conninfo() { # <source-host> <application-name>
  printf 'host=%s port=%s user=replicator passfile=%s application_name=%s' "$1" "$PGPORT_IN" "$PASSFILE" "$2"
}

fence() {
  local reason=${1:-fenced by clusterbot}
  rm -f "$REJOINED"
  printf '{"at":"%s","reason":"%s"}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(printf '%s' "$reason" | tr -d '"\\')" > "$FENCED"
  if [ -d "$PGDATA" ]; then
    touch "$PGDATA/standby.signal"
    chown postgres:postgres "$PGDATA/standby.signal"
  fi
  say "fenced: $reason"
}

unfence() { rm -f "$FENCED" "$REJOINED"; say "unfenced"; }

follow() { # <source-host> <name>
  local conf=$PGDATA/postgresql.auto.conf
  [ -f "$PGDATA/PG_VERSION" ] || { say "no data directory to configure"; exit 1; }
  touch "$PGDATA/standby.signal"
  touch "$conf"
  grep -v '^primary_conninfo' "$conf" > "$conf.tmp" || true
  printf "primary_conninfo = '%s'\n" "$(sq "$(replica_conninfo "$1" "$2")")" >> "$conf.tmp"
  mv "$conf.tmp" "$conf"
  chown postgres:postgres "$conf" "$PGDATA/standby.signal"
  chmod 0600 "$conf"
  date -u +%Y-%m-%dT%H:%M:%SZ > "$REJOINED"
  say "configured as a replica of $1"
}

rewind() { # <source-host> <name> <admin-user>
  # A target that was not shut down cleanly gets crash recovery in single-user mode from pg_rewind,
  # which refuses standby mode; single-user mode takes no connections, so nothing can write meanwhile.
  rm -f "$PGDATA/standby.signal" "$PGDATA/recovery.signal"
  local rc=0
  as_pg pg_rewind -D "$PGDATA" --progress \
    --source-server="host=$1 port=$PGPORT_IN user=$3 dbname=postgres passfile=$PASSFILE" || rc=$?
  # Configured as a replica of the source either way: it can never start writable.
  follow "$1" "$2"
  return $rc
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  cmd=${1:-}; shift || true
  case "$cmd" in
    fence) fence "$@" ;;
    unfence) unfence ;;
    follow) follow "$@" ;;
    rewind) rewind "$@" ;;
    # On the socket as the postgres OS user (peer): no failed-authentication noise in the log.
    ready) exec setpriv --reuid=postgres --regid=postgres --init-groups pg_isready -q -h /var/run/postgresql -p "$PGPORT_IN" -U postgres -d postgres ;;
    as-postgres) cd /tmp && exec setpriv --reuid=postgres --regid=postgres --init-groups "$@" ;;
    *) say "unknown command: $cmd"; exit 2 ;;
  esac
fi
