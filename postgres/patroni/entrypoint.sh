#!/bin/sh
# Container entrypoint of the Patroni variant: the shared patroni.yml plus this member's tags
# (Patroni reads names, addresses and passwords from PATRONI_* variables, but not tags).
set -eu
cp /etc/patroni/patroni.yml /tmp/patroni.yml
if [ "${NOFAILOVER:-false}" = true ]; then
  printf 'tags:\n  nofailover: true\n' >> /tmp/patroni.yml
fi
exec patroni /tmp/patroni.yml
