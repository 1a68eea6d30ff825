// The docker runtime: every node is a container of the compose project (service postgresql-<name>),
// found by its compose labels, or created here with the same names, network, volumes and image
// when compose was not used (`/cluster up`). PostgreSQL programs run inside the node's container,
// or — when it is stopped — in a one-off container that shares its volumes.
import Docker from 'dockerode';
import type { Config, NodeConfig } from '../config.js';
import type { Logger } from '../core/logger.js';
import { UserError } from '../errors.js';
import { demux, execIn, isNotFound, isNotModified, runHelper, waitPgReady } from './docker-engine.js';
import { DockerEvents, watchDie } from './docker-events.js';
import { DockerFence, type Killed } from './docker-fence.js';
import { BACKUPS, DockerProvisioner, serviceOf, VOLUME } from './docker-provision.js';
import { verifyFullConninfo } from '../db/tls.js';
import { VolumeFence } from './docker-volume-fence.js';
import { PG_TOOLS, RuntimeListeners, type ExecOptions, type ExecResult, type PgTool, type Runtime, type RuntimeEvent, type StopMode, type FenceStep, type ForceStopResult } from './runtime.js';

const READY_TIMEOUT_MS = 300_000;
/** How long the engine may take to report a SIGKILLed container as exited. */
const KILL_WAIT_MS = 15_000;

export { serviceOf };

