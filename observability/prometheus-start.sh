#!/bin/sh
# The prometheus service of the compose profile `observability`: prometheus.yml with the bot's HTTP
# port (the bot service listens on HTTP_PORT) in place of @BOT_PORT@, then Prometheus itself.
set -eu
case "${CLUSTERBOT_HTTP_PORT:-8080}" in
  *[!0-9]*) echo "prometheus-start: CLUSTERBOT_HTTP_PORT must be a port number, got '${CLUSTERBOT_HTTP_PORT}'" >&2; exit 2 ;;
esac
sed "s/@BOT_PORT@/${CLUSTERBOT_HTTP_PORT:-8080}/" /etc/clusterbot/observability/prometheus.yml > /tmp/prometheus.yml
exec prometheus --config.file=/tmp/prometheus.yml --storage.tsdb.path=/var/lib/prometheus/metrics2 \
  --storage.tsdb.retention.time=15d --web.listen-address=:9090 "$@"
