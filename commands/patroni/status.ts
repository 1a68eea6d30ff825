// /cluster status with the Patroni backend: the usual status card plus Patroni's own view.
import { defineCommand } from '../../src/core/command.js';
import { patroniStatusCard } from '../../src/patroni/present.js';
import { patroniSnapshot } from '../../src/patroni/snapshot.js';

export default defineCommand({
  name: 'status',
  summary: 'Roles, health, timeline, LSNs and lag of every Patroni member, in one glance',
  level: 'viewer',
  mutates: false,
  args: {},
  async run(ctx) {
    const { services } = ctx;
    const snap = await patroniSnapshot(services);
    const extras = (await Promise.all(services.statusContributors.map((c) => c(snap).catch(() => null)))).filter((x) => x !== null);
    return patroniStatusCard(snap, extras);
  },
});
