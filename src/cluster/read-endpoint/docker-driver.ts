// The read endpoint on the Docker runtime: the compose service `haproxy` (profiles endpoint and
// read-endpoint) of this project, found by its compose labels. Its configuration lives on its volume,
// rewritten through `docker exec` (checked with haproxy -c first); SIGUSR2 to the container's PID 1,
// HAProxy's master, reloads it (postgres/docker/haproxy-entrypoint.sh).
import type Docker from 'dockerode';
import type { Services } from '../../core/context.js';
import { execIn } from '../../runtime/docker-engine.js';
import type { DockerRuntime } from '../../runtime/docker.js';
import type { ReadEndpointDriver } from './endpoint-driver.js';

export const READ_ENDPOINT_SERVICE = 'haproxy';
const CFG = '/etc/clusterbot/haproxy/haproxy.cfg';
const MASTER = '/run/haproxy-master.sock';

export function dockerReadDriver(s: Pick<Services, 'config' | 'runtime'>): ReadEndpointDriver {
  const docker = (s.runtime as DockerRuntime).docker;
  const find = async (): Promise<{ c: Docker.Container; running: boolean } | null> => {
    const found = await docker.listContainers({
      all: true,
      filters: { label: [`com.docker.compose.project=${s.config.COMPOSE_PROJECT_NAME}`, `com.docker.compose.service=${READ_ENDPOINT_SERVICE}`] },
    });
    return found[0] ? { c: docker.getContainer(found[0].Id), running: found[0].State === 'running' } : null;
  };
  const missing = () => new Error(`no ${READ_ENDPOINT_SERVICE} container in project ${s.config.COMPOSE_PROJECT_NAME} — docker-compose --profile endpoint up -d ${READ_ENDPOINT_SERVICE}`);
  const must = async () => {
    const f = await find();
    if (!f) throw missing();
    if (!f.running) throw new Error(`the ${READ_ENDPOINT_SERVICE} container is stopped — /cluster up starts it`);
    return f;
  };
  return {
    present: async () => (await find()) !== null,
    running: async () => (await find())?.running ?? false,
    async config() {
      const f = await find();
      if (!f?.running) return null;
      const r = await execIn(docker, f.c, ['cat', CFG], { user: 'root', timeoutMs: 5000 });
      return r.code === 0 ? r.stdout : null;
    },
    async write(text) {
      const f = await must();
      const r = await execIn(docker, f.c, ['sh', '-c', `cat > ${CFG}.tmp && haproxy -c -q -f ${CFG}.tmp && mv ${CFG}.tmp ${CFG}`], { user: 'root', stdin: text, timeoutMs: 10_000 });
      if (r.code !== 0) throw new Error(`HAProxy refuses the new configuration: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`);
    },
    async showProc() {
      const f = await must();
      // The image has perl (PostgreSQL's tools need it) and no socat: perl speaks to the master's socket.
      const perl = `use IO::Socket::UNIX; my $s = IO::Socket::UNIX->new(Peer => '${MASTER}') or die "no master CLI: $!\\n"; print $s "show proc\\n"; shutdown($s, 1); print while <$s>;`;
      const r = await execIn(docker, f.c, ['perl', '-e', perl], { user: 'root', timeoutMs: 5000 });
      if (r.code !== 0) throw new Error(`HAProxy's master CLI: ${r.stderr.trim()}`);
      return r.stdout;
    },
    async reload() {
      await (await must()).c.kill({ signal: 'SIGUSR2' });
    },
    async start() {
      const f = await find();
      if (!f) throw missing();
      if (!f.running) await f.c.start();
      return f.running ? `${READ_ENDPOINT_SERVICE} container running` : `${READ_ENDPOINT_SERVICE} container started`;
    },
    async stop() {
      const f = await find();
      if (!f?.running) return false;
      await f.c.stop();
      return true;
    },
    bind: '0.0.0.0:6433',
    server: (name) => ({ name, host: `postgresql-${name}`, port: 5432 }),
    dockerDns: true,
  };
}