export class DockerRuntime implements Runtime {
  readonly kind = 'docker' as const;
  readonly docker: Docker;
  private readonly project: string;
  private readonly listeners: RuntimeListeners;
  private events: DockerEvents | null = null;
  private readonly expectedExit = new Set<string>();
  private readonly volumeFence: VolumeFence;
  private readonly fencing: DockerFence;
  private readonly provision: DockerProvisioner;
  private readonly lookups = new Map<string, Promise<Docker.Container | null>>();
  /** Node → the container the fence just killed: its state before, and the kill's answer (after the engine's teardown). */
  private readonly killedByFence = new Map<string, Killed>();

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    docker?: Docker,
  ) {
    // dockerode honours DOCKER_HOST (and DOCKER_TLS_VERIFY/DOCKER_CERT_PATH); else the local socket.
    this.docker = docker ?? new Docker();
    this.listeners = new RuntimeListeners(log);
    this.project = config.COMPOSE_PROJECT_NAME;
    this.provision = new DockerProvisioner(this.docker, config, this.project);
    this.volumeFence = new VolumeFence(this.docker, () => this.config.DOCKER_IMAGE);
    this.fencing = new DockerFence(config.fenceDir, {
      container: (node) => this.container(node),
      nodeTool: async (node, args) => void (await this.must(node, args[0], this.nodeTool(node, args))),
      dataVolume: async (node, create) => {
        if (!create) return this.volumeName(`${serviceOf(node)}-data`);
        await this.prepare();
        await this.provision.ensureImage();
        return this.provision.ensureVolume(`${serviceOf(node)}-data`);
      },
      volumeFence: this.volumeFence,
      log,
    });
  }

  get networkName(): string {
    return this.provision.networkName;
  }

  volumeName(what: string): string {
    return this.provision.volumeName(what);
  }

  async prepare(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (e) {
      throw new UserError(
        `no Docker engine answers (${(e as Error).message.split('\n')[0]})`,
        'start Docker (or run `sudo bash scripts/docker-prereqs.sh`, which installs and starts one), or set RUNTIME=local',
        'prerequisite',
      );
    }
  }

  /** The node's container (compose-made or ours), or null. Concurrent asks for one node share one lookup. */
  container(node: NodeConfig): Promise<Docker.Container | null> {
    let p = this.lookups.get(node.name);
    if (!p) {
      p = this.findContainer(node).finally(() => this.lookups.delete(node.name));
      this.lookups.set(node.name, p);
    }
    return p;
  }

  private async findContainer(node: NodeConfig): Promise<Docker.Container | null> {
    const found = await this.docker.listContainers({
      all: true,
      filters: { label: [`com.docker.compose.project=${this.project}`, `com.docker.compose.service=${serviceOf(node)}`] },
    });
    const mine = found.filter((c) => c.Labels['clusterbot.helper'] !== 'true');
    return mine.length ? this.docker.getContainer(mine[0].Id) : null;
  }

  private async mustContainer(node: NodeConfig): Promise<Docker.Container> {
    const c = await this.container(node);
    if (!c) {
      throw new UserError(
        `node ${node.name} has no container (service ${serviceOf(node)} in project ${this.project})`,
        'run /cluster up (or docker-compose up -d) to create it',
        'precondition',
      );
    }
    return c;
  }

  async isProvisioned(node: NodeConfig): Promise<boolean> {
    return (await this.container(node)) !== null;
  }

  async isRunning(node: NodeConfig): Promise<boolean> {
    const c = await this.container(node);
    if (!c) return false;
    const info = await c.inspect();
    return Boolean(info.State.Running) && !info.State.Restarting;
  }

  // --- creating nodes (when compose was not used) -------------------------------------------

  /** The bot's backup folder is /backups in the nodes: paths under it are translated for exec. */
  private inNode(arg: string): string {
    const dir = this.config.backupDir;
    if (dir === BACKUPS || !arg.startsWith(dir)) return arg;
    return arg === dir ? BACKUPS : arg.startsWith(`${dir}/`) ? `${BACKUPS}${arg.slice(dir.length)}` : arg;
  }

  private async createNode(node: NodeConfig, env: Record<string, string>, timeoutMs = READY_TIMEOUT_MS): Promise<Docker.Container> {
    await this.prepare();
    if (await this.container(node)) {
      throw new UserError(`node ${node.name} already has a container`, 'use /cluster start, or destroy it first', 'precondition');
    }
    const container = await this.provision.createContainer(node, env, (data) => this.volumeFence.forget(data));
    // A replica clones itself before it listens: a big database needs the caller's timeout.
    await this.waitReady(node, container, timeoutMs);
    return container;
  }

  async initPrimary(node: NodeConfig): Promise<void> {
    await this.createNode(node, { CLUSTERBOT_ROLE: 'primary' });
  }

  async cloneReplica(node: NodeConfig, source: NodeConfig, opts: ExecOptions = {}): Promise<void> {
    opts.onOutput?.(`creating ${serviceOf(node)}: pg_basebackup -R from ${serviceOf(source)}\n`);
    await this.createNode(node, { CLUSTERBOT_ROLE: 'replica', CLUSTERBOT_SOURCE_HOST: serviceOf(source) }, opts.timeoutMs ?? 3600_000);
  }

  /** Until PostgreSQL accepts connections inside the container (after any first-start init). */
  private waitReady(node: NodeConfig, container: Docker.Container, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    return waitPgReady(this.docker, node.name, container, timeoutMs, async () => (await this.logs(node, 5)).trim().split('\n').slice(-2).join(' | '));
  }

  // --- lifecycle -----------------------------------------------------------------------------

  async start(node: NodeConfig): Promise<void> {
    await this.prepare();
    await this.fencing.settled(node);
    const c = await this.mustContainer(node);
    const info = await c.inspect();
    if (!info.State.Running) {
      this.expectedExit.delete(node.name);
      await c.start().catch((e: unknown) => {
        if (!isNotModified(e)) throw e;
      });
    }
    await this.waitReady(node, c);
  }

  async stop(node: NodeConfig, mode: StopMode = 'fast'): Promise<void> {
    const c = await this.container(node);
    if (!c || !(await this.isRunning(node))) return;
    this.expectedExit.add(node.name);
    // docker stop/kill mark the container as stopped by hand: the restart policy leaves it down.
    if (mode === 'fast') {
      await c.stop({ t: 60 }).catch((e: unknown) => {
        if (!isNotModified(e)) throw e;
      });
      return;
    }
    await c.kill({ signal: mode === 'smart' ? 'SIGTERM' : 'SIGQUIT' });
    await c.wait();
  }

  async frozen(node: NodeConfig): Promise<string | null> {
    const c = await this.container(node);
    if (!c) return null;
    const info = await c.inspect();
    if (info.State.Paused) return 'its container is paused';
    // `docker network disconnect` from its only network: nobody reaches it, not even through its published port.
    if (info.State.Running && Object.keys(info.NetworkSettings?.Networks ?? {}).length === 0) return 'its container is cut off from every network';
    return null;
  }

  async forceStop(node: NodeConfig, opts: { answers: boolean }): Promise<ForceStopResult> {
    const c = await this.container(node);
    if (!c) return { steps: [], proof: 'it has no container' };
    const steps: FenceStep[] = [];
    const live = (i: Docker.ContainerInspectInfo) => i.State.Running || i.State.Restarting || i.State.Paused;
    let now = await c.inspect();
    if (live(now)) this.expectedExit.add(node.name);
    // docker stop and docker kill mark the container as stopped by hand: its restart policy leaves it down.
    if (opts.answers && live(now) && !now.State.Paused) {
      const seconds = Math.ceil(this.config.FENCE_STOP_MS / 1000);
      const t = performance.now();
      await c.stop({ t: seconds }).catch((e: unknown) => {
        if (!isNotModified(e)) throw e;
      });
      now = await c.inspect();
      const ms = Math.round(performance.now() - t);
      steps.push({ how: now.State.ExitCode === 137 ? `fast stop (no exit within ${seconds} s), then the engine's SIGKILL` : 'fast stop', ms });
    }
    if (live(now)) {
      const t = performance.now();
      const code = await this.killUntilDead(node, c, now);
      steps.push({ how: 'docker kill', ms: Math.round(performance.now() - t) });
      if (code !== undefined) return { steps, proof: `its container died (the engine's die event, exit ${code ?? '?'}: no process of it is left)` };
    }
    const after = await c.inspect();
    if (live(after)) {
      throw new Error(`${node.name} is not fenced: its container is still ${after.State.Status} after docker kill — remove it by hand (docker rm -f ${after.Name.replace(/^\//, '')}), then confirm again`);
    }
    return { steps, proof: `its container is not running (${after.State.Status}, exit ${after.State.ExitCode})` };
  }

  /**
   * SIGKILL through the engine (it thaws a paused container to deliver it; works on one cut off its
   * network), done at the container's `die` event: its init, hence its whole pid namespace, is gone.
   * `docker kill` itself answers only after the engine's network and mount teardown, 0.2–1 s later;
   * that teardown goes on meanwhile (the fence waits for it before it touches the container again).
   * Returns the exit code from the die event (null: none given), or undefined when the kill answered
   * first (the caller then inspects).
   */
  private async killUntilDead(node: NodeConfig, c: Docker.Container, info: Docker.ContainerInspectInfo): Promise<number | null | undefined> {
    const watch = await watchDie(this.docker, c.id, info.State.StartedAt).catch(() => null);
    const killed: Promise<'killed' | Error> = c.kill({ signal: 'SIGKILL' }).then(
      () => 'killed' as const,
      (e: unknown) => (isNotModified(e) || (e as { statusCode?: number }).statusCode === 409 ? ('killed' as const) : (e as Error)),
    );
    this.killedByFence.set(node.name, { id: c.id, info, teardown: killed.then(() => undefined) });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), KILL_WAIT_MS)));
    try {
      const first = await Promise.race([watch?.died ?? new Promise<never>(() => undefined), killed, late]);
      if (first instanceof Error) throw first;
      if (first === 'late') throw new Error(`${node.name} is not fenced: no exit of its container within ${KILL_WAIT_MS / 1000} s of docker kill — remove it by hand (docker rm -f ${info.Name.replace(/^\//, '')}), then confirm again`);
      if (first === 'killed') return undefined;
      return first;
    } finally {
      clearTimeout(timer);
      watch?.close();
    }
  }

  async kill(node: NodeConfig): Promise<void> {
    const c = await this.container(node);
    if (!c || !(await this.isRunning(node))) return;
    await c.kill({ signal: 'SIGKILL' });
    await c.wait();
  }

  async restart(node: NodeConfig): Promise<void> {
    await this.stop(node, 'fast');
    await this.start(node);
  }

  async destroy(node: NodeConfig): Promise<void> {
    const c = await this.container(node);
    if (!c) return;
    const info = await c.inspect();
    this.expectedExit.add(node.name);
    await c.remove({ force: true });
    const data = info.Mounts.find((m) => m.Destination === VOLUME && m.Type === 'volume');
    if (data?.Name) await this.docker.getVolume(data.Name).remove().catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
  }

  // --- programs --------------------------------------------------------------------------------

  private async network(c: Docker.Container): Promise<string> {
    const info = await c.inspect();
    return Object.keys(info.NetworkSettings.Networks ?? {})[0] ?? 'none';
  }

  /** A command as root (node-tool.sh) in the running container, or in a helper on its volumes. */
  private async nodeTool(node: NodeConfig, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const c = await this.mustContainer(node);
    const cmd = ['/usr/local/bin/node-tool.sh', ...args];
    if (await this.isRunning(node)) return execIn(this.docker, c, cmd, { ...opts, user: 'root' });
    return runHelper(this.docker, { image: await this.imageOf(c), volumesFrom: c.id, network: await this.network(c), user: 'root', cmd }, opts);
  }

  private async imageOf(c: Docker.Container): Promise<string> {
    return (await c.inspect()).Config.Image || this.config.DOCKER_IMAGE;
  }

  async exec(node: NodeConfig, tool: PgTool, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (!PG_TOOLS.includes(tool)) throw new Error(`refusing to run ${tool}`);
    const c = await this.mustContainer(node);
    const env = ['PGCONNECT_TIMEOUT=5'];
    const cmd = [tool, ...args.map((a) => this.inNode(a))];
    if (await this.isRunning(node)) return execIn(this.docker, c, cmd, { ...opts, env });
    return runHelper(this.docker, { image: await this.imageOf(c), volumesFrom: c.id, network: await this.network(c), cmd }, opts);
  }

  private async must(node: NodeConfig, what: string, r: Promise<ExecResult>): Promise<ExecResult> {
    const res = await r;
    if (res.code !== 0) {
      const detail = (res.stderr || res.stdout).trim().split('\n').slice(-3).join(' | ');
      throw new Error(`${what} failed on ${node.name} (exit ${res.code}): ${detail}`);
    }
    return res;
  }

  async rewind(node: NodeConfig, source: NodeConfig, opts: ExecOptions = {}): Promise<void> {
    if (await this.isRunning(node)) {
      throw new UserError(`${node.name} is running; pg_rewind needs it stopped`, `stop it first: /cluster stop ${node.name}`, 'precondition');
    }
    await this.must(node, 'pg_rewind', this.nodeTool(node, ['rewind', serviceOf(source), node.name, this.config.POSTGRES_ADMIN_USER], opts));
  }

  /** How `replica` reaches `source` for streaming (inside the container network). */
  replicationConninfo(source: NodeConfig, replica: NodeConfig): string {
    return `host=${serviceOf(source)} port=5432 user=replicator passfile=${VOLUME}/pgpass application_name=${replica.name} ${verifyFullConninfo(`${VOLUME}/ca.crt`)}`;
  }

  /** node-tool.sh tls-renew: a new certificate from the CA in /tls, installed on the volume. */
  async renewCertificate(node: NodeConfig): Promise<void> {
    await this.must(node, 'tls-renew', this.nodeTool(node, ['tls-renew', node.name, String(this.config.TLS_CERT_DAYS)]));
  }

  async logs(node: NodeConfig, lines: number): Promise<string> {
    const c = await this.mustContainer(node);
    const buf = (await c.logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
    const { stdout, stderr } = demux(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)));
    // Both streams carry PostgreSQL's log (stderr) and the entrypoint's lines; keep their order roughly.
    const all = `${stdout}${stderr}`.split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines).join('\n');
  }

  // --- fencing (docker-fence.ts) ----------------------------------------------------------------

  fence(node: NodeConfig, reason: string): Promise<string> {
    const killed = this.killedByFence.get(node.name);
    this.killedByFence.delete(node.name);
    return this.fencing.fence(node, reason, killed);
  }

  unfence(node: NodeConfig): Promise<void> {
    return this.fencing.unfence(node);
  }

  isFenced(node: NodeConfig): Promise<boolean> {
    return this.fencing.isFenced(node);
  }

  // --- events ------------------------------------------------------------------------------------

  watch(listener: (e: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.events) {
      const byService = new Map(this.config.nodes.map((n) => [serviceOf(n), n.name]));
      this.events = new DockerEvents(this.docker, this.project, (s) => byService.get(s) ?? null, (e) => this.emit(e), this.log);
      void this.events.open();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.events) {
        this.events.close();
        this.events = null;
      }
    };
  }

  private emit(e: RuntimeEvent): void {
    const event = e.type === 'exit' ? { ...e, expected: this.expectedExit.delete(e.node) } : e;
    this.listeners.emit(event);
  }

  async close(): Promise<void> {
    await this.fencing.settledAll();
    this.events?.close();
    this.events = null;
    this.listeners.clear();
  }
}
