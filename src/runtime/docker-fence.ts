// Fencing on the docker runtime without starting a container. The bot writes `<node>.FENCED` into
// its fence directory (DOCKER_FENCE_DIR), which every node mounts read-only at /fence (a bind of
// that folder, beside the backups bind) and the node image's entrypoint checks before starting
// PostgreSQL; and `docker update --restart=no` keeps the engine from starting the dead container
// meanwhile. When a node's container does not mount that folder (an older compose file, or a
// mount of another folder), or has no container at all, the marker also goes onto its data volume
// as before (node-tool.sh fence, in a one-off container when it is stopped): slower, as strong.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type Docker from 'dockerode';
import type { NodeConfig } from '../config.js';
import type { Logger } from '../core/logger.js';
import { isNotFound } from './docker-engine.js';
import type { VolumeFence } from './docker-volume-fence.js';

/** Where every node mounts the fence directory (read-only; the bot's service mounts it read-write). */
export const FENCE_MOUNT = '/fence';
export const fenceFileName = (node: string) => `${node}.FENCED`;

interface Marker {
  at: string;
  reason: string;
  /** The restart policy the container had before the fence, restored by unfence. */
  restart?: { Name: string; MaximumRetryCount?: number } | null;
}

/** What the docker runtime lends the fence: its container lookup, node-tool.sh and data volumes. */
export interface FenceHost {
  container(node: NodeConfig): Promise<Docker.Container | null>;
  /** node-tool.sh <args> as root in the node's container (exec, or a one-off container when stopped); throws on failure. */
  nodeTool(node: NodeConfig, args: string[]): Promise<void>;
  /** The node's data volume name; `create` makes it when missing (a node without container). */
  dataVolume(node: NodeConfig, create: boolean): Promise<string>;
  volumeFence: VolumeFence;
  log: Logger;
}

/** A container the fence just killed (docker.ts): its state before the kill, and the kill's answer, which comes after the engine's teardown. */
export interface Killed {
  id: string;
  info: Docker.ContainerInspectInfo;
  teardown: Promise<void>;
}

