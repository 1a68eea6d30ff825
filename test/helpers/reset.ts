// What the /cluster reset tests (local and Docker) share: a mark of the old cluster, the card's
// parts, and the proof afterwards (nothing about the nodes posted, the audit trail on disk).
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { App } from '../../src/app.js';
import type { Reply } from '../../src/chat/reply.js';
import type { Principal, Surface } from '../../src/core/context.js';
import type { AuditEntry } from '../../src/core/audit.js';
import type { Monitor } from '../../src/monitor/monitor.js';
import { alertOf, type RecordingAdapter } from './recording-adapter.js';
import { until } from './wait.js';

interface ResetTestCluster {
  home: string;
  app: App;
  run(text: string, who?: Principal, surface?: Partial<Surface>): Promise<Reply>;
  sql<R extends Record<string, unknown> = Record<string, unknown>>(node: string, text: string, params?: unknown[]): Promise<R[]>;
}

/** The old cluster's own data: a table and two more usuarios (a backup of it restores 7). */
export async function markOldCluster(c: ResetTestCluster): Promise<void> {
  await c.sql('primary', 'CREATE TABLE proyecto.antes (x int)');
  await c.sql('primary', "INSERT INTO proyecto.usuarios (nombre, email) VALUES ('antes 1', 'a1@example.com'), ('antes 2', 'a2@example.com')");
}

export async function oldTableThere(c: ResetTestCluster): Promise<boolean> {
  return (await c.sql<{ t: string | null }>('primary', "SELECT to_regclass('proyecto.antes')::text AS t"))[0].t !== null;
}

export interface ResetCard {
  card: Reply;
  code: string;
  pendingAction: string;
  nodes: Array<{ name: string; bytes: number | null }>;
}

/** Ask for a reset (it must show a card) and return the card with its code. */
export async function askReset(c: ResetTestCluster, text: string, who: Principal): Promise<ResetCard> {
  const card = await c.run(text, who);
  expect(card.failed, card.text).toBeFalsy();
  return { card, ...(card.data as Omit<ResetCard, 'card'>) };
}

export const fieldOf = (r: Reply, label: RegExp) => r.fields?.find((f) => label.test(f.label))?.value ?? `(no field ${label} in ${JSON.stringify(r.fields?.map((f) => f.label))})`;

/** The status card's "Write endpoint: 127.0.0.1:6432 → primary" without its tail. */
export const endpointOf = (r: Reply) => /^Write endpoint: (.*?)(?: — the primary itself: .*)?$/m.exec(r.text ?? '')?.[1] ?? `(no endpoint line in: ${r.text})`;

const CLUSTER_RULES = ['primary_down', 'node_down', 'no_primary', 'not_streaming', 'archiver_failing', 'split_brain'];

/** After two more monitor loops, no alert about the nodes was posted since `mark`. */
export async function expectNoNodeAlerts(rec: RecordingAdapter, monitor: Monitor, mark: number): Promise<void> {
  const ticks = monitor.health().ticks;
  await until('two monitor loops after the reset', async () => monitor.health().ticks >= ticks + 2, 30_000, 50);
  expect(rec.since(mark).filter((e) => CLUSTER_RULES.includes(alertOf(e)?.rule ?? '')).map((e) => e.reply.title)).toEqual([]);
}

export function auditLines(home: string): AuditEntry[] {
  return readFileSync(`${home}/audit.jsonl`, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEntry);
}
