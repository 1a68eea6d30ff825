// The Docker events stream of one compose project, as RuntimeEvents (die → exit, start → start),
// reconnecting after an engine hiccup until closed; and one container's death, watched by the fence.
import type Docker from 'dockerode';
import type { Logger } from '../core/logger.js';
import type { RuntimeEvent } from './runtime.js';

interface DockerEvent {
  status?: string;
  Action?: string;
  time?: number;
  timeNano?: number;
  Actor?: { Attributes?: Record<string, string> };
}

export class DockerEvents {
  private stream: NodeJS.ReadableStream | null = null;
  private retry: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly docker: Docker,
    private readonly project: string,
    /** compose service name → node name (null: not one of ours). */
    private readonly nodeOf: (service: string) => string | null,
    private readonly onEvent: (e: RuntimeEvent) => void,
    private readonly log: Logger,
  ) {}

  async open(): Promise<void> {
    if (this.closed) return;
    try {
      const stream = await this.docker.getEvents({
        filters: { type: ['container'], event: ['die', 'start'], label: [`com.docker.compose.project=${this.project}`] },
      });
      this.stream = stream;
      let rest = '';
      stream.on('data', (chunk: Buffer) => {
        rest += chunk.toString('utf8');
        const lines = rest.split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) this.handle(line);
      });
      const again = () => {
        if (this.stream !== stream) return;
        this.stream = null;
        this.schedule();
      };
      stream.on('end', again);
      stream.on('error', (err: Error) => {
        this.log.warn({ err }, 'docker events stream failed; reconnecting');
        again();
      });
    } catch (err) {
      this.log.warn({ err }, 'cannot open the docker events stream; retrying');
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.open();
    }, 1000);
    this.retry.unref();
  }

  private handle(line: string): void {
    let e: DockerEvent;
    try {
      e = JSON.parse(line) as DockerEvent;
    } catch {
      return;
    }
    const attrs = e.Actor?.Attributes ?? {};
    if (attrs['clusterbot.helper'] === 'true') return;
    const node = this.nodeOf(attrs['com.docker.compose.service'] ?? '');
    if (!node) return;
    const at = e.timeNano ? new Date(Math.floor(e.timeNano / 1e6)) : new Date((e.time ?? Date.now() / 1000) * 1000);
    const action = e.Action ?? e.status;
    if (action === 'start') this.onEvent({ type: 'start', node, at });
    else if (action === 'die') this.onEvent({ type: 'exit', node, at, expected: false });
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    const s = this.stream as (NodeJS.ReadableStream & { destroy?: () => void }) | null;
    this.stream = null;
    s?.removeAllListeners('data');
    s?.destroy?.();
  }
}

export interface DieWatch {
  /** Resolves with the exit code when the engine reports the container's death (never rejects). */
  died: Promise<number | null>;
  close(): void;
}

/**
 * Watch for one container's `die` event after `since` (the engine's own StartedAt of the life being
 * ended: no clock of ours involved, and a die before it is of an earlier life). The engine sends
 * `die` once the container's init has exited — and with it, its pid namespace, every process of the
 * container — but before it tears down the network and mounts (0.2–1 s on a busy machine), while
 * `docker kill`, `wait` and `inspect` all answer only after that teardown.
 */
export async function watchDie(docker: Docker, containerId: string, since: string): Promise<DieWatch> {
  const ms = Date.parse(since);
  // Events from `since` on are replayed from the engine's buffer, then followed: none can slip between.
  const sinceArg = Number.isNaN(ms) ? undefined : `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}000000`;
  const stream = (await docker.getEvents({ since: sinceArg as unknown as number, filters: { type: ['container'], container: [containerId], event: ['die'] } })) as NodeJS.ReadableStream & { destroy?: () => void };
  let rest = '';
  const died = new Promise<number | null>((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      rest += chunk.toString('utf8');
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        let e: DockerEvent & { id?: string };
        try {
          e = JSON.parse(line) as DockerEvent & { id?: string };
        } catch {
          continue;
        }
        if ((e.Action ?? e.status) !== 'die') continue;
        const code = Number(e.Actor?.Attributes?.exitCode);
        resolve(Number.isFinite(code) ? code : null);
      }
    });
    stream.on('error', () => undefined);
  });
  return { died, close: () => stream.destroy?.() };
}
