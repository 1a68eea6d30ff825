import type { Reply } from '../chat/reply.js';
import type { NodeOutcome } from '../cluster/provision.js';

export function lifecycleReply(title: string, outcomes: NodeOutcome[]): Reply {
  const failed = outcomes.filter((o) => o.action === 'failed');
  return {
    title: failed.length ? `${title}: ${failed.length} node(s) failed` : `${title}: done`,
    severity: failed.length ? 'crit' : 'ok',
    tables: [{ columns: ['node', 'result', 'time'], rows: outcomes.map((o) => [o.node, o.error ? `failed: ${o.error}` : o.action, `${(o.ms / 1000).toFixed(1)} s`]) }],
    text: failed.length ? 'See /cluster logs <node> for the reason, fix it, and run the command again (it is safe to repeat).' : undefined,
    data: { outcomes },
    failed: failed.length > 0,
  };
}
