// Draws docs/lag-chart.png with the project's own code from a real cluster: starts a throwaway
// local 3-node cluster (own CLUSTERBOT_HOME, free loopback ports), runs the monitor, makes real
// lag (replay paused on the replicas while the primary writes), lets it catch up, then renders
// `/cluster lag 2m` and copies the PNG. Run: npx tsx scripts/lag-chart-demo.ts [out.png]
import { copyFileSync } from 'node:fs';
import { startTestCluster } from '../test/helpers/cluster.js';
import { startMonitoring } from '../src/monitor/index.js';

const out = process.argv[2] ?? 'docs/lag-chart.png';
const say = (line: string) => console.log(`[lag-chart] ${line}`);

const c = await startTestCluster({ env: { MONITOR_INTERVAL_SECONDS: '1', LAG_HISTORY_HOURS: '1', HEALTH_REPORT_CRON: 'off' } });
try {
  await startMonitoring(c.app);
  const monitor = c.app.services.monitor.running!;
  /** Wait until the monitor has taken `n` more samples (a state, not a time); says what it saw on timeout. */
  const samples = async (n: number) => {
    const target = monitor.history.size + n;
    const deadline = Date.now() + n * 5_000 + 30_000;
    while (monitor.history.size < target) {
      if (Date.now() > deadline) throw new Error(`monitor took ${monitor.history.size} of ${target} samples before the deadline`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const write = (mb: number) => c.sql('primary', `INSERT INTO demo_filler SELECT repeat('z', 1000) FROM generate_series(1, ${mb * 1000})`);
  const caughtUp = async () => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const snap = await c.app.services.snapshot();
      const behind = snap.nodes.filter((n) => n.name !== 'primary' && (n.lagBytes ?? 1) > 0);
      if (!behind.length) return;
      if (Date.now() > deadline) throw new Error(`replicas still behind: ${behind.map((n) => `${n.name} ${n.lagBytes} B`).join(', ')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  await c.sql('primary', 'CREATE TABLE demo_filler (pad text)');
  say('cluster up, monitor running: quiet baseline');
  await samples(20);
  say('standby replay paused; the primary writes 2 MB every 4 samples');
  await c.sql('standby', 'SELECT pg_wal_replay_pause()');
  for (let i = 0; i < 6; i++) {
    if (i === 2) {
      say('readonly replay paused as well');
      await c.sql('readonly', 'SELECT pg_wal_replay_pause()');
    }
    await write(2);
    await samples(4);
  }
  say('readonly resumes');
  await c.sql('readonly', 'SELECT pg_wal_replay_resume()');
  await samples(12);
  say('standby resumes');
  await c.sql('standby', 'SELECT pg_wal_replay_resume()');
  await caughtUp();
  // Let the quiet tail run until the samples span the whole 2-minute window.
  const first = monitor.history.since(0)[0].t;
  while (monitor.history.since(0).at(-1)!.t - first < 121_000) await samples(1);
  const reply = await c.run('/cluster lag 2m');
  if (reply.failed || !reply.image) throw new Error(`/cluster lag failed: ${reply.text}`);
  copyFileSync(reply.image.path, out);
  say(`${(reply.text ?? '').replace(/\n/g, '; ')}`);
  say(`${reply.context ?? ''}`);
  say(`wrote ${out}`);
} finally {
  await c.destroy();
}
