#!/usr/bin/env bash
# The one test command: installs what the suites need, then runs every suite on real parts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/patroni-prereqs.sh
# The Docker suite needs an engine and the node image (installed/built here when root).
if ! bash scripts/docker-prereqs.sh; then
  if [ "${CI:-}" = true ]; then
    echo "[test] ERROR: the Docker suite cannot run: no Docker engine or image (see above). In CI run as root so scripts/docker-prereqs.sh can install docker.io and build the images, or provide a Docker engine." >&2
    exit 1
  fi
  echo "[test] WARNING: Docker prerequisites missing; the Docker suite (test/docker) will FAIL with the reason." >&2
fi
# promtool, Alertmanager and postgres_exporter for the Prometheus rules tests, and the image of the
# compose profile `observability` (built when the Docker prerequisites are there).
bash scripts/observability-prereqs.sh
# pgBackRest and a local S3 server (OpenStack Swift's S3 API) for the off-machine repository tests.
bash scripts/s3-prereqs.sh
npm run -s typecheck   # src, commands, tests and benchmarks
mkdir -p .test-results
set +e
npx vitest run --reporter=default --reporter=json --outputFile.json=.test-results/vitest.json "$@"
status=$?
set -e
# A plain closing line that any CI can read.
node -e '
  const r = JSON.parse(require("fs").readFileSync(".test-results/vitest.json", "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' 2>/dev/null || echo "Tests: 0 passed, 1 failed"
exit $status
