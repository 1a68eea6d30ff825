#!/usr/bin/env bash
# One command on a fresh machine: set up, create .env with fresh passwords if there is none,
# bring the local 3-node cluster up and open the terminal chat.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -f .env ]; then
  echo "[setup] creating .env with generated passwords (from .env.example)"
  gen() { node -e 'console.log(require("crypto").randomBytes(16).toString("hex"))'; }
  sed -e "s/^POSTGRES_ADMIN_PASSWORD=.*/POSTGRES_ADMIN_PASSWORD=$(gen)/" \
      -e "s/^POSTGRES_REPLICATOR_PASSWORD=.*/POSTGRES_REPLICATOR_PASSWORD=$(gen)/" .env.example > .env
  chmod 600 .env
fi
exec node bin/clusterbot.js start "$@"
