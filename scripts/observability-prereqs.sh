#!/usr/bin/env bash
# Prerequisites of the Prometheus rules, dashboard and compose-profile tests (docs/prometheus.md):
#   1. Debian's prometheus (promtool), prometheus-alertmanager and prometheus-postgres-exporter on
#      this machine — apt-installed when missing and root, and no system service of theirs left
#      running (they would take 9090, 9093 and 9187);
#   2. the image of the compose profile `observability` (OBSERVABILITY_IMAGE), built FROM the same
#      debian:bookworm-slim as the node image when a Docker engine answers and that base exists
#      (bash scripts/docker-prereqs.sh makes it); rebuilt only when observability/Dockerfile changed
#      (the configuration and rules are mounted by docker-compose.yml, not baked in).
# Not root and missing: fails loudly with the install line — the suites never skip.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[observability-prereqs]\033[0m %s\n' "$*"; }
fail() { printf '[observability-prereqs] ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/apt-services.sh
. scripts/apt-services.sh

PKGS="prometheus prometheus-alertmanager prometheus-postgres-exporter"
missing() {
  command -v promtool >/dev/null 2>&1 || return 0
  [ -x /usr/bin/prometheus-alertmanager ] || return 0
  [ -x /usr/bin/prometheus-postgres-exporter ] || return 0
  return 1
}

install_missing "$PKGS" "promtool, /usr/bin/prometheus-alertmanager or /usr/bin/prometheus-postgres-exporter" \
  "the rules and metrics tests need promtool and the exporter."

# Whatever installed them: no system-wide Prometheus, Alertmanager or exporter left running or enabled.
stop_services prometheus prometheus-alertmanager prometheus-postgres-exporter

# --- the compose profile's image -----------------------------------------------------------------
IMAGE=${OBSERVABILITY_IMAGE:-clusterbot/observability:latest}
if ! docker info >/dev/null 2>&1 || ! docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
  say "no Docker engine or no debian:bookworm-slim: $IMAGE not built (bash scripts/docker-prereqs.sh first)"
  exit 0
fi
hash=$(sha256sum observability/Dockerfile | cut -c1-16)
have=$(docker image inspect -f '{{ index .Config.Labels "clusterbot.inputs" }}' "$IMAGE" 2>/dev/null || true)
if [ "$have" != "$hash" ]; then
  say "building $IMAGE from observability/"
  docker build --network host --label "clusterbot.inputs=$hash" -t "$IMAGE" observability \
    >/var/tmp/clusterbot-observability-build.log 2>&1 \
    || { tail -20 /var/tmp/clusterbot-observability-build.log >&2; fail "building $IMAGE failed (log: /var/tmp/clusterbot-observability-build.log)"; }
  say "$IMAGE built"
else
  say "$IMAGE is up to date (inputs $hash)"
fi
