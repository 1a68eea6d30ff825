// Scenario 1: crash → alert. kill -9 the primary's postmaster and time until the "primary down"
// alert reaches a chat adapter (a recording adapter on app.notifier, monitor started as `start`
// does, default MONITOR_INTERVAL_SECONDS). Reference, same kills: the runtime's own exit detection
// (kill → runtime.watch 'exit' event). The monitor runs a loop on that event instead of waiting for
// its next interval, so exit detection plus one monitor loop explains the figure.
import { existsSync } from 'node:fs';
import { startMonitoring } from '../src/monitor/index.js';
import { LocalRuntime } from '../src/runtime/local.js';
import { isAlert, RecordingAdapter } from '../test/helpers/recording-adapter.js';
import { judge, round, stats, type Scenario } from './lib.js';
import { benchCluster, runtime, settled, sleep } from './support.js';

export const crashAlert: Scenario = async ({ quick, log }) => {
  const reps = quick ? 1 : 10;
  const c = await benchCluster(2, { env: { HEALTH_REPORT_CRON: 'off', BACKUP_SCHEDULES: 'false' } });
  try {
    const s = c.app.services;
    const rec = new RecordingAdapter();
    c.app.notifier.add(rec);
    await startMonitoring(c.app);
    log(`crash → alert: ${reps} kills, monitor interval ${c.config.MONITOR_INTERVAL_SECONDS} s`);
    const alertMs: number[] = [];
    const exitMs: number[] = [];
    for (let i = 0; i < reps; i++) {
      const primary = await settled(c);
      const node = s.node(primary);
      const pid = s.runtime instanceof LocalRuntime ? s.runtime.pid(node) : null;
      const mark = rec.mark();
      let exitAt = NaN;
      const unwatch = s.runtime.watch((e) => {
        if (e.type === 'exit' && e.node === primary && Number.isNaN(exitAt)) exitAt = Date.now();
      });
      const t0 = Date.now();
      try {
        await s.runtime.kill(node);
        const alert = await rec.waitFor(isAlert('post', `primary_down:${primary}`), 'primary-down alert', { after: mark, timeoutMs: 30_000 });
        alertMs.push(alert.at - t0);
        exitMs.push(exitAt - t0);
        log(`  #${i + 1}: alert after ${alert.at - t0} ms, exit event after ${exitAt - t0} ms`);
      } finally {
        unwatch();
      }
      // PostgreSQL refuses to start while the killed postmaster's pid still exists (a zombie until reaped).
      for (let j = 0; pid !== null && j < 250 && existsSync(`/proc/${pid}`); j++) await sleep(20);
      await s.runtime.start(node);
      await rec.waitFor(isAlert('thread', `primary_down:${primary}`, 'resolved'), 'resolution', { after: mark, timeoutMs: 30_000 });
    }
    const st = stats(alertMs);
    const ref = stats(exitMs);
    return [
      judge({
        scenario: 'crash-alert',
        figure: 'kill -9 of the primary → alert at the chat adapter',
        unit: 'ms',
        runtime: runtime(),
        stats: st,
        reference: { label: 'runtime exit detection (kill → watch exit event)', stats: ref },
        ratio: round(st.median / ref.median),
        goal: { on: 'median', op: '<=', value: 2000 },
        note: `2-node cluster; the monitor reacts to the exit event (${runtime() === 'docker' ? 'Docker engine events' : 'runtime polls every 200 ms'}) rather than its ${c.config.MONITOR_INTERVAL_SECONDS} s interval; the rest is one monitor loop (snapshot with PG_CONNECT_TIMEOUT_MS ${c.config.PG_CONNECT_TIMEOUT_MS} ms to the dead node) and the post`,
      }),
    ];
  } finally {
    await c.destroy();
  }
};
