// Scenario: a switchover seen by an application writing continuously through the write endpoint
// (PgBouncer on its own port) — client errors (goal 0) and the longest pause between two successful
// writes (goal < 2 s) — beside an application on the old primary's direct port during the same
// switchover (errors expected: that port becomes a read-only replica).
import { AddressLoad } from '../test/helpers/endpoint-load.js';
import { freePort } from '../test/helpers/cluster.js';
import { judge, stats, type Scenario } from './lib.js';
import { benchCluster, confirm, nextNode, runtime, settled } from './support.js';

export const endpointSwitchover: Scenario = async ({ quick, log }) => {
  const reps = quick ? 1 : 5;
  const port = await freePort();
  const c = await benchCluster(3, { env: { WRITE_ENDPOINT: 'true', WRITE_ENDPOINT_PORT: String(port) } });
  const ep = { errors: [] as number[], pause: [] as number[] };
  const direct = { errors: [] as number[], pause: [] as number[] };
  try {
    await c.sql('n1', 'CREATE TABLE proyecto.carga (id bigint PRIMARY KEY, nodo text NOT NULL, at timestamptz NOT NULL DEFAULT now())');
    const up = await c.run('/cluster up');
    if (!new RegExp(`Write endpoint: 127\\.0\\.0\\.1:${port} → n1 \\(PgBouncer started`).test(up.text ?? '')) throw new Error(`endpoint not started: ${up.text}`);
    for (let i = 0; i < reps; i++) {
      const from = await settled(c);
      const to = nextNode(c, from);
      const base = (i + 1) * 10_000_000;
      const viaEndpoint = new AddressLoad(c.config, port, base).start();
      const viaPort = new AddressLoad(c.config, c.app.services.node(from).port, base + 5_000_000).start();
      try {
        await Promise.all([viaEndpoint.waitAcked(50), viaPort.waitAcked(50)]);
        const card = await c.run(`/cluster switchover ${to}`);
        if (card.failed || !card.buttons?.length) throw new Error(`no switchover card: ${card.title} ${card.text ?? ''}`);
        await confirm(c, card.buttons[0].actionId, `switchover to ${to}`);
        await viaEndpoint.waitAcked(50);
      } finally {
        await Promise.all([viaEndpoint.stop(), viaPort.stop()]);
      }
      // The direct client never writes again after the switchover: its pause lasts until it stopped.
      const directPause = Math.max(viaPort.longestPauseMs, viaPort.silentMs);
      ep.errors.push(viaEndpoint.errors.length);
      ep.pause.push(viaEndpoint.longestPauseMs);
      direct.errors.push(viaPort.errors.length);
      direct.pause.push(directPause);
      log(`  #${i + 1} ${from} → ${to}: endpoint ${viaEndpoint.errors.length} errors, longest pause ${viaEndpoint.longestPauseMs} ms; direct port ${viaPort.errors.length} errors${viaPort.errors[0] ? ` (${viaPort.errors[0].slice(13, 90)})` : ''}`);
    }
  } finally {
    await c.destroy();
  }
  return [
    judge({
      scenario: 'endpoint-switchover',
      figure: 'client errors through the write endpoint during a switchover',
      unit: 'errors',
      runtime: runtime(),
      stats: stats(ep.errors),
      reference: { label: 'client errors on the old primary\'s direct port (same switchovers)', stats: stats(direct.errors) },
      ratio: null,
      goal: { on: 'max', op: '<=', value: 0 },
      note: 'one client per address, autocommit INSERT every 10 ms, reconnect 100 ms after an error; the direct-port client keeps failing (read-only) until stopped',
    }),
    judge({
      scenario: 'endpoint-switchover',
      figure: 'longest write pause through the write endpoint during a switchover',
      unit: 'ms',
      runtime: runtime(),
      stats: stats(ep.pause),
      reference: { label: 'direct port: time without a successful write (never recovers)', stats: stats(direct.pause) },
      ratio: null,
      goal: { on: 'max', op: '<', value: 2000 },
    }),
  ];
};
