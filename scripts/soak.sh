#!/usr/bin/env bash
# The whole test command, N times in a row, each on a fresh clone, with every core kept busy by an
# unrelated CPU load: a test that fails here is a flaky test (fix it; never retry it).
# Usage: bash scripts/soak.sh [runs=3]   (SOAK_LOAD=0 turns the load off; SOAK_KEEP=1 keeps the clones)
set -euo pipefail
runs=${1:-3}
case "$runs" in '' | *[!0-9]*) echo "usage: bash scripts/soak.sh [runs]  (runs: a whole number, e.g. 3)" >&2; exit 2 ;; esac
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/clusterbot-soak.XXXXXX)
loads=()
stop_load() {
  for pid in "${loads[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${loads[@]}"; do wait "$pid" 2>/dev/null || true; done
  loads=()
}
cleanup() {
  stop_load
  [ "${SOAK_KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

summary=()
failed=0
for i in $(seq 1 "$runs"); do
  clone="$work/run-$i"
  git clone -q "$repo" "$clone"
  if [ "${SOAK_LOAD:-1}" != 0 ]; then
    for _ in $(seq 1 "$(nproc)"); do yes >/dev/null & loads+=("$!"); done
  fi
  log="$work/run-$i.log"
  start=$(date +%s)
  set +e
  (cd "$clone" && CI=true bash .ci/run </dev/null >"$log" 2>&1)
  status=$?
  set -e
  stop_load
  line=$(grep -aE '^Tests: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  [ -n "$line" ] || line="Tests: no result line (see $log)"
  summary+=("run $i/$runs ($(git -C "$clone" rev-parse --short HEAD), load: $([ "${SOAK_LOAD:-1}" != 0 ] && echo "$(nproc)× yes" || echo none), $(( $(date +%s) - start )) s, exit $status): $line")
  echo "${summary[-1]}"
  if [ "$status" -ne 0 ]; then
    failed=1
    grep -aE '(FAIL|×|✗) ' "$log" | head -20 || true
    cp "$log" "$repo/.test-results/soak-run-$i.log" 2>/dev/null || cp "$log" "/tmp/clusterbot-soak-run-$i.log"
  fi
done
echo
printf '%s\n' "${summary[@]}"
exit $failed
