import { arg, defineCommand } from '../../src/core/command.js';
import { askConfirmation } from '../../src/core/confirm.js';
import { UserError } from '../../src/errors.js';
import { isLeader } from '../../src/patroni/client.js';
import { findMember, runMemberOp } from './member-ops.js';

export default defineCommand({
  name: 'rejoin',
  summary: 'Rebuild a member that Patroni cannot rejoin itself (POST /reinitialize), after confirmation',
  help: 'Patroni rewinds and re-points old leaders on its own; use this when a member stays broken. Its data directory is deleted and cloned again from the leader.',
  level: 'operator',
  mutates: true,
  slow: true,
  args: { node: arg.node('the member to rebuild') },
  async run(ctx, { node }) {
    const { member } = await findMember(ctx, node);
    if (isLeader(member)) throw new UserError(`${node} is the leader and cannot be rejoined`, 'switch the leader away first (/cluster switchover)', 'precondition');
    return askConfirmation(ctx, {
      command: 'rejoin',
      summary: `Reinitialize ${node} from the leader through Patroni`,
      confirmLabel: `Reinitialize ${node}`,
      level: 'operator',
      text: `Patroni deletes ${node}'s data directory and clones it again from the leader (state now: ${member.role}, ${member.state || 'unknown'}).`,
      run: (c) => runMemberOp(c, node, 'reinitialize'),
    });
  },
});
