// Alerts on a real local cluster: crash of the primary, lag warn → crit → resolved with a reminder,
// a failing WAL archiver, maintenance mode, and split brain (last: it leaves two primaries).
import { chmodSync, existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principal, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { alertOf, isAlert, RecordingAdapter } from '../helpers/recording-adapter.js';
import { eventually } from '../helpers/wait.js';
import { waitFor, nodeIn } from '../../src/cluster/wait.js';
import { startMonitoring } from '../../src/monitor/index.js';
import type { Monitor } from '../../src/monitor/monitor.js';
import type { LocalRuntime } from '../../src/runtime/local.js';

describe('monitor alerts on a real cluster', () => {
  let c: TestCluster;
  let rec: RecordingAdapter;
  let monitor: Monitor;
  const node = (name: string) => c.app.services.node(name);
  const allStreaming = () =>
    waitFor(c.app.services.snapshot, (s) => s.primary === 'primary' && nodeIn(s, 'standby').streaming && nodeIn(s, 'readonly').streaming, 30_000);

  beforeAll(async () => {
    c = await startTestCluster({
      env: {
        MONITOR_INTERVAL_SECONDS: '0.5',
        ALERT_REMINDER_MINUTES: '0.05',
        LAG_BYTES_WARN: String(4 * 1024 * 1024),
        LAG_BYTES_CRIT: String(16 * 1024 * 1024),
        LAG_SECONDS_WARN: '0',
        LAG_SECONDS_CRIT: '0',
        NOT_STREAMING_WARN_SECONDS: '60',
        HEALTH_REPORT_CRON: 'off',
      },
    });
    expect((await allStreaming()).ok).toBe(true);
    rec = new RecordingAdapter();
    c.app.notifier.add(rec);
    await startMonitoring(c.app);
    monitor = c.app.services.monitor.running!;
    await monitor.settle();
  });
  afterAll(async () => {
    if (c) chmodSync(c.config.walArchiveDir, 0o750);
    await c?.destroy();
  });

  it('posts a critical "primary down" alert with the failover button after kill -9, and a resolution after restart', async () => {
    const mark = rec.mark();
    const runtime = c.app.services.runtime as LocalRuntime;
    const pid = runtime.pid(node('primary'))!;
    const t0 = Date.now();
    await runtime.kill(node('primary'));
    const alert = await rec.waitFor(isAlert('post', 'primary_down:primary'), 'primary-down alert', { after: mark });
    console.log(`[timing] kill -9 of the primary → alert at the adapter: ${alert.at - t0} ms`);
    expect(alert.channel).toBe('alerts');
    expect(alert.reply.severity).toBe('crit');
    expect(alert.reply.title).toBe('Primary down: primary');
    expect(alert.reply.buttons).toEqual([{ actionId: 'cb:cmd:/cluster failover', label: 'Start failover…', style: 'danger' }]);
    const fields = Object.fromEntries(alert.reply.fields!.map((f) => [f.label, f.value]));
    expect(fields.Node).toBe('primary');
    expect(fields.Value).toMatch(/not running|not answering/);
    expect(fields.Threshold).toMatch(/PG_CONNECT_TIMEOUT_MS/);
    expect(alert.reply.text).toMatch(/Next step: .*\/cluster failover/);

    // The killed postmaster stays a zombie until init reaps it; PostgreSQL refuses to start while its pid exists.
    await eventually('the killed postmaster to be reaped', () => existsSync(`/proc/${pid}`), (alive) => !alive);
    await runtime.start(node('primary'));
    const resolved = await rec.waitFor(isAlert('thread', 'primary_down:primary', 'resolved'), 'resolution', { after: mark });
    expect(resolved.threadOf).toBe(alert.ref);
    expect(resolved.reply.severity).toBe('ok');
    expect(rec.since(mark).some((e) => e.kind === 'update' && e.ref === alert.ref && alertOf(e)?.phase === 'resolved')).toBe(true);
    // The dead primary is one alert, not also "no writable primary" or "node down".
    expect(rec.since(mark).filter((e) => e.kind === 'post').map((e) => alertOf(e)?.rule)).not.toContain('no_primary');
    expect(rec.since(mark).filter((e) => e.kind === 'post').map((e) => alertOf(e)?.key)).not.toContain('node_down:primary');
    expect((await allStreaming()).ok).toBe(true);
  });

  it('warns, then escalates on lag, reminds without duplicating, and resolves when replay resumes', async () => {
    await c.sql('primary', 'CREATE TABLE IF NOT EXISTS lag_filler (pad text)');
    await c.sql('standby', 'SELECT pg_wal_replay_pause()');
    const key = 'lag_bytes:standby';
    const mark = rec.mark();
    try {
      await c.sql('primary', "INSERT INTO lag_filler SELECT repeat('x', 1000) FROM generate_series(1, 6000)");
      const warn = await rec.waitFor(isAlert('post', key, 'firing'), 'lag warning', { after: mark });
      expect(warn.reply.severity).toBe('warn');
      expect(warn.reply.text).toMatch(/Replay is paused on standby/);
      expect(Object.fromEntries(warn.reply.fields!.map((f) => [f.label, f.value]))).toMatchObject({ Node: 'standby', Threshold: 'warn ≥ 4.0 MB, crit ≥ 16 MB' });

      await c.sql('primary', "INSERT INTO lag_filler SELECT repeat('y', 1000) FROM generate_series(1, 16000)");
      const crit = await rec.waitFor(isAlert('post', key, 'escalated'), 'lag escalation', { after: mark });
      expect(crit.reply.severity).toBe('crit');
      expect(crit.reply.title).toMatch(/^Now critical — Replication lag: standby is \d+ MB behind/);

      const reminder = await rec.waitFor(isAlert('thread', key, 'reminder'), 'reminder', { after: mark });
      expect(reminder.threadOf).toBe(warn.ref);
      expect(reminder.reply.title).toMatch(/^Still firing after/);
      // Several more loops while it stays firing: still exactly the two top-level posts.
      for (let i = 0; i < 4; i++) {
        monitor.kick('test');
        await monitor.settle();
      }
      expect(rec.since(mark).filter(isAlert('post', key)).length).toBe(2);
    } finally {
      await c.sql('standby', 'SELECT pg_wal_replay_resume()');
    }
    const resolved = await rec.waitFor(isAlert('thread', key, 'resolved'), 'lag resolution', { after: mark });
    expect(resolved.threadOf).toBe(warn_ref(rec, key, mark));
  });

  it('alerts when the WAL archive folder is unwritable, and resolves once archiving works again', async () => {
    const key = 'archiver_failing:primary';
    const mark = rec.mark();
    chmodSync(c.config.walArchiveDir, 0o000);
    try {
      await c.sql('primary', "INSERT INTO lag_filler VALUES ('archive me')");
      await c.sql('primary', 'SELECT pg_switch_wal()');
      const alert = await rec.waitFor(isAlert('post', key, 'firing'), 'archiver alert', { after: mark });
      expect(alert.reply.severity).toBe('warn');
      expect(alert.reply.text).toContain(c.config.walArchiveDir);
      expect(alertOf(alert)!.value).toMatch(/last attempt failed/);
    } finally {
      chmodSync(c.config.walArchiveDir, 0o750);
    }
    await c.sql('primary', "INSERT INTO lag_filler VALUES ('archive me too')");
    await c.sql('primary', 'SELECT pg_switch_wal()');
    await rec.waitFor(isAlert('thread', key, 'resolved'), 'archiver resolution', { after: mark, timeoutMs: 30_000 });
  });

  it('maintenance mode mutes alerts but records them; turning it off posts what is still firing', async () => {
    const refused = await c.run('/cluster maintenance on 10m', principal('victor'));
    expect(refused.text).toMatch(/victor is a viewer; \/cluster maintenance needs operator/);
    for (const [text, pattern] of [
      ['/cluster maintenance on', /maintenance on needs a duration — e\.g\. \/cluster maintenance on 30m/],
      ['/cluster maintenance sometimes', /accepted: on, off/],
      ['/cluster maintenance on soon', /is not a duration like 30m/],
      ['/cluster maintenance on 30d', /at most 7d/],
    ] as const) {
      const r = await c.run(text, principal('olga'));
      expect(r.failed, text).toBe(true);
      expect(r.text, text).toMatch(pattern);
      expect(r.text!.split('\n'), text).toHaveLength(1);
    }
    const on = await c.run('/cluster maintenance on 10m', principal('olga'));
    expect(on.failed).toBeFalsy();
    expect(on.title).toMatch(/^Maintenance on until \d\d:\d\d UTC/);
    const status = await c.run('/cluster status');
    expect(status.fields?.find((f) => f.label === 'Maintenance')?.value).toMatch(/ON until .* by olga: alerts muted/);

    const key = 'node_down:readonly';
    const mark = rec.mark();
    await c.app.services.runtime.stop(node('readonly'));
    await eventually('the muted alert in the alert state', () => Object.keys(monitor.alerts.state.alerts), (keys) => keys.includes(key));
    for (let i = 0; i < 3; i++) {
      monitor.kick('test');
      await monitor.settle();
    }
    expect(rec.since(mark).filter((e) => alertOf(e)?.key === key)).toEqual([]);
    const audit = c.app.services.audit.tail(100).filter((e) => e.command === 'alert' && e.node === 'readonly');
    expect(audit.map((e) => e.outcome)).toContain('muted (maintenance by olga)');
    const muted = await c.run('/cluster status');
    expect(muted.fields?.find((f) => f.label === 'Alerts')?.value).toMatch(/node down \(readonly\).*not posted: muted/);

    const off = await c.run('/cluster maintenance off', principal('olga'));
    expect(off.title).toBe('Maintenance off: alerts resume');
    const posted = await rec.waitFor(isAlert('post', key, 'firing'), 'the muted alert, posted after maintenance', { after: mark });
    expect(posted.reply.text).toMatch(/Muted by maintenance since/);
    expect((await c.run('/cluster status')).fields?.some((f) => f.label === 'Maintenance')).toBe(false);

    await c.app.services.runtime.start(node('readonly'));
    await rec.waitFor(isAlert('thread', key, 'resolved'), 'node-down resolution', { after: mark });
  });

  it('reports split brain, naming both writable nodes, when a standby is promoted behind the bot', async () => {
    expect((await allStreaming()).ok).toBe(true);
    const mark = rec.mark();
    await c.sql('standby', 'SELECT pg_promote()');
    const alert = await rec.waitFor(isAlert('post', 'split_brain:cluster'), 'split-brain alert', { after: mark });
    expect(alert.reply.severity).toBe('crit');
    expect(alert.reply.title).toBe('SPLIT BRAIN: primary and standby both accept writes');
    expect(alertOf(alert)!.value).toBe('2 writable primaries: primary, standby');
    expect(alert.reply.text).toMatch(/Next step: decide which node keeps the writes/);
    expect(alert.reply.buttons).toBeUndefined();
  });
});

function warn_ref(rec: RecordingAdapter, key: string, mark: number): number {
  return rec.since(mark).find(isAlert('post', key, 'firing'))!.ref;
}

