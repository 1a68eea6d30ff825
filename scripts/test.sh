#!/usr/bin/env bash
# The one test command: installs what the suites need, then runs every suite on real parts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/patroni-prereqs.sh
npx vitest run "$@"
