import { defineCommand } from '../src/core/command.js';
import { clusterDown } from '../src/cluster/provision.js';
import { askConfirmation } from '../src/core/confirm.js';
import { lifecycleReply } from '../src/present/lifecycle-card.js';
import { endpointActive, endpointAddress, stopEndpoint } from '../src/cluster/write-endpoint/index.js';

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
      run: async (c) => {
        const reply = lifecycleReply('Cluster down', await clusterDown(c.services));
        if (!(await endpointActive(c.services))) return reply;
        // The write endpoint goes with the cluster (/cluster up starts both again).
        const stopped = await stopEndpoint(c.services).then((was) => (was ? 'stopped' : 'was not running'), (e: Error) => `could not be stopped: ${e.message}`);
        return { ...reply, text: [reply.text, `Write endpoint ${endpointAddress(c.services)} (PgBouncer) ${stopped}.`].filter(Boolean).join('\n') };
      },
    });
  },
});
