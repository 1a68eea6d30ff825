// The write endpoint on the Docker runtime: the compose service `pgbouncer` (profile endpoint) of
// this project, found by its compose labels. Its target lives in databases.ini on its volume,
// rewritten through `docker exec`; the entrypoint (postgres/docker/pgbouncer-entrypoint.sh) writes the rest.
import type Docker from 'dockerode';
import type { NodeConfig } from '../../config.js';
import type { Services } from '../../core/context.js';
import { execIn } from '../../runtime/docker-engine.js';
import type { DockerRuntime } from '../../runtime/docker.js';
import type { EndpointDriver } from './endpoint-driver.js';

export const ENDPOINT_SERVICE = 'pgbouncer';
const DIR = '/etc/clusterbot/pgbouncer';

export function databasesIni(db: string, target: NodeConfig): string {
  const host = `postgresql-${target.name}`;
  return `${db} = host=${host} port=5432 dbname=${db}\npostgres = host=${host} port=5432 dbname=postgres\n* = host=${host} port=5432\n`;
}

export function dockerDriver(s: Pick<Services, 'config' | 'runtime'>): EndpointDriver {
  const docker = (s.runtime as DockerRuntime).docker;
  const find = async (): Promise<{ c: Docker.Container; running: boolean } | null> => {
    const found = await docker.listContainers({
      all: true,
      filters: { label: [`com.docker.compose.project=${s.config.COMPOSE_PROJECT_NAME}`, `com.docker.compose.service=${ENDPOINT_SERVICE}`] },
    });
    return found[0] ? { c: docker.getContainer(found[0].Id), running: found[0].State === 'running' } : null;
  };
  const must = async () => {
    const f = await find();
    if (!f) throw new Error(`no ${ENDPOINT_SERVICE} container in project ${s.config.COMPOSE_PROJECT_NAME} — docker-compose --profile endpoint up -d ${ENDPOINT_SERVICE}`);
    return f;
  };
  return {
    present: async () => (await find()) !== null,
    running: async () => (await find())?.running ?? false,
    async target() {
      const f = await find();
      if (!f?.running) return null;
      const r = await execIn(docker, f.c, ['cat', `${DIR}/databases.ini`], { timeoutMs: 5000 });
      return /host=postgresql-(\S+)/.exec(r.stdout)?.[1] ?? null;
    },
    async writeTarget(target) {
      const f = await must();
      if (!f.running) throw new Error(`the ${ENDPOINT_SERVICE} container is stopped`);
      const r = await execIn(docker, f.c, ['sh', '-c', `cat > ${DIR}/databases.ini.tmp && mv ${DIR}/databases.ini.tmp ${DIR}/databases.ini`], {
        stdin: databasesIni(s.config.PG_DATABASE, target),
        timeoutMs: 10_000,
      });
      if (r.code !== 0) throw new Error(`could not write ${DIR}/databases.ini: ${r.stderr.trim()}`);
    },
    async start() {
      const f = await must();
      if (!f.running) await f.c.start();
      return f.running ? `${ENDPOINT_SERVICE} container running` : `${ENDPOINT_SERVICE} container started`;
    },
    async stop() {
      const f = await find();
      if (!f?.running) return false;
      await f.c.stop();
      return true;
    },
  };
}
