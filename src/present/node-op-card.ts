import type { Reply } from '../chat/reply.js';
import type { NodeOpResult } from '../cluster/node-ops.js';

export function nodeOpReply(node: string, op: string, r: NodeOpResult): Reply {
  return {
    title: r.ok ? `${op} ${node}: done` : `${op} ${node}: not as expected`,
    severity: r.ok ? 'ok' : 'warn',
    text: r.line,
    context: `took ${(r.ms / 1000).toFixed(1)} s`,
    data: { node, op, ok: r.ok, ms: r.ms, result: r.line },
    failed: !r.ok,
  };
}
