import { defineCommand } from '../src/core/command.js';
import { clusterDown } from '../src/cluster/provision.js';
import { askConfirmation } from '../src/core/confirm.js';
import { lifecycleReply } from '../src/present/lifecycle-card.js';
import { endpointActive, endpointAddress, stopEndpoint } from '../src/cluster/write-endpoint/index.js';
import { readEndpointActive, readEndpointAddress, stopReadEndpoint } from '../src/cluster/read-endpoint/index.js';

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
        // The endpoints go with the cluster (/cluster up starts them again).
        const how = (stop: Promise<boolean>) => stop.then((was) => (was ? 'stopped' : 'was not running'), (e: Error) => `could not be stopped: ${e.message}`);
        const lines = [reply.text];
        if (await endpointActive(c.services)) lines.push(`Write endpoint ${endpointAddress(c.services)} (PgBouncer) ${await how(stopEndpoint(c.services))}.`);
        if (await readEndpointActive(c.services)) lines.push(`Read endpoint ${readEndpointAddress(c.services)} (HAProxy) ${await how(stopReadEndpoint(c.services))}.`);
        return { ...reply, text: lines.filter(Boolean).join('\n') };
      },
    });
  },
});
