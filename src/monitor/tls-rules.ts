// The certificate expiry rule: each node's certificate, as the node presented it to the bot, expires
// within TLS_EXPIRY_WARN_DAYS → warn; expired → critical. Pure: snapshot in, findings out.
import type { ClusterSnapshot } from '../cluster/inspect.js';
import type { Finding } from './rules.js';

const DAY_MS = 86_400_000;

export function certificateFindings(s: ClusterSnapshot, warnDays: number, now: number): Finding[] {
  if (warnDays <= 0) return [];
  const out: Finding[] = [];
  for (const n of s.nodes) {
    const cert = n.certificate;
    if (!cert) continue;
    const left = (Date.parse(cert.notAfter) - now) / DAY_MS;
    if (left > warnDays) continue;
    const expired = left <= 0;
    const when = expired ? `expired ${cert.notAfter.slice(0, 10)}` : `expires ${cert.notAfter.slice(0, 16).replace('T', ' ')} UTC, in ${left.toFixed(1)} days`;
    out.push({
      rule: 'cert_expiry',
      subject: n.name,
      node: n.name,
      severity: expired ? 'crit' : 'warn',
      title: expired ? `TLS certificate of ${n.name} has EXPIRED` : `TLS certificate of ${n.name} expires in ${Math.max(0, Math.floor(left))} days`,
      text: `The server certificate ${n.name} presents (serial ${cert.serial}) ${when}. ${expired ? 'Clients that verify it (replication, the bot, applications with verify-full) cannot connect.' : 'Once it expires, replication and every client that verifies it (verify-full) can no longer connect.'}`,
      value: when,
      threshold: `more than ${warnDays} days left (TLS_EXPIRY_WARN_DAYS)`,
      next: '/cluster tls rotate issues new certificates from the cluster CA and reloads every node, without downtime',
    });
  }
  return out;
}
