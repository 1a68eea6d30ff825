#!/usr/bin/env bash
# Prerequisites of the Patroni suites (test/patroni): Debian's `patroni` and `etcd-server`.
# Installs them with apt when missing and root, and leaves no system service running (the
# packages' own etcd on 2379 or patroni service would collide with the tests' own instances).
# Not root and missing: fails loudly — the suites never skip.
set -euo pipefail

say() { printf '\033[1m[patroni-prereqs]\033[0m %s\n' "$*"; }
fail() { printf '[patroni-prereqs] ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/apt-services.sh
. "$(dirname "$0")/apt-services.sh"

missing() { for p in patroni patronictl etcd; do command -v "$p" >/dev/null 2>&1 || return 0; done; return 1; }

if missing; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing patroni and etcd-server (apt-get)"
    apt_install_quiet patroni etcd-server etcd-client
    missing && fail "patroni/etcd-server installed but patroni, patronictl or etcd is still not on PATH"
  else
    fail "Patroni and etcd are missing. Install them (Debian/Ubuntu: sudo apt-get install -y patroni etcd-server) — the Patroni suites (test/patroni) need them."
  fi
fi

# Whatever installed them: no system-wide etcd or patroni left running or enabled.
stop_services etcd patroni
