#!/bin/bash
# Role-aware entrypoint of a clusterbot PostgreSQL node.
#   CLUSTERBOT_ROLE=primary  initialise once on an empty volume (initdb, seed settings, bootstrap SQL)
#   CLUSTERBOT_ROLE=replica  wait for CLUSTERBOT_SOURCE_HOST, clone with pg_basebackup -R
# Every start: write the node settings (archiving through pgBackRest), a restrictive pg_hba.conf
# (hostssl only), the pgBackRest configuration, the passfile and the node's certificate from the
# cluster CA in /tls (issued once; see postgres/tls.sh) with pgBackRest's TLS server; a FENCED node (marker on the volume, or /fence/<node>.FENCED written
# by the bot) always starts read-only (standby.signal), whatever the restart policy does. Then postgres runs as PID 1 (docker stop = fast shutdown).
set -euo pipefail
source /usr/local/bin/node-tool.sh

NODE=${CLUSTERBOT_NODE:?CLUSTERBOT_NODE is required (primary, standby, ...)}
ROLE=${CLUSTERBOT_ROLE:-replica}
SOURCE=${CLUSTERBOT_SOURCE_HOST:-postgresql-primary}
CIDR=${CLUSTERBOT_ALLOWED_CIDR:-172.20.0.0/16}
ADMIN=${POSTGRES_ADMIN_USER:-admin}
DB=${PG_DATABASE:-proyecto_db}
READY=$VOLUME/.clusterbot-initialised
# The fence directory of the bot, mounted read-only (docker-compose.yml, or the runtime's /cluster up).
FENCE_MARK=${CLUSTERBOT_FENCE_DIR:-/fence}/$NODE.FENCED

pgpass_escape() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/:/\\:/g'; }

write_passfile() {
  : "${POSTGRES_ADMIN_PASSWORD:?POSTGRES_ADMIN_PASSWORD is required (set it in .env)}"
  : "${POSTGRES_REPLICATOR_PASSWORD:?POSTGRES_REPLICATOR_PASSWORD is required (set it in .env)}"
  umask 077
  {
    printf '*:*:*:replicator:%s\n' "$(pgpass_escape "$POSTGRES_REPLICATOR_PASSWORD")"
    printf '*:*:*:%s:%s\n' "$ADMIN" "$(pgpass_escape "$POSTGRES_ADMIN_PASSWORD")"
  } > "$PASSFILE"
  chown postgres:postgres "$PASSFILE"
  umask 022
}

write_node_conf() {
  {
    echo "# Written by the clusterbot entrypoint on every start."
    cat /etc/clusterbot/postgresql.conf
    echo "cluster_name = '$NODE'"
    echo "listen_addresses = '*'"
    echo "port = $PGPORT_IN"
    echo "unix_socket_directories = '/var/run/postgresql'"
    echo "archive_command = 'pgbackrest --stanza=$STANZA archive-push \"%p\"'"
    # pgBackRest is asked only for a file the repository holds, a missing one is answered at once
    # (postgres/restore-if-archived.sh says why; repo1 is the only repository here).
    echo "restore_command = 'restore-if-archived.sh \"$REPO\" $STANZA \"%f\" \"%p\"'"
    echo "ssl = on"
    echo "ssl_cert_file = '$VOLUME/server.crt'"
    echo "ssl_key_file = '$VOLUME/server.key'"
  } > "$PGDATA/clusterbot.conf"
  grep -q "include_if_exists = 'clusterbot.conf'" "$PGDATA/postgresql.conf" \
    || printf "\n# clusterbot\ninclude_if_exists = 'clusterbot.conf'\n" >> "$PGDATA/postgresql.conf"
  sed -e "s#@ALLOWED_CIDR@#$CIDR#g" -e "s#@ADMIN_USER@#$ADMIN#g" -e "s#@DATABASE@#$DB#g" \
    /etc/clusterbot/pg_hba.conf > "$PGDATA/pg_hba.conf"
  chown postgres:postgres "$PGDATA/clusterbot.conf" "$PGDATA/pg_hba.conf" "$PGDATA/postgresql.conf"
  chmod 0600 "$PGDATA/clusterbot.conf" "$PGDATA/pg_hba.conf"
}

