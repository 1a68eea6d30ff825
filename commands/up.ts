import { defineCommand } from '../src/core/command.js';
import { clusterUp } from '../src/cluster/provision.js';
import { lifecycleReply } from '../src/present/lifecycle-card.js';

export default defineCommand({
  name: 'up',
  summary: 'Create missing nodes and start stopped ones (never re-initialises existing data)',
  level: 'operator',
  mutates: true,
  slow: true,
  args: {},
  async run(ctx) {
    const lines: string[] = [];
    const outcomes = await clusterUp({
      ...ctx.services,
      progress: (line) => {
        lines.push(line);
        void ctx.progress({ title: 'Bringing the cluster up…', severity: 'info', text: lines.join('\n') });
      },
    });
    return lifecycleReply('Cluster up', outcomes);
  },
});
