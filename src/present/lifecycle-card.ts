import type { Reply } from '../chat/reply.js';
import type { NodeOutcome } from '../cluster/provision.js';

export function lifecycleReply(title: string, outcomes: NodeOutcome[]): Reply {
  const failed = outcomes.filter((o) => o.action === 'failed');
  const warned = outcomes.filter((o) => o.warning);
  const result = (o: NodeOutcome) => (o.error ? `failed: ${o.error}` : o.replication ? `${o.action}, ${o.replication}` : o.action);
  return {
    title: failed.length ? `${title}: ${failed.length} node(s) failed` : warned.length ? `${title}: done with warnings` : `${title}: done`,
    severity: failed.length ? 'crit' : warned.length ? 'warn' : 'ok',
    tables: [{ columns: ['node', 'result', 'time'], rows: outcomes.map((o) => [o.node, result(o), `${(o.ms / 1000).toFixed(1)} s`]) }],
    text: failed.length
      ? 'See /cluster logs <node> for the reason, fix it, and run the command again (it is safe to repeat).'
      : warned.length
        ? warned.map((o) => `${o.node}: ${o.replication}`).join('\n')
        : undefined,
    data: { outcomes },
    failed: failed.length > 0,
  };
}
