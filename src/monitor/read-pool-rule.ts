// The read endpoint's rule: no replica qualifies and nothing falls back, so the read endpoint refuses
// every new session. Pure: the pool the monitor's snapshot calls for in, a finding out.
import type { Config } from '../config.js';
import { formatBytes } from '../cluster/lsn.js';
import { outSummary, type ReadPool } from '../cluster/read-endpoint/pool.js';
import type { Finding } from './rules.js';

type ReadSettings = Pick<Config, 'READ_ENDPOINT_HOST' | 'READ_ENDPOINT_PORT' | 'READ_MAX_LAG_BYTES' | 'READ_MAX_LAG_SECONDS' | 'READ_FALLBACK_TO_PRIMARY'>;

/** What to do about one replica's reason for being out. */
function remedy(node: string, reason: string): string {
  if (reason === 'fenced') return `/cluster rejoin ${node}`;
  if (reason.startsWith('down')) return `/cluster start ${node}`;
  if (reason.startsWith('lag')) return `let ${node} catch up (/cluster lag)`;
  return `/cluster follow ${node} (see /cluster logs ${node})`;
}

export function readPoolFindings(pool: ReadPool | null, c: ReadSettings): Finding[] {
  // With the fallback on, reads go to the primary (and without a primary, its own alerts say so).
  if (!pool || pool.members.length > 0 || c.READ_FALLBACK_TO_PRIMARY) return [];
  const addr = `${c.READ_ENDPOINT_HOST}:${c.READ_ENDPOINT_PORT}`;
  const limits = [c.READ_MAX_LAG_BYTES > 0 ? `lag ≤ ${formatBytes(c.READ_MAX_LAG_BYTES)}` : '', c.READ_MAX_LAG_SECONDS > 0 ? `lag ≤ ${c.READ_MAX_LAG_SECONDS} s` : ''].filter(Boolean);
  const fixes = pool.out.map((o) => remedy(o.node, o.reason));
  return [
    {
      rule: 'read_pool_empty',
      subject: 'cluster',
      node: null,
      severity: 'crit',
      title: 'No replica qualifies for the read endpoint',
      text: `The read endpoint ${addr} refuses every new read session: no replica qualifies and READ_FALLBACK_TO_PRIMARY is off.`,
      value: outSummary(pool) || 'no replicas configured',
      threshold: `at least 1 replica streaming${limits.length ? ` with ${limits.join(' and ')}` : ''}`,
      next: `${fixes.length ? `${fixes.join(', ')}; ` : ''}to send reads to the primary meanwhile, set READ_FALLBACK_TO_PRIMARY=true and restart clusterbot`,
    },
  ];
}
