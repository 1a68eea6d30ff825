#!/bin/sh
# Patroni's post_bootstrap hook: creates the pgBackRest stanza and runs the seed's bootstrap SQL (../init/01-bootstrap.sql, or
# $BOOTSTRAP_SQL) once, on the member that initialised the cluster. Patroni passes its local
# connection string as $1. Passwords come from the environment, never from argv or a file:
# POSTGRES_ADMIN_USER, POSTGRES_ADMIN_PASSWORD, POSTGRES_REPLICATOR_PASSWORD, PG_DATABASE.
set -eu
sql="${BOOTSTRAP_SQL:-$(dirname "$0")/../init/01-bootstrap.sql}"
: "${POSTGRES_ADMIN_PASSWORD:?POSTGRES_ADMIN_PASSWORD is not set}"
: "${POSTGRES_REPLICATOR_PASSWORD:?POSTGRES_REPLICATOR_PASSWORD is not set}"
export POSTGRES_ADMIN_USER="${POSTGRES_ADMIN_USER:-admin}" PG_DATABASE="${PG_DATABASE:-proyecto_db}"
{
  echo '\getenv admin_user POSTGRES_ADMIN_USER'
  echo '\getenv admin_password POSTGRES_ADMIN_PASSWORD'
  echo '\getenv replicator_password POSTGRES_REPLICATOR_PASSWORD'
  echo '\getenv database PG_DATABASE'
  cat "$sql"
} | psql -X -q -v ON_ERROR_STOP=1 -d "$1" -f -
# The pgBackRest stanza, before the first WAL segment is archived (archive-push refuses WAL until it
# exists); PGBACKREST_CONFIG or /etc/pgbackrest/pgbackrest.conf names the repository and this member.
# A repository that already holds an older database of the stanza takes the new one with stanza-upgrade.
stanza="${BACKUP_STANZA:-clusterbot}"
if ! out=$(pgbackrest --stanza="$stanza" stanza-create 2>&1); then
  case "$out" in
    *"do not match the database"*) pgbackrest --stanza="$stanza" stanza-upgrade ;;
    *) printf '%s\n' "$out" >&2; exit 1 ;;
  esac
fi