# pgBackRest for archive-push/archive-get (asynchronous, the spool on this node's volume) and for
# the backups the bot runs in this container: repo1 on the shared backups volume.
write_pgbackrest_conf() {
  install -d -o postgres -g postgres -m 0750 /etc/pgbackrest "$VOLUME/pgbackrest-spool" /tmp/pgbackrest
  {
    echo "[global]"
    echo "repo1-path=$REPO"
    echo "compress-type=${BACKUP_COMPRESS_TYPE:-zst}"
    echo "process-max=$(nproc)"
    echo "archive-async=y"
    echo "spool-path=$VOLUME/pgbackrest-spool"
    echo "lock-path=/tmp/pgbackrest"
    echo "log-level-file=off"
    echo "log-level-console=off"
    echo "log-level-stderr=warn"
    echo "start-fast=y"
    echo ""
    # restore_command fetches synchronously: the async queue's 100 ms+ sleeps delayed every promotion.
    echo "[global:archive-get]"
    echo "archive-async=n"
    echo ""
    # pgBackRest's TLS server: another node's backup (backup-standby) reaches this data directory and
    # PostgreSQL here; peers verified by the cluster CA, only the cluster's client certificate admitted.
    echo "[global:server]"
    echo "tls-server-address=*"
    echo "tls-server-port=$PGBR_PORT"
    echo "tls-server-cert-file=$VOLUME/server.crt"
    echo "tls-server-key-file=$VOLUME/server.key"
    echo "tls-server-ca-file=$CA_COPY"
    echo "tls-server-auth=$PGBR_CLIENT=$STANZA"
    echo ""
    echo "[$STANZA]"
    echo "pg1-path=$PGDATA"
    echo "pg1-port=$PGPORT_IN"
    echo "pg1-socket-path=${1:-/var/run/postgresql}"
  } > /etc/pgbackrest/pgbackrest.conf
  chown postgres:postgres /etc/pgbackrest/pgbackrest.conf
  chmod 0640 /etc/pgbackrest/pgbackrest.conf
  # The repository passphrase when the bot encrypts it (BACKUP_ENCRYPT_LOCAL): its 0600 file in /tls,
  # read by pgBackRest from conf.d (never the environment, which docker inspect shows).
  install -d -o postgres -g postgres -m 0700 /etc/pgbackrest/conf.d
  if [ -s "$TLS/pgbackrest-cipher.conf" ]; then
    install -o postgres -g postgres -m 0600 "$TLS/pgbackrest-cipher.conf" /etc/pgbackrest/conf.d/cipher.conf
  else
    rm -f /etc/pgbackrest/conf.d/cipher.conf
  fi
}

# The stanza exists before the first WAL is archived. A repository holding an older database of
# this stanza (a reset cluster) takes the new one as its next history entry: old backups stay.
create_stanza() {
  local out
  if out=$(as_pg pgbackrest --stanza="$STANZA" stanza-create 2>&1); then return 0; fi
  if printf '%s' "$out" | grep -q 'do not match the database'; then
    say "the repository holds an older database of stanza $STANZA: stanza-upgrade"
    as_pg pgbackrest --stanza="$STANZA" stanza-upgrade
  else
    printf '%s\n' "$out" >&2
    return 1
  fi
}