export class DockerFence {
  /** Container id → does its /fence show the bot's fence directory (checked once through the engine)? */
  private readonly seen = new Map<string, Promise<boolean>>();
  /** Container ids whose /fence was seen to be the bot's fence directory. */
  private readonly verified = new Set<string>();
  /** Node → the rest of a fence of a container still being torn down (restart policy, marker re-check). */
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    private readonly dir: string,
    private readonly host: FenceHost,
  ) {}

  private marker(node: NodeConfig): string {
    return `${this.dir}/${fenceFileName(node.name)}`;
  }

  /** Until the rest of a fence of this node (see fenceKilled) is done. */
  async settled(node: NodeConfig): Promise<void> {
    await this.pending.get(node.name);
  }

  async settledAll(): Promise<void> {
    await Promise.all(this.pending.values());
  }

  /** Fence the node; returns how, for the card. `killed`: the fence has just killed its container. */
  async fence(node: NodeConfig, reason: string, killed?: Killed): Promise<string> {
    await this.settled(node);
    const c = await this.host.container(node);
    if (c && killed?.id === c.id && this.verified.has(c.id)) {
      const done = this.fenceKilled(node, c, reason, killed);
      if (done) return done;
    }
    if (!c) {
      // A later /cluster up (or compose up) starts a new container on the old volume: it reads both.
      this.writeMarker(node, { at: new Date().toISOString(), reason, restart: null });
      const volume = await this.host.dataVolume(node, true);
      const r = await this.host.volumeFence.fence(volume, reason);
      if (r.code !== 0) throw new Error(`fence failed on ${node.name} (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ')}`);
      return `marker on its data volume (no container) and in the fence directory`;
    }
    const info = await c.inspect();
    const dead = !info.State.Running || info.State.Restarting;
    // The policy to restore at unfence: the one from before the first fence (a second keeps it).
    const previous = this.readMarker(node)?.restart ?? (dead ? info.HostConfig.RestartPolicy ?? null : null);
    // A dead container: the engine turns its restart policy off while the marker is written (both
    // before we return; it is down, so their order does not matter). A running one keeps its policy:
    // it restarts read-only, the marker is on its volume too.
    const policyOff = dead ? c.update({ RestartPolicy: { Name: 'no' } }) : Promise.resolve();
    policyOff.catch(() => undefined);
    const written = this.tryWriteMarker(node, { at: new Date().toISOString(), reason, restart: previous });
    const [viaDir] = await Promise.all([written ? this.seesMarker(c, node, info) : Promise.resolve(false), policyOff]);
    // Waiting out a restart back-off, or started meanwhile: look again now that the policy is off.
    const now = info.State.Restarting ? await c.inspect() : info;
    // SIGKILL cancels the engine's pending restart.
    if (now.State.Restarting) await c.kill({ signal: 'SIGKILL' }).catch(() => undefined);
    const running = now.State.Running && !now.State.Restarting;
    if (!viaDir || running) await this.host.nodeTool(node, ['fence', reason]);
    const policy = dead ? ', restart policy off' : '';
    if (viaDir) return `marker in the fence directory${policy}`;
    return `marker on its data volume (${this.whyNotDir(info)})${policy}`;
  }

  /**
   * A container the fence killed a moment ago, whose /fence mount was seen to be this directory: the
   * marker goes there now (fsync'd; what a start reads), and the rest waits for the engine's teardown,
   * which holds every other call about the container (0.2–1 s): the restart policy off (the kill
   * already marked it stopped by hand, so the engine does not restart it meanwhile) and a re-check
   * that the container sees the marker (else the data-volume marker). null: the directory cannot be written.
   */
  private fenceKilled(node: NodeConfig, c: Docker.Container, reason: string, killed: Killed): string | null {
    const previous = this.readMarker(node)?.restart ?? killed.info.HostConfig.RestartPolicy ?? null;
    if (!this.tryWriteMarker(node, { at: new Date().toISOString(), reason, restart: previous })) return null;
    const rest = killed.teardown
      .then(async () => {
        await c.update({ RestartPolicy: { Name: 'no' } });
        if (await headExists(c, `${FENCE_MOUNT}/${fenceFileName(node.name)}`)) return;
        this.seen.delete(c.id);
        this.verified.delete(c.id);
        this.host.log.warn({ node: node.name, dir: this.dir }, 'the fence marker is not visible in the killed container; fencing on the data volume');
        await this.host.nodeTool(node, ['fence', reason]);
      })
      .catch((err: unknown) => this.host.log.error({ node: node.name, err: (err as Error).message }, 'finishing the fence of a killed container failed; check it with /cluster status'))
      .finally(() => this.pending.delete(node.name));
    this.pending.set(node.name, rest);
    return 'marker in the fence directory, restart policy off once the engine has released the container';
  }

  async unfence(node: NodeConfig): Promise<void> {
    await this.settled(node);
    const record = this.readMarker(node);
    const c = await this.host.container(node);
    if (c) {
      await this.host.nodeTool(node, ['unfence']);
      this.removeMarker(node);
      if (record?.restart && record.restart.Name !== 'no') await c.update({ RestartPolicy: record.restart });
      return;
    }
    const volume = await this.host.dataVolume(node, false);
    if (await this.host.volumeFence.exists(volume)) {
      const r = await this.host.volumeFence.unfence(volume);
      if (r.code !== 0) throw new Error(`unfence failed on ${node.name} (exit ${r.code}): ${r.stderr.trim()}`);
    }
    this.removeMarker(node);
  }

  async isFenced(node: NodeConfig): Promise<boolean> {
    const c = await this.host.container(node);
    if (!c) return this.host.volumeFence.isFenced(await this.host.dataVolume(node, false));
    // Checking the mount also readies it for a fence (done once per container).
    const viaDir = await this.mountsFenceDir(c).catch(() => false);
    if (viaDir && existsSync(this.marker(node))) return true;
    return headExists(c, '/var/lib/postgresql/data/FENCED');
  }

  /** The marker as the container will see it when it starts (read through the engine). */
  private async seesMarker(c: Docker.Container, node: NodeConfig, info: Docker.ContainerInspectInfo): Promise<boolean> {
    if (!(await this.mountsFenceDir(c, info))) return false;
    if (await headExists(c, `${FENCE_MOUNT}/${fenceFileName(node.name)}`)) return true;
    // The folder was replaced under a running bot, or the mount changed: check again next time.
    this.seen.delete(c.id);
    this.verified.delete(c.id);
    this.host.log.warn({ node: node.name, dir: this.dir }, 'the fence marker is not visible in the container; fencing on the data volume');
    return false;
  }

  /**
   * Does this container mount the bot's fence directory at /fence? A probe file written here must
   * be visible at /fence through the engine (works on stopped containers): a mount of another
   * folder (e.g. compose's DOCKER_FENCE_DIR differs from the bot's) is not trusted.
   */
  private mountsFenceDir(c: Docker.Container, known?: Docker.ContainerInspectInfo): Promise<boolean> {
    let p = this.seen.get(c.id);
    if (!p) {
      p = this.probe(c, known);
      this.seen.set(c.id, p);
      p.then((ok) => ok && this.verified.add(c.id), () => undefined);
      p.catch(() => this.seen.delete(c.id));
    }
    return p;
  }

  private async probe(c: Docker.Container, known?: Docker.ContainerInspectInfo): Promise<boolean> {
    const info = known ?? (await c.inspect());
    if (!info.Mounts.some((m) => m.Destination === FENCE_MOUNT) || !readsFenceDir(info)) return false;
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    const name = `.probe-${process.pid}-${randomBytes(6).toString('hex')}`;
    writeFileSync(`${this.dir}/${name}`, '');
    try {
      const seen = await headExists(c, `${FENCE_MOUNT}/${name}`);
      if (!seen) this.host.log.warn({ container: c.id.slice(0, 12), dir: this.dir }, `the node's ${FENCE_MOUNT} is not this bot's fence directory; fencing falls back to the data volume`);
      return seen;
    } finally {
      rmSync(`${this.dir}/${name}`, { force: true });
    }
  }

  private whyNotDir(info: Docker.ContainerInspectInfo): string {
    if (!info.Mounts.some((m) => m.Destination === FENCE_MOUNT)) return `the container mounts no ${FENCE_MOUNT}: an older compose file or container`;
    if (!readsFenceDir(info)) return `its image ${info.Config.Image} predates the fence directory`;
    return `the container's ${FENCE_MOUNT} is not ${this.dir}`;
  }

  private readMarker(node: NodeConfig): Marker | null {
    try {
      return JSON.parse(readFileSync(this.marker(node), 'utf8')) as Marker;
    } catch {
      return null;
    }
  }

  private tryWriteMarker(node: NodeConfig, m: Marker): boolean {
    try {
      this.writeMarker(node, m);
      return true;
    } catch (err) {
      this.host.log.warn({ node: node.name, err: (err as Error).message }, 'cannot write the fence directory; fencing on the data volume');
      return false;
    }
  }

  /** Written to a temporary name, synced, renamed, and the folder synced: on disk when this returns. */
  private writeMarker(node: NodeConfig, m: Marker): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    const file = this.marker(node);
    const tmp = `${file}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeFileSync(fd, `${JSON.stringify(m)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    syncDir(this.dir);
  }

  private removeMarker(node: NodeConfig): void {
    rmSync(this.marker(node), { force: true });
    if (existsSync(this.dir)) syncDir(this.dir);
  }
}

/** Does the container's image check /fence before starting PostgreSQL (postgres/Dockerfile's label)? */
const FENCE_LABEL = 'clusterbot.fence-dir';
const readsFenceDir = (info: Docker.ContainerInspectInfo) => info.Config.Labels?.[FENCE_LABEL] === '1';

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** HEAD on the archive endpoint: does this path exist in the container's view (running or not)? */
async function headExists(c: Docker.Container, path: string): Promise<boolean> {
  try {
    // The answer is a response stream (empty for HEAD): drain it, or its socket keeps the process alive.
    const res = (await c.infoArchive({ path })) as unknown as { resume?: () => void };
    res?.resume?.();
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}
