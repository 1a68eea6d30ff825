// The "Certificates" line of /cluster status: when each node's certificate expires, as the node
// presented it to the bot on its newest connection.
import type { Services } from '../core/context.js';
import type { ClusterSnapshot } from './inspect.js';

const DAY_MS = 86_400_000;

export function certificatesLine(snap: ClusterSnapshot, now = Date.now()): { value: string; data: Record<string, unknown> } | null {
  const seen = snap.nodes.filter((n) => n.certificate);
  if (!seen.length) return null;
  const value = seen
    .map((n) => {
      const c = n.certificate!;
      const days = Math.floor((Date.parse(c.notAfter) - now) / DAY_MS);
      return `${n.name} ${c.notAfter.slice(0, 10)} (${days < 0 ? 'EXPIRED' : `${days} d`})`;
    })
    .join(', ');
  return { value, data: { certificates: Object.fromEntries(seen.map((n) => [n.name, n.certificate])) } };
}

export function installTlsStatus(s: Pick<Services, 'statusContributors'>): void {
  s.statusContributors.push(async (snap) => {
    const line = certificatesLine(snap);
    return line ? { label: 'TLS certificates', ...line } : null;
  });
}
