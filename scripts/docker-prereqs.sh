#!/usr/bin/env bash
# What the Docker suite needs, on machines with or without an engine or an image registry:
#   1. a Docker engine that answers (when root and none answers: Debian's docker.io + docker-compose,
#      dockerd started in the background);
#   2. the base image debian:bookworm-slim (pulled, or when no registry is reachable built with
#      debootstrap from the Debian mirror this machine's apt is configured with, and docker-imported);
#   3. clusterbot's PostgreSQL image (rebuilt only when postgres/ changed: the image carries a hash label).
#   4. clusterbot's own image for the compose profile `bot` (BOT_IMAGE; the same, from .docker-bot/).
# Prints how long each step took. Exits non-zero with the next step when something is impossible.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${DOCKER_IMAGE:-clusterbot/postgres:15}
BASE=debian:bookworm-slim
say() { printf '\033[1m[docker-prereqs]\033[0m %s\n' "$*"; }
fail() { printf '[docker-prereqs] ERROR: %s\n' "$*" >&2; exit 1; }
t0=$SECONDS
step() { say "$1 ($((SECONDS - t0)) s)"; t0=$SECONDS; }

engine_up() { docker info >/dev/null 2>&1; }
compose_ok() { command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1; }

# --- 1. engine -------------------------------------------------------------------------------
if ! engine_up || ! compose_ok || ! command -v docker >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    if ! command -v dockerd >/dev/null || ! compose_ok; then
      say "installing Debian's docker.io and docker-compose (apt-get)"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-compose >/dev/null
      step "docker.io installed"
    fi
    if ! engine_up; then
      # A dockerd still starting or shutting down, or a stale pid file from one that died.
      if [ -f /var/run/docker.pid ]; then
        old=$(cat /var/run/docker.pid 2>/dev/null || true)
        for _ in $(seq 1 30); do
          engine_up && break
          { [ -n "$old" ] && kill -0 "$old" 2>/dev/null; } || { rm -f /var/run/docker.pid; break; }
          sleep 1
        done
        if ! engine_up && [ -f /var/run/docker.pid ]; then
          fail "dockerd (pid $old) is running but does not answer at ${DOCKER_HOST:-unix:///var/run/docker.sock}: check DOCKER_HOST and /var/log/clusterbot-dockerd.log"
        fi
      fi
      if ! engine_up; then
        say "starting dockerd in the background (log: /var/log/clusterbot-dockerd.log)"
        setsid nohup dockerd >/var/log/clusterbot-dockerd.log 2>&1 < /dev/null &
        for _ in $(seq 1 60); do engine_up && break; sleep 1; done
        engine_up || fail "dockerd did not come up; see /var/log/clusterbot-dockerd.log"
      fi
      step "dockerd answering"
    fi
  else
    fail "no Docker engine answers (docker info failed). Install Docker and docker-compose (Debian: sudo apt-get install docker.io docker-compose; then sudo dockerd &), or run this script as root to have it done for you."
  fi
fi

