#!/bin/bash
# Node operations inside the clusterbot PostgreSQL image. Used by the entrypoint (sourced) and by
# clusterbot's Docker runtime (`node-tool.sh <command>`, in the running container or in a one-off
# container that shares a stopped node's volumes).
#   fence <reason>                 never start writable again: FENCED marker + standby.signal
#   unfence                        remove the marker (the node stays whatever it is now)
#   follow <source-host> <name>    configure as a replica of source-host (standby.signal + primary_conninfo)
#   rewind <source-host> <name> <admin-user>   pg_rewind from source-host, then follow it
#   tls-renew <name> [days]               a new server certificate from the CA in /tls, installed on the volume (then reload);
#                                  pgBackRest's client certificate renewed when it expires within 30 days, its server reloaded
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
# The cluster CA (TLS_DIR of the bot, or compose's ./tls), shared by every node; the copy on the volume is what the server reads.
TLS=${CLUSTERBOT_TLS_DIR:-/tls}
CA_COPY=$VOLUME/ca.crt
TLS_VERIFY="sslmode=verify-full sslrootcert=$CA_COPY"
# pgBackRest's TLS server in every node (a backup run in a replica's container reaches the primary
# through it) and the cluster's one client certificate for it, issued by tls.sh into $TLS, copied
# onto the volume for the postgres account. Servers accept that certificate's CN only.
PGBR_PORT=8432
PGBR_CLIENT=pgbackrest-client
PGBR_CLIENT_CERT=$VOLUME/$PGBR_CLIENT.crt
PGBR_CLIENT_KEY=$VOLUME/$PGBR_CLIENT.key
PGBR_SERVER_PID=/tmp/pgbackrest/server.pid
# libpq (pg_basebackup, pg_rewind, the walreceiver) looks for ~/.postgresql/postgresql.crt: root's
# HOME would make every TLS connection of the postgres account fail on a permission error.
export HOME=/var/lib/postgresql

say() { printf '[clusterbot-node] %s\n' "$*" >&2; }
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

# A conninfo value inside single quotes (postgresql.conf syntax).
sq() { printf "%s" "$1" | sed "s/'/''/g"; }

replica_conninfo() { # <source-host> <application-name>
  printf 'host=%s port=%s user=replicator passfile=%s application_name=%s %s' "$1" "$PGPORT_IN" "$PASSFILE" "$2" "$TLS_VERIFY"
}

# subjectAltName: the service name (the network's name of the node), loopback for published ports,
# and CLUSTERBOT_TLS_HOSTS (the address the bot reaches the node by, when it is another one).
node_sans() {
  local sans="DNS:postgresql-$NODE,DNS:localhost,IP:127.0.0.1" h
  for h in $(printf '%s' "${CLUSTERBOT_TLS_HOSTS:-}" | tr ',' ' '); do
    case "$h" in
      127.0.0.1|localhost|postgresql-"$NODE") ;;
      *[!0-9.:]*) sans="$sans,DNS:$h" ;;
      *) sans="$sans,IP:$h" ;;
    esac
  done
  printf '%s' "$sans"
}

# Issue this node's certificate from the CA in $TLS (the CA is made by the first node that needs it).
issue_certificate() { # [days]
  say "issuing a TLS certificate for postgresql-$NODE from the cluster CA"
  sh /usr/local/bin/tls.sh server "$TLS" "$NODE" "${1:-${CLUSTERBOT_TLS_DAYS:-365}}" "$(node_sans)"
}

# PostgreSQL reads its key from the volume: owned by postgres, 0600; replaced by rename.
install_certificate() {
  install -o postgres -g postgres -m 0600 "$TLS/$NODE.key" "$VOLUME/.server.key.new"
  install -o postgres -g postgres -m 0644 "$TLS/$NODE.crt" "$VOLUME/.server.crt.new"
  install -o postgres -g postgres -m 0644 "$TLS/ca.crt" "$VOLUME/.ca.crt.new"
  mv "$VOLUME/.server.key.new" "$VOLUME/server.key"
  mv "$VOLUME/.server.crt.new" "$VOLUME/server.crt"
  mv "$VOLUME/.ca.crt.new" "$CA_COPY"
}

ensure_certificate() {
  [ -s "$TLS/$NODE.crt" ] && [ -s "$TLS/$NODE.key" ] || issue_certificate
  install_certificate
  ensure_client_certificate
}

# The cluster's pgBackRest client certificate: issued once (again when it expires within 30 days).
ensure_client_certificate() {
  sh /usr/local/bin/tls.sh client "$TLS" "$PGBR_CLIENT" "${CLUSTERBOT_TLS_DAYS:-365}"
  install -o postgres -g postgres -m 0600 "$TLS/$PGBR_CLIENT.key" "$VOLUME/.$PGBR_CLIENT.key.new"
  install -o postgres -g postgres -m 0644 "$TLS/$PGBR_CLIENT.crt" "$VOLUME/.$PGBR_CLIENT.crt.new"
  mv "$VOLUME/.$PGBR_CLIENT.key.new" "$PGBR_CLIENT_KEY"
  mv "$VOLUME/.$PGBR_CLIENT.crt.new" "$PGBR_CLIENT_CERT"
}

# The running pgBackRest server reads the renewed certificate files again (SIGHUP reloads it).
reload_pgbackrest_server() {
  local pid
  pid=$(cat "$PGBR_SERVER_PID" 2>/dev/null || true)
  if [ -n "$pid" ]; then kill -HUP "$pid" 2>/dev/null || true; fi
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
    "--source-server=host=$1 port=$PGPORT_IN user=$3 dbname=postgres passfile=$PASSFILE $TLS_VERIFY" || rc=$?
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
    tls-renew) NODE=${1:?tls-renew <name> [days]}; issue_certificate "${2:-}"; install_certificate; ensure_client_certificate; reload_pgbackrest_server ;;
    ready) exec setpriv --reuid=postgres --regid=postgres --init-groups pg_isready -q -h /var/run/postgresql -p "$PGPORT_IN" -U postgres -d postgres ;;
    as-postgres) cd /tmp && exec setpriv --reuid=postgres --regid=postgres --init-groups "$@" ;;
    *) say "unknown command: $cmd"; exit 2 ;;
  esac
fi
