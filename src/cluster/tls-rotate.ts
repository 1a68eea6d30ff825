// /cluster tls rotate: every node gets a new server certificate from the same cluster CA and reloads
// (pg_reload_conf): sessions already open keep theirs, new connections get the new certificate — no
// restart, no downtime. Done one node at a time; success is what a new connection is then shown.
import type { Services } from '../core/context.js';
import { errorLine } from '../errors.js';
import { presentedCertificate } from '../db/tls.js';
import { waitFor } from './wait.js';
import { ownProcess } from './write-endpoint/driver.js';
import { adminCommand, endpointPid, issueEndpointCertificate } from './write-endpoint/pgbouncer.js';

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
    out.push(
      await rotateOne(s, node.name, node, `/cluster logs ${node.name}`, progress, async () => {
        if (!(await s.runtime.isRunning(node))) throw new Error(`${node.name} is not running: start it (/cluster start ${node.name}), then rotate again`);
        await s.runtime.renewCertificate(node);
        await s.pools.query(node, 'SELECT pg_reload_conf()');
      }),
    );
    // The bot's own pooled sessions were opened with the old certificate: the next ones see the new one.
    await s.pools.reset(node);
  }
  // Our own PgBouncer (local runtime) reloads its client certificate on RELOAD, like PostgreSQL.
  if (s.config.WRITE_ENDPOINT && ownProcess(s) && endpointPid(s.config) !== null) {
    const endpoint = { host: s.config.WRITE_ENDPOINT_HOST, port: s.config.WRITE_ENDPOINT_PORT };
    out.push(
      await rotateOne(s, 'write endpoint', endpoint, `${s.config.home}/pgbouncer/pgbouncer.log`, progress, async () => {
        await issueEndpointCertificate(s.config);
        await adminCommand(s.config, 'RELOAD');
      }),
    );
  }
  return out;
}

/** Renew one server's certificate, then wait until a new connection is shown a new one. */
async function rotateOne(
  s: Pick<Services, 'config'>,
  name: string,
  target: { host: string; port: number },
  logHint: string,
  progress: ((line: string) => void) | undefined,
  renew: () => Promise<void>,
): Promise<RotatedNode> {
  const t = performance.now();
  const r: RotatedNode = { node: name, before: null, after: null, notAfter: null, ms: 0 };
  try {
    r.before = (await presentedCertificate(s.config, target))?.serial ?? null;
    await renew();
    const seen = await waitFor(() => presentedCertificate(s.config, target).catch(() => null), (c) => c !== null && c.serial !== r.before, RELOAD_TIMEOUT_MS, 100);
    r.after = seen.snap?.serial ?? null;
    r.notAfter = seen.snap?.notAfter ?? null;
    if (!seen.ok) throw new Error(`${name} still presents certificate ${r.after ?? '(none)'} ${Math.round(seen.ms / 1000)} s after its reload — see ${logHint}`);
    progress?.(`${name}: new certificate ${r.after}`);
  } catch (e) {
    r.error = errorLine(e);
    progress?.(`${name}: FAILED — ${r.error}`);
  }
  r.ms = Math.round(performance.now() - t);
  return r;
}
