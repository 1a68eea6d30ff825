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

[${BACKUP_STANZA:-clusterbot}]
pg1-path=/var/lib/postgresql/patroni/data
pg1-port=5432
pg1-socket-path=/run/postgresql
EOF
cp /etc/patroni/patroni.yml /tmp/patroni.yml
if [ "${NOFAILOVER:-false}" = true ]; then
  printf 'tags:\n  nofailover: true\n' >> /tmp/patroni.yml
fi
exec patroni /tmp/patroni.yml