# --- 2. base image ---------------------------------------------------------------------------
debian_mirror() {
  # The machine's configured Debian mirror (deb822 .sources first, then sources.list); never hard-coded.
  local uri
  uri=$(awk '/^URIs:/{u=$2} /^Suites:/{ if ($0 ~ /bookworm( |$)/ && u !~ /security/) { print u; exit } }' \
        /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1=="deb" && $3 ~ /^bookworm$/ && $2 !~ /security/ {print $2; exit}' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
  printf '%s' "$uri"
}

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  if timeout 60 docker pull -q "$BASE" >/dev/null 2>&1; then
    step "$BASE pulled"
  else
    mirror=$(debian_mirror)
    [ -n "$mirror" ] || fail "$BASE cannot be pulled and no Debian bookworm mirror is configured in /etc/apt/sources.list(.d). Pull or load $BASE by hand, or configure apt."
    if ! command -v debootstrap >/dev/null; then
      [ "$(id -u)" = 0 ] || fail "$BASE cannot be pulled and debootstrap is missing: sudo apt-get install debootstrap, then run this script again."
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
    fi
    [ "$(id -u)" = 0 ] || fail "$BASE cannot be pulled; building it with debootstrap needs root."
    root=$(mktemp -d /var/tmp/clusterbot-bookworm.XXXXXX)
    trap 'rm -rf "$root"' EXIT
    say "no registry: building $BASE with debootstrap --variant=minbase from the configured mirror"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >/var/tmp/clusterbot-debootstrap.log 2>&1 \
      || fail "debootstrap failed; see /var/tmp/clusterbot-debootstrap.log"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -c . | docker import - "$BASE" >/dev/null
    rm -rf "$root"; trap - EXIT
    step "$BASE built with debootstrap and imported"
  fi
fi

# --- 3. clusterbot's PostgreSQL image ----------------------------------------------------------
# The host's postgres uid/gid, when it has that account: the nodes then write the shared backups
# folder (a bind of a host directory) as the host's postgres (see postgres/Dockerfile).
PG_UID=${POSTGRES_UID:-$(id -u postgres 2>/dev/null || true)}
PG_GID=${POSTGRES_GID:-$(id -g postgres 2>/dev/null || true)}
hash=$( { (cd postgres && find . -type f -print0 | sort -z | xargs -0 sha256sum); echo "uid=$PG_UID gid=$PG_GID"; } | sha256sum | cut -c1-16)
have=$(docker image inspect -f '{{ index .Config.Labels "clusterbot.inputs" }}' "$IMAGE" 2>/dev/null || true)
if [ "$have" != "$hash" ]; then
  say "building $IMAGE from postgres/ (postgres uid ${PG_UID:-default}, gid ${PG_GID:-default})"
  docker build --network host --label "clusterbot.inputs=$hash" --build-arg "PG_UID=$PG_UID" --build-arg "PG_GID=$PG_GID" \
    -t "$IMAGE" postgres >/var/tmp/clusterbot-image-build.log 2>&1 \
    || { tail -20 /var/tmp/clusterbot-image-build.log >&2; fail "building $IMAGE failed (log: /var/tmp/clusterbot-image-build.log)"; }
  step "$IMAGE built"
else
  say "$IMAGE is up to date (inputs $hash)"
fi

# --- 4. clusterbot's own image (the compose profile `bot`) ---------------------------------------
# Built without a registry: bot.Dockerfile starts FROM the same base, and takes this machine's Node.js
# binary, the built dist/ and a production node_modules from .docker-bot/ (prepared here). Rebuilt
# only when its inputs changed (hash label). SKIP_BOT_IMAGE=1 skips it.
BOT_IMAGE=${BOT_IMAGE:-clusterbot/bot:latest}
if [ "${SKIP_BOT_IMAGE:-}" != 1 ]; then
  node_bin=$(command -v node || true)
  [ -n "$node_bin" ] || fail "node is not on PATH: the bot image copies this machine's Node.js 20 (bash scripts/setup.sh)"
  node_bin=$(readlink -f "$node_bin")
  bot_hash=$( {
    find src commands bin postgres -type f -print0 | sort -z | xargs -0 sha256sum
    sha256sum package.json package-lock.json tsconfig.json bot.Dockerfile "$node_bin"
    echo "uid=$PG_UID gid=$PG_GID"
  } | sha256sum | cut -c1-16)
  have=$(docker image inspect -f '{{ index .Config.Labels "clusterbot.inputs" }}' "$BOT_IMAGE" 2>/dev/null || true)
  if [ "$have" != "$bot_hash" ]; then
    say "building $BOT_IMAGE (Node $("$node_bin" --version) from this machine, dist/ and production node_modules)"
    [ -d node_modules ] || fail "node_modules is missing: run bash scripts/setup.sh (npm ci) first"
    npm run --silent build
    stage=.docker-bot
    rm -rf "$stage"
    mkdir -p "$stage/app"
    cp "$node_bin" "$stage/node"
    cp -a package.json package-lock.json bin dist postgres "$stage/app/"
    cp -a node_modules "$stage/app/node_modules"
    # Development packages out, offline: the tree is the one this machine installed.
    (cd "$stage/app" && npm prune --omit=dev --offline --no-audit --no-fund --loglevel=error >/dev/null)
    step "build context prepared in $stage ($(du -sh "$stage" | cut -f1))"
    docker build --network host --label "clusterbot.inputs=$bot_hash" --build-arg "PG_UID=$PG_UID" --build-arg "PG_GID=$PG_GID" \
      -f bot.Dockerfile -t "$BOT_IMAGE" . >/var/tmp/clusterbot-bot-image-build.log 2>&1 \
      || { tail -20 /var/tmp/clusterbot-bot-image-build.log >&2; fail "building $BOT_IMAGE failed (log: /var/tmp/clusterbot-bot-image-build.log)"; }
    rm -rf "$stage"
    step "$BOT_IMAGE built"
  else
    say "$BOT_IMAGE is up to date (inputs $bot_hash)"
  fi
fi
