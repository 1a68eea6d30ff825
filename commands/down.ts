import { defineCommand } from '../src/core/command.js';
import { clusterDown } from '../src/cluster/provision.js';
import { askConfirmation } from '../src/core/confirm.js';
import { lifecycleReply } from '../src/present/lifecycle-card.js';

export default defineCommand({
  name: 'down',
  summary: 'Stop every node cleanly, primary first (after an admin confirms)',
  level: 'operator',
  mutates: true,
  args: {},
  async run(ctx) {
    return askConfirmation(ctx, {
      command: 'down',
      summary: 'stop the whole cluster',
      confirmLabel: 'Stop all nodes',
      level: 'admin',
      text: 'Every node is stopped (primary first, so replicas receive all of its WAL). Nothing is deleted; /cluster up starts it again.',
      run: async (c) => lifecycleReply('Cluster down', await clusterDown(c.services)),
    });
  },
});
