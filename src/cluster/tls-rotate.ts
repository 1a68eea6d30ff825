// /cluster tls rotate: every node gets a new server certificate from the same cluster CA and reloads
// (pg_reload_conf): sessions already open keep theirs, new connections get the new certificate — no
// restart, no downtime. Done one node at a time; success is what a new connection is then shown.
import type { Services } from '../core/context.js';
import { errorLine } from '../errors.js';
import { presentedCertificate } from '../db/tls.js';
import { waitFor } from './wait.js';

export interface RotatedNode {
  node: string;
  /** Serial a new connection saw before and after (null: none seen). */
  before: string | null;
  after: string | null;
  notAfter: string | null;
  ms: number;
  /** Set when the node could not be rotated: why, and what to do. */
  error?: string;
}

/** How long a reloaded node may take before a new connection must see the new certificate. */
const RELOAD_TIMEOUT_MS = 15_000;

export async function rotateCertificates(s: Pick<Services, 'config' | 'runtime' | 'pools'>, progress?: (line: string) => void): Promise<RotatedNode[]> {
  const out: RotatedNode[] = [];
  for (const node of s.config.nodes) {
    const t = performance.now();
    const r: RotatedNode = { node: node.name, before: null, after: null, notAfter: null, ms: 0 };
    try {
      if (!(await s.runtime.isRunning(node))) throw new Error(`${node.name} is not running: start it (/cluster start ${node.name}), then rotate again`);
      r.before = (await presentedCertificate(s.config, node))?.serial ?? null;
      await s.runtime.renewCertificate(node);
      await s.pools.query(node, 'SELECT pg_reload_conf()');
      const seen = await waitFor(() => presentedCertificate(s.config, node).catch(() => null), (c) => c !== null && c.serial !== r.before, RELOAD_TIMEOUT_MS, 100);
      r.after = seen.snap?.serial ?? null;
      r.notAfter = seen.snap?.notAfter ?? null;
      if (!seen.ok) throw new Error(`${node.name} still presents certificate ${r.after ?? '(none)'} ${Math.round(seen.ms / 1000)} s after its reload — see /cluster logs ${node.name}`);
      // The bot's own pooled sessions were opened with the old certificate: the next ones see the new one.
      await s.pools.reset(node);
      progress?.(`${node.name}: new certificate ${r.after}`);
    } catch (e) {
      r.error = errorLine(e);
      progress?.(`${node.name}: FAILED — ${r.error}`);
    }
    r.ms = Math.round(performance.now() - t);
    out.push(r);
  }
  return out;
}
