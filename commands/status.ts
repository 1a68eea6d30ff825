import { defineCommand } from '../src/core/command.js';

export default defineCommand({
  name: 'status',
  summary: 'Roles, health, timeline, LSNs and lag of every node, in one glance',
  level: 'viewer',
  mutates: false,
  args: {},
  async run(ctx) {
    const snap = await ctx.backend.snapshot();
    const extras = (await Promise.all(ctx.services.statusContributors.map((c) => c(snap).catch(() => null)))).filter((x) => x !== null);
    return ctx.backend.statusCard(snap, extras);
  },
});
