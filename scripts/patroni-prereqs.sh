#!/usr/bin/env bash
# Prerequisites of the Patroni suites (test/patroni): Debian's `patroni` and `etcd-server`.
# Installs them with apt when missing and root, and leaves no system service running (the
# packages' own etcd on 2379 or patroni service would collide with the tests' own instances).
# Not root and missing: fails loudly — the suites never skip.
set -euo pipefail

say() { printf '\033[1m[patroni-prereqs]\033[0m %s\n' "$*"; }
fail() { printf '[patroni-prereqs] ERROR: %s\n' "$*" >&2; exit 1; }

missing() { for p in patroni patronictl etcd; do command -v "$p" >/dev/null 2>&1 || return 0; done; return 1; }

if missing; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing patroni and etcd-server (apt-get)"
    # Keep package scripts from starting services during the install (policy-rc.d 101 = "not allowed").
    created_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && created_policy=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patroni etcd-server etcd-client >/dev/null || { [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d; fail "apt-get install patroni etcd-server failed"; }
    [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    missing && fail "patroni/etcd-server installed but patroni, patronictl or etcd is still not on PATH"
  else
    fail "Patroni and etcd are missing. Install them (Debian/Ubuntu: sudo apt-get install -y patroni etcd-server) — the Patroni suites (test/patroni) need them."
  fi
fi

# Whatever installed them: no system-wide etcd or patroni left running or enabled.
if [ "$(id -u)" = 0 ]; then
  for svc in etcd patroni; do
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
      systemctl disable --now "$svc" >/dev/null 2>&1 || true
    elif [ -x "/etc/init.d/$svc" ]; then
      "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
    fi
  done
fi
