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
  private readonly cache = new Map<string, { at: number; fenced: boolean }>();

  constructor(
    private readonly docker: Docker,
    private readonly image: () => string,
  ) {}

  /** Forget what was read for a volume (it was written, or a container now owns it). */
  forget(volume: string): void {
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

  /** Every status snapshot asks: the answer is kept briefly (fence/unfence drop it at once). */
  async isFenced(volume: string): Promise<boolean> {
    const cached = this.cache.get(volume);
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.fenced;
    let fenced = false;
    if (await this.exists(volume)) {
      const r = await this.run(volume, ['test', '-f', `${VOLUME}/FENCED`]);
      if (r.code > 1) throw new Error(`reading the fence marker on ${volume} failed (exit ${r.code}): ${r.stderr.trim()}`);
      fenced = r.code === 0;
    }
    this.cache.set(volume, { at: Date.now(), fenced });
    return fenced;
  }

  /** A root command in a one-off container on the volume (no network). */
  private run(volume: string, cmd: string[]): Promise<ExecResult> {
    return runHelper(this.docker, { image: this.image(), binds: [`${volume}:${VOLUME}`], user: 'root', cmd }, { timeoutMs: 60_000 });
  }
}
