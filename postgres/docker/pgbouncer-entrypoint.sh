#!/bin/sh
# The write endpoint's container (compose service pgbouncer): clusterbot's PgBouncer settings, the
# admin role from the environment (SCRAM is derived from it; never baked into the image), and the
# target the bot last wrote (databases.ini on the volume survives restarts; first start: the primary).
set -eu
dir=/etc/clusterbot/pgbouncer
mkdir -p "$dir"
: "${POSTGRES_ADMIN_USER:=admin}"
: "${PG_DATABASE:=proyecto_db}"
: "${WRITE_ENDPOINT_TARGET:=postgresql-primary}"
[ -n "${POSTGRES_ADMIN_PASSWORD:-}" ] || { echo "POSTGRES_ADMIN_PASSWORD is not set" >&2; exit 1; }
esc() { printf '%s' "$1" | sed 's/"/""/g'; }
umask 077
printf '"%s" "%s"\n' "$(esc "$POSTGRES_ADMIN_USER")" "$(esc "$POSTGRES_ADMIN_PASSWORD")" > "$dir/userlist.txt"
if [ ! -s "$dir/databases.ini" ]; then
  printf '%s = host=%s port=5432 dbname=%s\npostgres = host=%s port=5432 dbname=postgres\n* = host=%s port=5432\n' \
    "$PG_DATABASE" "$WRITE_ENDPOINT_TARGET" "$PG_DATABASE" "$WRITE_ENDPOINT_TARGET" "$WRITE_ENDPOINT_TARGET" > "$dir/databases.ini"
fi
cat > "$dir/pgbouncer.ini" <<INI
; Written by the container's entrypoint; clusterbot rewrites databases.ini and RELOADs on failover.
[databases]
%include $dir/databases.ini

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 6432
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
admin_users = $POSTGRES_ADMIN_USER
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
server_login_retry = 1
server_connect_timeout = 3
query_wait_timeout = 120
ignore_startup_parameters = extra_float_digits,options,application_name
user = postgres
INI
chown -R postgres:postgres "$dir"
exec pgbouncer "$dir/pgbouncer.ini"
