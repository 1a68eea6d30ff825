# clusterbot itself, for the compose profile `bot`: runs inside postgresql-network, reaches the nodes
# by service name and acts on their containers through the mounted Docker socket (RUNTIME=docker).
# Builds without pulling anything: FROM the same debian:bookworm-slim the node image uses (pulled,
# or built with debootstrap by scripts/docker-prereqs.sh), and the Node.js runtime and the app come
# from the build context, prepared by that script in .docker-bot/ (the host's node binary, the
# host-built dist/ and a production node_modules) — no npm install against a registry in the build.
#   bash scripts/docker-prereqs.sh        prepares .docker-bot/ and builds this image (BOT_IMAGE)
FROM debian:bookworm-slim

# The same first layers as postgres/Dockerfile (same base, instructions and build args), so the
# engine reuses the node image's layers: PostgreSQL 15 programs for the bot's own work
# (restore-check scratch instances) and the same postgres uid/gid, so the backup folders the bot
# creates in the shared backups volume are writable by the nodes.
ENV DEBIAN_FRONTEND=noninteractive
ARG PG_UID=
ARG PG_GID=
RUN if [ -n "$PG_UID" ]; then \
      groupadd --system --gid "${PG_GID:-$PG_UID}" postgres \
      && useradd --system --uid "$PG_UID" --gid postgres --home-dir /var/lib/postgresql --no-create-home \
           --shell /bin/bash --comment 'PostgreSQL administrator' postgres; \
    fi
RUN mkdir -p /etc/postgresql-common \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \
 && apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 openssl pgbackrest \
 && rm -rf /var/lib/apt/lists/* \
 && command -v setpriv >/dev/null \
 && mkdir -p /var/run/postgresql /backups \
 && chown postgres:postgres /var/run/postgresql /backups

# Node.js 20 (the host's binary; it needs only glibc and libstdc++, both in the base) and the app.
COPY .docker-bot/node /usr/local/bin/node
COPY .docker-bot/app /opt/clusterbot
RUN chmod 0755 /usr/local/bin/node /opt/clusterbot/bin/clusterbot.js \
 && ln -s /opt/clusterbot/bin/clusterbot.js /usr/local/bin/clusterbot \
 && node --version \
 && mkdir -p /var/lib/clusterbot /fence

WORKDIR /opt/clusterbot
ENV NODE_ENV=production RUNTIME=docker LOG_TO=stderr CLUSTERBOT_HOME=/var/lib/clusterbot \
    PATH=/usr/lib/postgresql/15/bin:$PATH
ENTRYPOINT ["node", "/opt/clusterbot/bin/clusterbot.js"]
CMD ["start"]
