#!/bin/sh
# The cluster's small certificate authority, with the openssl CLI (no crypto of our own). Used by the
# bot (local runtime, /cluster tls rotate), the node image's entrypoint and the Patroni harness.
#   tls.sh ca <dir>                                   ca.key (0600) + ca.crt, once (concurrent callers wait)
#   tls.sh server <dir> <name> <days> <sans> [owner]  <name>.key (0600, owned by owner) + <name>.crt signed
#                                                     by the CA, a new random serial; <sans>: DNS:a,IP:b
#   tls.sh client <dir> <name> <days> [owner]         <name>.key + <name>.crt with CN=<name> for client
#                                                     authentication (pgBackRest's TLS client); issued once,
#                                                     again only when it expires within 30 days (concurrent callers wait)
#   tls.sh serial <cert>                              the certificate's serial (hex)
# Files are replaced by rename, so a server reloading meanwhile reads the old pair or the new one.
set -eu

cmd=${1:-}; dir=${2:?usage: tls.sh ca|server <dir> ...}
CA_DAYS=${TLS_CA_DAYS:-3650}

ca() {
  mkdir -p "$dir"
  # One CA even when three node containers start at once on a shared folder.
  exec 9>"$dir/.ca.lock"
  flock 9
  if [ -s "$dir/ca.crt" ] && [ -s "$dir/ca.key" ]; then return 0; fi
  umask 077
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/ca.key.tmp" 2>/dev/null
  openssl req -x509 -new -key "$dir/ca.key.tmp" -sha256 -days "$CA_DAYS" -subj "/CN=clusterbot cluster CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca.crt.tmp"
  chmod 0644 "$dir/ca.crt.tmp"
  mv "$dir/ca.key.tmp" "$dir/ca.key"
  mv "$dir/ca.crt.tmp" "$dir/ca.crt"
}

server() {
  name=${3:?name}; days=${4:?days}; sans=${5:?sans}; owner=${6:-}
  issue "$name" "$days" "$owner" "subjectAltName=$sans" serverAuth
}

# One client certificate for the cluster, shared by every node: issued under a lock by the first caller.
client() {
  name=${3:?name}; days=${4:?days}; owner=${5:-}
  [ -s "$dir/ca.key" ] || ca
  exec 8>"$dir/.client.lock"
  flock 8
  if [ -s "$dir/$name.key" ] && [ -s "$dir/$name.crt" ] && openssl x509 -checkend 2592000 -noout -in "$dir/$name.crt" >/dev/null; then return 0; fi
  issue "$name" "$days" "$owner" "" clientAuth
}

issue() { # <name> <days> <owner> <subjectAltName line or empty> <extendedKeyUsage>
  name=$1; days=$2; owner=$3
  [ -s "$dir/ca.key" ] || ca
  tmp=$(mktemp -d "$dir/.issue.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  umask 077
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/key" 2>/dev/null
  openssl req -new -key "$tmp/key" -subj "/CN=$name" -out "$tmp/csr"
  { [ -z "$4" ] || printf '%s\n' "$4"
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n' "$5"; } > "$tmp/ext"
  # A random 159-bit serial: every rotation shows a new one.
  openssl x509 -req -in "$tmp/csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -set_serial "0x$(openssl rand -hex 19 | sed 's/^./7/')" \
    -days "$days" -sha256 -extfile "$tmp/ext" -out "$tmp/crt" 2>/dev/null
  chmod 0600 "$tmp/key"; chmod 0644 "$tmp/crt"
  if [ -n "$owner" ]; then chown "$owner" "$tmp/key" "$tmp/crt"; fi
  mv "$tmp/key" "$dir/$name.key"
  mv "$tmp/crt" "$dir/$name.crt"
}

case "$cmd" in
  ca) ca ;;
  server) server "$@" ;;
  client) client "$@" ;;
  serial) openssl x509 -in "$dir" -noout -serial | sed 's/^serial=//' ;;
  *) echo "tls.sh: unknown command ${cmd:-(none)}" >&2; exit 2 ;;
esac