init_primary() {
  say "initialising primary $NODE"
  as_pg initdb -D "$PGDATA" -U postgres --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C >/dev/null
  write_node_conf
  # Bootstrap on the socket only: no TCP client can connect before the roles exist.
  # Its own socket folder, so the healthcheck (on /var/run/postgresql) stays red until the end.
  install -d -o postgres -g postgres -m 0700 /tmp/clusterbot-bootstrap
  as_pg pg_ctl -D "$PGDATA" -w -t 120 -s \
    -o "-c listen_addresses='' -c archive_mode=off -c unix_socket_directories=/tmp/clusterbot-bootstrap" start
  q() { printf "'%s'" "$(printf '%s' "$1" | sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/\\\\'/g")"; }
  {
    echo "\\set admin_user $(q "$ADMIN")"
    echo "\\set admin_password $(q "$POSTGRES_ADMIN_PASSWORD")"
    echo "\\set replicator_password $(q "$POSTGRES_REPLICATOR_PASSWORD")"
    echo "\\set database $(q "$DB")"
    cat /etc/clusterbot/init/*.sql
  } | as_pg psql -X -q -v ON_ERROR_STOP=1 -h /tmp/clusterbot-bootstrap -U postgres -d postgres -f -
  write_pgbackrest_conf /tmp/clusterbot-bootstrap
  create_stanza
  as_pg pg_ctl -D "$PGDATA" -w -t 120 -s -m fast stop
}

clone_replica() {
  say "waiting for $SOURCE to accept connections"
  local n=0
  # As replicator to the seed database over TLS (hostssl only): a ping that leaves no noise in the source's log.
  until pg_isready -q -U replicator -d "host=$SOURCE port=$PGPORT_IN dbname=$DB $TLS_VERIFY"; do
    n=$((n + 1)); [ $((n % 15)) -eq 0 ] && say "still waiting for $SOURCE"
    sleep 1
  done
  say "cloning $NODE from $SOURCE (pg_basebackup -R)"
  as_pg pg_basebackup -D "$PGDATA" -d "$(replica_conninfo "$SOURCE" "$NODE")" \
    -R --wal-method=stream --checkpoint=fast --no-password
}

mkdir -p "$VOLUME" "$REPO" "$REPO-log" /var/run/postgresql
chown postgres:postgres "$VOLUME" /var/run/postgresql
chmod 0700 "$VOLUME"
# A volume written by an image whose postgres account had other ids (built with other PG_UID/PG_GID).
if [ -d "$PGDATA" ] && [ "$(stat -c %u:%g "$PGDATA")" != "$(id -u postgres):$(id -g postgres)" ]; then
  say "re-owning $VOLUME for postgres ($(id -u postgres):$(id -g postgres))"
  chown -R postgres:postgres "$VOLUME"
fi
chown postgres:postgres "$REPO" "$REPO-log" 2>/dev/null || true
write_passfile
ensure_certificate

if [ ! -f "$READY" ]; then
  # A half-done first start (killed mid-way) is redone from scratch.
  rm -rf "$PGDATA"
  install -d -o postgres -g postgres -m 0700 "$PGDATA"
  if [ "$ROLE" = primary ]; then init_primary; else clone_replica; fi
  date -u +%Y-%m-%dT%H:%M:%SZ > "$READY"
fi

if [ -f "$FENCE_MARK" ]; then
  # The bot's marker in the fence directory (written there without starting anything): fenced.
  # A REJOINED older than that marker is from before this fence (an earlier rejoin): void.
  if [ -f "$REJOINED" ] && ! [ "$REJOINED" -nt "$FENCE_MARK" ]; then rm -f "$REJOINED"; fi
  # Also onto the volume, so the fence holds even if a later container lacks the fence mount.
  [ -f "$FENCED" ] || cp "$FENCE_MARK" "$FENCED"
fi
write_node_conf
write_pgbackrest_conf
if [ -f "$FENCED" ]; then
  say "this node is FENCED ($(cat "$FENCED")): starting read-only"
  if [ ! -f "$REJOINED" ] && LC_ALL=C pg_controldata "$PGDATA" | grep -q 'cluster state: *in production'; then
    # A crashed primary: finish its crash recovery first, as a single-user server that takes no
    # connections (what pg_rewind does too), so its control file records where its WAL really ends
    # and a later pg_rewind cannot mistake it for "no rewind required".
    say "finishing the crash recovery of the fenced node (single-user, no connections)"
    rm -f "$PGDATA/standby.signal"
    as_pg postgres --single -F -D "$PGDATA" -c archive_mode=off template1 </dev/null >/dev/null
  fi
  touch "$PGDATA/standby.signal"
  chown postgres:postgres "$PGDATA/standby.signal"
  if [ ! -f "$REJOINED" ]; then
    # Not yet re-pointed (rewind/follow): stay on our own timeline, read-only, so a diverged old
    # primary still comes up for inspection instead of failing on the new timeline's history.
    echo "recovery_target_timeline = 'current'" >> "$PGDATA/clusterbot.conf"
  fi
fi
# pgBackRest's server, restarted if it ever exits. Its supervising shell becomes a child of postgres
# (PID 1) and never exits while postgres runs: PostgreSQL treats an unknown child's abnormal exit as a
# crash and restarts every backend, so no process it does not know may end abnormally under it.
say "starting pgBackRest's TLS server on port $PGBR_PORT"
setpriv --reuid=postgres --regid=postgres --init-groups \
  setsid bash -c "while :; do pgbackrest server & echo \$! > $PGBR_SERVER_PID; wait \$!; sleep 5; done" </dev/null &
say "starting postgres ($NODE)"
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA"
