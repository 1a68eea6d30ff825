// The FENCED marker of a node whose container is gone, kept on its named data volume (which
// outlives the container; a later /cluster up or compose up starts a new container on it). Read and
// written by one-off containers mounting the volume.
import type Docker from 'dockerode';
import { isNotFound, runHelper } from './docker-engine.js';
import type { ExecResult } from './runtime.js';

const VOLUME = '/var/lib/postgresql/data';
/** How long a container-less node's marker (read in a one-off container) is remembered. */
const CACHE_MS = 10_000;

export class VolumeFence {
  private readonly cache = new Map<string, number>();
  /** Bumped by every fence/unfence, so a read that started before one is never remembered. */
  private generation = 0;

  constructor(
    private readonly docker: Docker,
    private readonly image: () => string,
  ) {}

  /** Forget what was read for a volume (it was written, or a container now owns it). */
  forget(volume: string): void {
    this.generation++;
    this.cache.delete(volume);
  }

  async exists(volume: string): Promise<boolean> {
    try {
      await this.docker.getVolume(volume).inspect();
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  fence(volume: string, reason: string): Promise<ExecResult> {
    this.forget(volume);
    return this.run(volume, ['/usr/local/bin/node-tool.sh', 'fence', reason]);
  }

  unfence(volume: string): Promise<ExecResult> {
    this.forget(volume);
    return this.run(volume, ['/usr/local/bin/node-tool.sh', 'unfence']);
  }

  /**
   * Every status snapshot asks, so a "fenced" answer is kept briefly. Only that one: remembering
   * "not fenced" could outlive a fence that landed while the read was in flight — the unsafe
   * direction. A read that overlapped a fence/unfence is not remembered at all.
   */
  async isFenced(volume: string): Promise<boolean> {
    const at = this.cache.get(volume);
    if (at !== undefined && Date.now() - at < CACHE_MS) return true;
    const generation = this.generation;
    let fenced = false;
    if (await this.exists(volume)) {
      const r = await this.run(volume, ['test', '-f', `${VOLUME}/FENCED`]);
      if (r.code > 1) throw new Error(`reading the fence marker on ${volume} failed (exit ${r.code}): ${r.stderr.trim()}`);
      fenced = r.code === 0;
    }
    if (fenced && generation === this.generation) this.cache.set(volume, Date.now());
    return fenced;
  }

  /** A root command in a one-off container on the volume (no network). */
  private run(volume: string, cmd: string[]): Promise<ExecResult> {
    return runHelper(this.docker, { image: this.image(), binds: [`${volume}:${VOLUME}`], user: 'root', cmd }, { timeoutMs: 60_000 });
  }
}
