import { arg, defineCommand } from '../../src/core/command.js';
import { askConfirmation } from '../../src/core/confirm.js';
import { isLeader } from '../../src/patroni/client.js';
import { findMember, runMemberOp } from './member-ops.js';

export default defineCommand({
  name: 'restart',
  summary: "Restart a member's PostgreSQL through Patroni (POST /restart); the leader only after an admin confirms",
  level: 'operator',
  mutates: true,
  slow: true,
  args: { node: arg.node('the member to restart') },
  async run(ctx, { node }) {
    const { member } = await findMember(ctx, node);
    if (!isLeader(member)) return runMemberOp(ctx, node, 'restart');
    return askConfirmation(ctx, {
      command: 'restart',
      summary: `Restart the leader ${node} through Patroni`,
      confirmLabel: `Restart leader ${node}`,
      level: 'admin',
      text: `Writes fail while ${node} restarts (usually a few seconds). Patroni keeps it the leader; no failover happens.`,
      run: (c) => runMemberOp(c, node, 'restart'),
    });
  },
});
