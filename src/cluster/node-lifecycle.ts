// Shared by /cluster stop and /cluster restart: acting on the primary asks an admin first.
import type { Reply } from '../chat/reply.js';
import { runNodeOp, type NodeOp } from './node-ops.js';
import { askConfirmation } from '../core/confirm.js';
import type { CommandContext } from '../core/command.js';
import { nodeOpReply } from '../present/node-op-card.js';

export async function nodeLifecycle(ctx: CommandContext, name: string, op: Exclude<NodeOp, 'start'>): Promise<Reply> {
  const s = ctx.services;
  const node = s.node(name);
  const snap = await s.snapshot();
  const act = async () => nodeOpReply(name, op, await runNodeOp(s, node, op));
  if (snap.writable.includes(name)) {
    return askConfirmation(ctx, {
      command: op,
      summary: `${op} the primary ${name}`,
      confirmLabel: op === 'stop' ? `Stop primary ${name}` : `Restart primary ${name}`,
      level: 'admin',
      text: `${name} is the writable primary: ${op === 'stop' ? 'stopping it stops all writes until it is started again or a replica is promoted (/cluster failover).' : 'applications lose their connections and writes pause while it restarts.'}`,
      data: { node: name, op },
      run: act,
    });
  }
  return act();
}
