#!/bin/sh
# The write endpoint's container (compose service pgbouncer): clusterbot's PgBouncer settings, the
# admin role from the environment (SCRAM is derived from it; never baked into the image), and the
# target the bot last wrote (databases.ini on the volume survives restarts; first start: the primary).
# TLS both ways: clients must use it (a certificate for service pgbouncer from the cluster CA in /tls),
# and the nodes are verified against that CA and their service names (server_tls_sslmode=verify-full).
set -eu
dir=/etc/clusterbot/pgbouncer
mkdir -p "$dir"
: "${POSTGRES_ADMIN_USER:=admin}"
: "${PG_DATABASE:=proyecto_db}"
: "${WRITE_ENDPOINT_TARGET:=postgresql-primary}"
[ -n "${POSTGRES_ADMIN_PASSWORD:-}" ] || { echo "POSTGRES_ADMIN_PASSWORD is not set" >&2; exit 1; }
esc() { printf '%s' "$1" | sed 's/"/""/g'; }
tls=${CLUSTERBOT_TLS_DIR:-/tls}
[ -s "$tls/pgbouncer.key" ] || sh /usr/local/bin/tls.sh server "$tls" pgbouncer "${CLUSTERBOT_TLS_DAYS:-365}" "DNS:pgbouncer,DNS:localhost,IP:127.0.0.1"
install -o postgres -g postgres -m 0600 "$tls/pgbouncer.key" "$dir/server.key"
install -o postgres -g postgres -m 0644 "$tls/pgbouncer.crt" "$dir/server.crt"
install -o postgres -g postgres -m 0644 "$tls/ca.crt" "$dir/ca.crt"
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
client_tls_sslmode = require
client_tls_cert_file = $dir/server.crt
client_tls_key_file = $dir/server.key
client_tls_ca_file = $dir/ca.crt
server_tls_sslmode = verify-full
server_tls_ca_file = $dir/ca.crt
user = postgres
INI
chown -R postgres:postgres "$dir"
exec pgbouncer "$dir/pgbouncer.ini"
