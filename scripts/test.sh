#!/usr/bin/env bash
# The one test command: installs what the suites need, then runs every suite on real parts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/patroni-prereqs.sh
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
