#!/bin/sh
# Container entrypoint of the Patroni variant: the shared patroni.yml plus this member's tags
# (Patroni reads names, addresses and passwords from PATRONI_* variables, but not tags).
set -eu
# The WAL archive lives in the shared backups folder; a host folder the members cannot write is
# reported here and by the archiver (pg_stat_archiver, /cluster status), not fatal.
mkdir -p /backups/wal_archive 2>/dev/null || echo "entrypoint: /backups/wal_archive cannot be created: make BACKUP_DIR writable by uid $(id -u)" >&2
cp /etc/patroni/patroni.yml /tmp/patroni.yml
if [ "${NOFAILOVER:-false}" = true ]; then
  printf 'tags:\n  nofailover: true\n' >> /tmp/patroni.yml
fi
exec patroni /tmp/patroni.yml
