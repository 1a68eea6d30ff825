import { defineCommand } from '../src/core/command.js';
import { clusterUp } from '../src/cluster/provision.js';
import { lifecycleReply } from '../src/present/lifecycle-card.js';
import { afterClusterUp } from '../src/cluster/ha-hooks.js';

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
    const reply = lifecycleReply('Cluster up', outcomes);
    const extra = await afterClusterUp(ctx.services);
    // A cluster from before pgBackRest (or a repository moved away): archive-push needs the stanza.
    const stanza = outcomes.some((o) => o.action !== 'failed')
      ? await ctx.services.backups.ensureStanza().catch((e: Error) => `⚠ pgBackRest stanza not ready: ${e.message} — archiving fails until it is; see /cluster status`)
      : null;
    reply.text = [reply.text, ...extra, stanza].filter(Boolean).join('\n');
    return { ...reply, data: { ...(reply.data ?? {}), endpoint: extra, stanza } };
  },
});
