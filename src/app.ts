// The composition root, wiring only: config → logger → runtime → pools → cluster → backups, monitor
// → router (→ adapters). It builds the whole typed object graph once; nothing is added to it later.
import { commands } from '../commands/index.js';
import type { Config } from './config.js';
import { Audit } from './core/audit.js';
import type { AppServices, CommandContext } from './core/command.js';
import type { Services } from './core/context.js';
import { createLogger, type Logger } from './core/logger.js';
import { PendingActions } from './core/pending.js';
import { makeHomePrivate } from './core/private-files.js';
import { Router } from './core/router.js';
import { SecretMasker } from './core/secrets.js';
import { mirrorAudit } from './cluster/audit-mirror.js';
import { NodePools } from './db/pools.js';
import { UserError } from './errors.js';
import { LocalRuntime } from './runtime/local.js';
import { postgresGroup } from './runtime/process.js';
import type { Runtime } from './runtime/runtime.js';
import { Notifier } from './chat/notifier.js';
import { installMonitorView } from './monitor/index.js';
import { MonitorControl } from './monitor/control.js';
import { HttpServer } from './http/server.js';
import { createBackups } from './backup/install.js';
import type { ClusterBackend } from './backend/backend.js';
import { NativeBackend } from './backend/native.js';
import { PatroniBackend } from './backend/patroni.js';
import { installHaStatus, installWriteEndpointStatus } from './cluster/ha-status.js';
import { installTlsStatus } from './cluster/tls-status.js';

export interface App {
  services: AppServices;
  router: Router;
  notifier: Notifier;
  /** The one HTTP port (HTTP_PORT): Slack's endpoint, /metrics, /healthz. Listens only if routes exist. */
  http: HttpServer;
  close(): Promise<void>;
}

export interface AppOptions {
  log?: Logger;
  runtime?: Runtime;
}

async function createRuntime(config: Config, log: Logger): Promise<Runtime> {
  if (config.RUNTIME === 'local') return new LocalRuntime(config, log);
  // Loaded only when asked for: local users never load dockerode.
  const { DockerRuntime } = await import('./runtime/docker.js');
  return new DockerRuntime(config, log);
}

/** The backend CLUSTER_BACKEND names, over the shared services (Patroni fails fast without PATRONI_URLS). */
function createBackend(config: Config, shared: Services): ClusterBackend<CommandContext> {
  return config.CLUSTER_BACKEND === 'patroni' ? new PatroniBackend(shared) : new NativeBackend(shared);
}

export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const masker = new SecretMasker(config.secrets);
  const log = opts.log ?? createLogger(config, masker);
  makeHomePrivate(config.home, postgresGroup(), log);
  const runtime = opts.runtime ?? (await createRuntime(config, log));
  const pools = new NodePools(config, log);
  const audit = new Audit(`${config.home}/audit.jsonl`, masker, log);
  const shared: Services = {
    config,
    log,
    masker,
    runtime,
    pools,
    audit,
    snapshot: () => backend.snapshot(),
    isFenced: (node) => runtime.isFenced(node),
    node(name) {
      const n = config.nodes.find((x) => x.name === name);
      if (!n) throw new UserError(`unknown node "${name}"`, `nodes are: ${config.nodes.map((x) => x.name).join(', ')}`, 'unknown_node');
      return n;
    },
    statusContributors: [],
    patroni: { client: null, leaderChange: null, memberOp: null },
  };
  // One cluster, one backend object: a second cluster would be a second backend built here.
  const backend = createBackend(config, shared);
  const notifier = new Notifier(log, masker);
  const backups = createBackups(shared, notifier);
  // One object: the parts built on `shared` see backups (the monitor reads services.backups).
  const services: AppServices = Object.assign(shared, {
    backend,
    commands,
    pending: new PendingActions<CommandContext>(config.PENDING_ACTION_TTL_SECONDS),
    backups: backups.service,
    backupScheduler: backups.scheduler,
    monitor: new MonitorControl(shared, notifier, backend.monitoring),
  });
  audit.setMirror((entries) => mirrorAudit(services, entries));
  installMonitorView(services);
  if (backend.name === 'native') installHaStatus(services);
  else installWriteEndpointStatus(services);
  services.statusContributors.push(backups.status);
  installTlsStatus(services);
  const router = new Router(services, commands);
  const http = new HttpServer(log);
  return {
    services,
    router,
    notifier,
    http,
    async close() {
      await services.monitor.stop();
      await http.close();
      await backups.scheduler.stop();
      await notifier.stop();
      // The audit mirror gets a moment to reach the primary; what it misses is replayed later.
      await Promise.race([audit.close(), new Promise((r) => setTimeout(r, 3000).unref())]);
      await pools.close();
      await runtime.close();
      log.flush?.();
    },
  };
}
