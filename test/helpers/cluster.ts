// A real local cluster per test file: its own CLUSTERBOT_HOME, free loopback ports, its own
// passwords; stopped (by pid) and deleted afterwards, even when a test failed.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { clusterUp } from '../../src/cluster/provision.js';
import type { Principal, Surface } from '../../src/core/context.js';
import type { Reply } from '../../src/chat/reply.js';
import { LocalRuntime } from '../../src/runtime/local.js';
import { stopWriteEndpoint } from '../../src/cluster/write-endpoint/index.js';
import { stopLocalReadEndpoint } from '../../src/cluster/read-endpoint/index.js';

import { freePort } from '../../src/runtime/ports.js';

export { freePort };

/**
 * The people every test bot knows — tester (terminal admin), alice and bob (ADMINS), olga
 * (OPERATORS), victor (VIEWERS) — plus debug logs to a file and a free HTTP port.
 */
export async function botTestEnv(): Promise<Record<string, string>> {
  return {
    TERMINAL_USER: 'tester',
    ADMINS: 'alice,bob',
    OPERATORS: 'olga',
    VIEWERS: 'victor',
    LOG_TO: 'file',
    LOG_LEVEL: 'debug',
    HTTP_PORT: String(await freePort()),
    // PgBouncer only where a test asks for it (WRITE_ENDPOINT=true and its own WRITE_ENDPOINT_PORT).
    WRITE_ENDPOINT: 'false',
    // HAProxy likewise (READ_ENDPOINT=true and its own READ_ENDPOINT_PORT).
    READ_ENDPOINT: 'false',
  };
}

export interface TestCluster {
  home: string;
  env: Record<string, string>;
  config: Config;
  app: App;
  /** Run "/cluster …" as a principal (default: the terminal admin). */
  run(text: string, who?: Principal, surface?: Partial<Surface>): Promise<Reply>;
  /** Press a button as a principal. */
  press(actionId: string, who?: Principal, surface?: Partial<Surface>): Promise<Reply>;
  admin: Principal;
  /** SQL on a node as the admin user. */
  sql<R extends Record<string, unknown> = Record<string, unknown>>(node: string, text: string, params?: unknown[]): Promise<R[]>;
  /** Stop everything and delete the home folder. */
  destroy(): Promise<void>;
}

export interface TestClusterOptions {
  /** Extra replicas after primary/standby/readonly, or a custom CLUSTER_NODES builder. */
  nodes?: (ports: number[]) => string;
  nodeCount?: number;
  env?: Record<string, string>;
  /** Create the nodes (default true). */
  up?: boolean;
}

export async function startTestCluster(opts: TestClusterOptions = {}): Promise<TestCluster> {
  const home = mkdtempSync(join(tmpdir(), 'clusterbot-test-'));
  chmodSync(home, 0o755);
  const count = opts.nodeCount ?? 3;
  const ports: number[] = [];
  while (ports.length < count) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const nodes = opts.nodes ? opts.nodes(ports) : `primary:${ports[0]},standby:${ports[1]},readonly:${ports[2]}:nofailover`;
  const env: Record<string, string> = {
    CLUSTERBOT_HOME: home,
    CLUSTER_NODES: nodes,
    POSTGRES_ADMIN_PASSWORD: randomBytes(12).toString('hex'),
    POSTGRES_REPLICATOR_PASSWORD: randomBytes(12).toString('hex'),
    ...(await botTestEnv()),
    ...opts.env,
  };
  const config = loadConfig(env);
  const app = await createApp(config);
  const admin: Principal = { id: 'tester', display: 'tester', platform: 'shell' };
  const surface = (s?: Partial<Surface>): Surface => ({ platform: 'shell', channel: 'test', ...s });
  const cluster: TestCluster = {
    home,
    env,
    config,
    app,
    admin,
    run: (text, who = admin, s) => app.router.handle(text, who, surface(s)),
    press: (id, who = admin, s) => app.router.press(id, who, surface(s)),
    async sql(node, text, params = []) {
      const r = await app.services.pools.query(app.services.node(node), text, params);
      return r.rows as never;
    },
    async destroy() {
      const runtime = app.services.runtime;
      await app.close().catch(() => undefined);
      for (const n of config.nodes) {
        if (runtime instanceof LocalRuntime) await runtime.kill(n).catch(() => undefined);
        else await runtime.stop(n, 'immediate').catch(() => undefined);
      }
      await stopWriteEndpoint(config).catch(() => undefined);
      await stopLocalReadEndpoint(config).catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    },
  };
  if (opts.up !== false) {
    try {
      const outcomes = await clusterUp(app.services);
      const failed = outcomes.filter((o) => o.action === 'failed');
      if (failed.length) throw new Error(`test cluster did not come up: ${failed.map((f) => `${f.node}: ${f.error}`).join('; ')}`);
    } catch (e) {
      await cluster.destroy();
      throw e;
    }
  }
  return cluster;
}

export const principal = (id: string, platform: Principal['platform'] = 'shell'): Principal => ({ id, display: id, platform });
