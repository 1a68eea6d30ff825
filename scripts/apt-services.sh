# Sourced by the prerequisites scripts that apt-install a daemon the tests run themselves (patroni,
# etcd, prometheus, ...): install it without letting its package start the service, and make sure
# no system-wide instance of it is left running or enabled afterwards. Needs `fail` from the caller.

# apt_install_quiet [apt options] PKG...: apt-get install with package scripts kept from starting services
# (policy-rc.d 101 = "not allowed"; one already there is left as it is).
apt_install_quiet() {
  local created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && created_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
    || { [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d; fail "apt-get install $* failed"; }
  [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  return 0
}

# stop_services SVC...: stopped and disabled (systemd), or stopped (init scripts); root only.
stop_services() {
  [ "$(id -u)" = 0 ] || return 0
  local svc
  for svc in "$@"; do
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
      systemctl disable --now "$svc" >/dev/null 2>&1 || true
    elif [ -x "/etc/init.d/$svc" ]; then
      "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
    fi
  done
}

# install_missing PKGS WHAT WHY: when the caller's `missing` function says something is missing,
# apt-installs PKGS (root) and checks again, or fails with the install line (not root). Needs `say`.
install_missing() {
  local pkgs=$1 what=$2 why=$3
  missing || return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing $pkgs (apt-get)"
    # shellcheck disable=SC2086
    apt_install_quiet --no-install-recommends $pkgs
    missing && fail "$pkgs installed, but $what is still missing"
  else
    fail "$what is missing. Install it (Debian/Ubuntu: sudo apt-get install -y --no-install-recommends $pkgs) — $why"
  fi
  return 0
}
