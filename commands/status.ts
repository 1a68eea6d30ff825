import { defineCommand } from '../src/core/command.js';
import { statusCard } from '../src/present/status-card.js';

export default defineCommand({
  name: 'status',
  summary: 'Roles, health, timeline, LSNs and lag of every node, in one glance',
  level: 'viewer',
  mutates: false,
  args: {},
  async run(ctx) {
    const { services } = ctx;
    const snap = await services.snapshot();
    const extras = (await Promise.all(services.statusContributors.map((c) => c(snap).catch(() => null)))).filter((x) => x !== null);
    return statusCard(snap, extras);
  },
});
