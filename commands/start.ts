import { arg, defineCommand } from '../src/core/command.js';
import { runNodeOp } from '../src/cluster/node-ops.js';
import { nodeOpReply } from '../src/present/node-op-card.js';

export default defineCommand({
  name: 'start',
  summary: 'Start a stopped node and wait until it serves (and streams, for a replica)',
  level: 'operator',
  mutates: true,
  args: { node: arg.node('the node to start') },
  examples: ['/cluster start readonly'],
  async run(ctx, { node }) {
    const n = ctx.services.node(node);
    if (await ctx.services.runtime.isRunning(n)) {
      return { title: `start ${node}: nothing to do`, severity: 'info', text: `${node} is already running.`, data: { node, op: 'start', ok: true, alreadyRunning: true } };
    }
    return nodeOpReply(node, 'start', await runNodeOp(ctx.services, n, 'start'));
  },
});
