// The audit trail: one JSON line per command, click, refusal and automatic action in
// CLUSTERBOT_HOME/audit.jsonl, mirrored to proyecto.logs_replicacion when a primary is writable.
// The mirror keeps a byte offset, so lines written during an outage are replayed later, none dropped.
import { existsSync, openSync, readFileSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Logger } from './logger.js';
import { appendPrivate, mkdirPrivate, writePrivate } from './private-files.js';
import type { SecretMasker } from './secrets.js';

export interface AuditEntry {
  id: string;
  at: string;
  kind: 'command' | 'action' | 'refusal' | 'auto' | 'event';
  user: string;
  platform: string;
  channel?: string;
  command?: string;
  args?: unknown;
  node?: string;
  outcome: string;
  detail?: unknown;
  ms?: number;
}

export type AuditMirror = (entries: AuditEntry[]) => Promise<void>;

export class Audit {
  private mirror: AuditMirror | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly masker: SecretMasker,
    private readonly log: Logger,
  ) {
    mkdirPrivate(dirname(file));
  }

  private get offsetFile(): string {
    return `${this.file}.mirrored`;
  }

  record(e: Omit<AuditEntry, 'id' | 'at'>): AuditEntry {
    const entry: AuditEntry = this.masker.maskDeep({ id: randomUUID(), at: new Date().toISOString(), ...e });
    appendPrivate(this.file, `${JSON.stringify(entry)}\n`);
    this.log.info({ audit: entry }, 'audit');
    void this.flush();
    return entry;
  }

  setMirror(mirror: AuditMirror | null): void {
    this.mirror = mirror;
  }

  /** Copy unmirrored lines to the database; quietly retried later if no primary is writable. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushOnce()).catch((err: unknown) => {
      this.log.debug({ err: (err as Error).message }, 'audit mirror deferred');
    });
    return this.flushing;
  }

  /** Mirror every line again (idempotent by audit id), e.g. into a database that a reset re-created. */
  remirrorAll(): Promise<void> {
    this.flushing = this.flushing.then(() => rmSync(this.offsetFile, { force: true }));
    return this.flush();
  }

  private async flushOnce(): Promise<void> {
    if (!this.mirror || !existsSync(this.file)) return;
    const offset = existsSync(this.offsetFile) ? Number(readFileSync(this.offsetFile, 'utf8')) || 0 : 0;
    const size = statSync(this.file).size;
    if (size <= offset) return;
    const buf = Buffer.alloc(size - offset);
    const fd = openSync(this.file, 'r');
    try {
      readSync(fd, buf, 0, buf.length, offset);
    } finally {
      closeSync(fd);
    }
    const text = buf.toString('utf8');
    const end = text.lastIndexOf('\n') + 1;
    if (end === 0) return;
    const entries = text
      .slice(0, end)
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditEntry);
    for (let i = 0; i < entries.length; i += 500) await this.mirror(entries.slice(i, i + 500));
    writePrivate(this.offsetFile, String(offset + Buffer.byteLength(text.slice(0, end))));
  }

  /** The newest n entries, newest last. */
  tail(n: number): AuditEntry[] {
    if (!existsSync(this.file)) return [];
    const lines = readFileSync(this.file, 'utf8').split('\n').filter(Boolean);
    return lines.slice(-n).map((l) => JSON.parse(l) as AuditEntry);
  }

  async close(): Promise<void> {
    await this.flushing;
  }
}
