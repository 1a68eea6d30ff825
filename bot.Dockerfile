# clusterbot itself, for the compose profile `bot`: runs inside postgresql-network, reaches the nodes
# by service name and acts on their containers through the mounted Docker socket (RUNTIME=docker).
# NODE_IMAGE can point at any Node.js 20+ image your registry serves.
ARG NODE_IMAGE=node:20-bookworm-slim
FROM ${NODE_IMAGE}
# The same postgres uid/gid as the node image (PG_UID/PG_GID; empty = Debian's default), so the
# backup folders the bot creates in the shared backups volume are writable by the nodes.
ARG PG_UID=
ARG PG_GID=
RUN if [ -n "$PG_UID" ]; then \
      groupadd --system --gid "${PG_GID:-$PG_UID}" postgres \
      && useradd --system --uid "$PG_UID" --gid postgres --home-dir /var/lib/postgresql --no-create-home \
           --shell /bin/bash --comment 'PostgreSQL administrator' postgres; \
    fi
# PostgreSQL 15 programs for the bot's own work (restore-check scratch instances); no cluster.
RUN mkdir -p /etc/postgresql-common \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \
 && apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/clusterbot
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY commands ./commands
COPY postgres ./postgres
RUN npm run build && npm prune --omit=dev
ENV NODE_ENV=production RUNTIME=docker LOG_TO=stderr
ENTRYPOINT ["node", "bin/clusterbot.js"]
CMD ["start"]
