#!/bin/sh
# Container entrypoint of the Patroni variant: the shared patroni.yml plus this member's tags
# (Patroni reads names, addresses and passwords from PATRONI_* variables, but not tags).
set -eu
# The pgBackRest repository lives in the shared backups folder; a host folder the members cannot
# write is reported here and by the archiver (pg_stat_archiver, /cluster status), not fatal.
mkdir -p /backups/pgbackrest 2>/dev/null || echo "entrypoint: /backups/pgbackrest cannot be created: make BACKUP_DIR writable by uid $(id -u)" >&2
mkdir -p /var/lib/postgresql/patroni/pgbackrest-spool /tmp/pgbackrest
cat > /etc/pgbackrest/pgbackrest.conf <<EOF
[global]
repo1-path=/backups/pgbackrest
compress-type=${BACKUP_COMPRESS_TYPE:-zst}
process-max=$(nproc)
archive-async=y
spool-path=/var/lib/postgresql/patroni/pgbackrest-spool
lock-path=/tmp/pgbackrest
log-level-file=off
log-level-console=off
log-level-stderr=warn
start-fast=y

[global:archive-get]
archive-async=n

[${BACKUP_STANZA:-clusterbot}]
pg1-path=/var/lib/postgresql/patroni/data
pg1-port=5432
pg1-socket-path=/run/postgresql
EOF
# TLS: this member's certificate from the cluster CA in /tls (the first member makes the CA), named
# for its host name, loopback and CLUSTERBOT_TLS_HOSTS; PostgreSQL reads a 0600 copy on the volume.
tls=/tls
name=${PATRONI_NAME:?PATRONI_NAME is required}
if [ ! -s "$tls/$name.key" ]; then
  sans="DNS:$name,DNS:localhost,IP:127.0.0.1"
  for h in $(printf '%s' "${CLUSTERBOT_TLS_HOSTS:-}" | tr ',' ' '); do
    case "$h" in 127.0.0.1|localhost) ;; *[!0-9.:]*) sans="$sans,DNS:$h" ;; *) sans="$sans,IP:$h" ;; esac
  done
  sh /etc/patroni/tls.sh server "$tls" "$name" "${CLUSTERBOT_TLS_DAYS:-365}" "$sans"
fi
install -m 0600 "$tls/$name.key" /var/lib/postgresql/patroni/server.key
install -m 0644 "$tls/$name.crt" /var/lib/postgresql/patroni/server.crt
cp /etc/patroni/patroni.yml /tmp/patroni.yml
if [ "${NOFAILOVER:-false}" = true ]; then
  printf 'tags:\n  nofailover: true\n' >> /tmp/patroni.yml
fi
exec patroni /tmp/patroni.yml
