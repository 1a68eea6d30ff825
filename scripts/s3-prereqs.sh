#!/usr/bin/env bash
# Prerequisites of the off-machine backup repository tests (test/integration/backup-s3.test.ts,
# docs/backups-s3.md): pgBackRest, and OpenStack Swift with its S3 API (the s3api middleware of the
# proxy; a real S3-compatible object store, packaged by Debian) plus memcached, which Swift's
# tempauth keeps its state in, and openssl for the test CA. apt-installed when missing and root, with
# no system service of theirs left running (the proxy's packaged default port 8080 is the bot's
# HTTP_PORT; memcached's is 11211): each test starts its own Swift, on free loopback ports, over TLS.
# Not root and missing: fails loudly with the install line — the suites never skip.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[s3-prereqs]\033[0m %s\n' "$*"; }
fail() { printf '[s3-prereqs] ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/apt-services.sh
. scripts/apt-services.sh

PKGS="pgbackrest swift-proxy swift-account swift-container swift-object memcached openssl"
PROGRAMS="pgbackrest swift-proxy-server swift-account-server swift-container-server swift-object-server swift-ring-builder memcached openssl"
missing() {
  local p
  for p in $PROGRAMS; do command -v "$p" >/dev/null 2>&1 || return 0; done
  # Swift reads its hash prefix/suffix and storage policies from here only.
  [ -f /etc/swift/swift.conf ] || return 0
  return 1
}

install_missing "$PKGS" "one of $PROGRAMS or /etc/swift/swift.conf" \
  "the S3 repository tests need a real pgbackrest and a local S3 server."

# Whatever installed them: no system-wide Swift or memcached left running or enabled.
stop_services memcached swift-proxy swift-account swift-container swift-object \
  swift-account-auditor swift-account-reaper swift-account-replicator \
  swift-container-auditor swift-container-reconciler swift-container-replicator swift-container-sharder \
  swift-container-sync swift-container-updater \
  swift-object-auditor swift-object-reconstructor swift-object-replicator swift-object-updater
say "pgbackrest $(pgbackrest version | awk '{print $2}'), Swift $(dpkg-query -W -f='${Version}' python3-swift 2>/dev/null || echo '?') and memcached are ready"
