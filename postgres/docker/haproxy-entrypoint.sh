#!/bin/sh
# The read endpoint's container (compose service haproxy): HAProxy in master-worker mode as PID 1, so
# the bot's SIGUSR2 (docker kill -s USR2) reloads the configuration without dropping established
# sessions. The configuration lives on the volume and is rewritten by clusterbot on every change of
# roles or eligibility; the first start, before the bot has written one, serves the configured
# replicas with the primary as fallback.
set -eu
dir=/etc/clusterbot/haproxy
cfg="$dir/haproxy.cfg"
mkdir -p "$dir"
: "${POSTGRES_ADMIN_USER:=admin}"
: "${READ_ENDPOINT_REPLICAS:=postgresql-standby postgresql-readonly}"
: "${READ_ENDPOINT_FALLBACK:=postgresql-primary}"
if [ ! -s "$cfg" ]; then
  {
    echo "# Written by the container's entrypoint; clusterbot rewrites it and reloads HAProxy."
    echo "global"
    echo "  master-worker"
    echo "  user haproxy"
    echo "  group haproxy"
    echo "resolvers docker"
    echo "  nameserver dns 127.0.0.11:53"
    echo "  hold valid 2s"
    echo "defaults"
    echo "  mode tcp"
    echo "  timeout connect 3s"
    echo "  timeout client 24h"
    echo "  timeout server 24h"
    echo "  timeout check 2s"
    echo "  retries 2"
    echo "  option redispatch 1"
    echo "listen read"
    echo "  bind 0.0.0.0:6433"
    echo "  balance leastconn"
    # A bare TCP connect: the nodes admit TLS only (src/cluster/read-endpoint/haproxy.ts says why).
    echo "  default-server inter 1s fall 2 rise 2 resolvers docker init-addr last,libc,none"
    for h in $READ_ENDPOINT_REPLICAS; do echo "  server ${h#postgresql-} $h:5432 check"; done
    [ -n "$READ_ENDPOINT_FALLBACK" ] && echo "  server ${READ_ENDPOINT_FALLBACK#postgresql-} $READ_ENDPOINT_FALLBACK:5432 check backup"
  } > "$cfg.tmp"
  mv "$cfg.tmp" "$cfg"
fi
# -S: the master CLI, where the bot reads `show proc` to see a reload through.
exec haproxy -W -db -S /run/haproxy-master.sock -f "$cfg"
