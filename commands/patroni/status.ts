// /cluster status with the Patroni backend: the usual status card plus Patroni's own view.
import { defineCommand } from '../../src/core/command.js';
import { patroniStatusCard } from '../../src/patroni/present.js';
import { patroniProtections } from '../../src/patroni/protections.js';
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
    const [extras, protections] = await Promise.all([
      Promise.all(services.statusContributors.map((c) => c(snap).catch(() => null))).then((xs) => xs.filter((x) => x !== null)),
      patroniProtections(services, snap.patroni.raw?.members ?? []).catch(() => null),
    ]);
    return patroniStatusCard(snap, extras, protections);
  },
});
