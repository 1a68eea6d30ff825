// What the monitor exposes: Prometheus /metrics and /healthz, the /cluster lag PNG chart (live and
// from saved samples), the scheduled health report, and alert state that survives a restart.
import { existsSync, readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principal, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { isAlert, RecordingAdapter } from '../helpers/recording-adapter.js';
import { eventually } from '../helpers/wait.js';
import { HttpServer } from '../../src/http/server.js';
import { observeFailoverStep, startMonitoring, stopMonitoring } from '../../src/monitor/index.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parse Prometheus text exposition format strictly: every sample line must parse and have a TYPE. */
function parseProm(text: string): Sample[] {
  const typed = new Set<string>();
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) typed.add(type[1]);
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|[Nn]a[Nn]|[+-]Inf)(?: \d+)?$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    const family = m[1].replace(/_(bucket|sum|count)$/, '');
    if (!typed.has(m[1]) && !typed.has(family)) throw new Error(`sample without # TYPE: ${m[1]}`);
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

function pick(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** Decode a PNG far enough to prove it is one: signature, IHDR, and inflated pixel rows of the right size. */
function decodePng(buf: Buffer): { width: number; height: number } {
  expect(buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (;;) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect(data[8]).toBe(8);
      channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[data[9]] ?? 0;
    }
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
    if (type === 'IEND') break;
  }
  expect(channels).toBeGreaterThan(0);
  expect(inflateSync(Buffer.concat(idat)).length).toBe(height * (1 + width * channels));
  return { width, height };
}

describe('monitor metrics, health, lag chart and reports', () => {
  let c: TestCluster;
  let rec: RecordingAdapter;
  let http: HttpServer;
  let base: string;
  const node = (name: string) => c.app.services.node(name);
  const metrics = async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseProm(await res.text());
  };
  beforeAll(async () => {
    c = await startTestCluster({
      env: { MONITOR_INTERVAL_SECONDS: '0.5', LAG_HISTORY_HOURS: '1', HEALTH_REPORT_CRON: '*/2 * * * * *', NOT_STREAMING_WARN_SECONDS: '60' },
    });
    rec = new RecordingAdapter();
    c.app.notifier.add(rec);
    http = new HttpServer(c.app.services.log);
    await startMonitoring(c.app, { http });
    base = `http://127.0.0.1:${await http.listen(c.config.HTTP_PORT, '127.0.0.1')}`;
  });
  afterAll(async () => {
    await http?.close();
    await c?.destroy();
  });

  it('serves /metrics as Prometheus text with correct per-node gauges', async () => {
    const m = await eventually('the first monitor loop', metrics, (s) => pick(s, 'clusterbot_node_up', { node: 'readonly' }) !== undefined);
    for (const n of ['primary', 'standby', 'readonly']) {
      expect(pick(m, 'clusterbot_node_up', { node: n }), n).toBe(1);
      expect(pick(m, 'clusterbot_node_timeline', { node: n }), n).toBe(1);
    }
    expect(pick(m, 'clusterbot_node_role', { node: 'primary', role: 'primary' })).toBe(1);
    expect(pick(m, 'clusterbot_node_role', { node: 'primary', role: 'replica' })).toBe(0);
    expect(pick(m, 'clusterbot_node_role', { node: 'standby', role: 'replica' })).toBe(1);
    expect(pick(m, 'clusterbot_replication_lag_bytes', { node: 'primary' })).toBeUndefined();
    expect(pick(m, 'clusterbot_replication_lag_seconds', { node: 'standby' })).toBeGreaterThanOrEqual(0);
    expect(pick(m, 'clusterbot_wal_archiver_failing', { node: 'primary' })).toBe(0);
    expect(pick(m, 'clusterbot_wal_archiver_failed_count', { node: 'primary' })).toBe(0);
    expect(pick(m, 'clusterbot_writable_nodes')).toBe(1);
    expect(pick(m, 'clusterbot_alerts_firing', { severity: 'crit' })).toBe(0);
    expect(pick(m, 'clusterbot_maintenance_mode')).toBe(0);
    expect(pick(m, 'clusterbot_monitor_last_success_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 30);

    // Lag in bytes is the real replay gap: pause replay on standby and write about 4 MB.
    await c.sql('primary', 'CREATE TABLE IF NOT EXISTS filler (pad text)');
    await c.sql('standby', 'SELECT pg_wal_replay_pause()');
    try {
      await c.sql('primary', "INSERT INTO filler SELECT repeat('z', 1000) FROM generate_series(1, 4000)");
      const lagged = await eventually('standby lag in /metrics', metrics, (s) => (pick(s, 'clusterbot_replication_lag_bytes', { node: 'standby' }) ?? 0) > 3_000_000);
      const snap = await c.app.services.snapshot();
      const truth = snap.nodes.find((n) => n.name === 'standby')!.lagBytes!;
      // Replay is paused and nothing else writes much: the gauge matches the cluster within one loop's WAL.
      expect(Math.abs(pick(lagged, 'clusterbot_replication_lag_bytes', { node: 'standby' })! - truth)).toBeLessThan(256 * 1024);
    } finally {
      await c.sql('standby', 'SELECT pg_wal_replay_resume()');
    }

    await c.app.services.runtime.stop(node('readonly'));
    const down = await eventually('readonly down in /metrics', metrics, (s) => pick(s, 'clusterbot_node_up', { node: 'readonly' }) === 0);
    expect(pick(down, 'clusterbot_node_role', { node: 'readonly', role: 'down' })).toBe(1);
    expect(pick(down, 'clusterbot_node_timeline', { node: 'readonly' })).toBeUndefined();
    expect(pick(down, 'clusterbot_alerts_firing', { severity: 'warn' })).toBeGreaterThanOrEqual(1);
    await c.app.services.runtime.start(node('readonly'));
    await eventually('readonly back in /metrics', metrics, (s) => pick(s, 'clusterbot_node_up', { node: 'readonly' }) === 1);

    observeFailoverStep('promote', 320);
    const after = await metrics();
    expect(pick(after, 'clusterbot_failover_step_duration_seconds_count', { step: 'promote' })).toBeGreaterThanOrEqual(1);
    expect(pick(after, 'clusterbot_failover_step_duration_seconds_bucket', { step: 'promote', le: '0.5' })).toBeGreaterThanOrEqual(1);
  });

  it('reports the monitor\'s own health on /healthz', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    const h = (await res.json()) as { status: string; lastSuccessAgeSeconds: number; staleAfterSeconds: number; intervalSeconds: number; ticks: number };
    expect(h.status).toBe('ok');
    expect(h.intervalSeconds).toBe(0.5);
    expect(h.ticks).toBeGreaterThan(0);
    expect(h.lastSuccessAgeSeconds).toBeLessThanOrEqual(h.staleAfterSeconds);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('posts the health report (the compact status card) on its schedule', async () => {
    const report = await rec.waitFor((e) => e.kind === 'post' && e.channel === 'reports', 'health report');
    expect(report.reply.title).toMatch(/^Health report — primary primary, \d\/2 replicas streaming/);
    expect(report.reply.tables?.[0].columns).toEqual(['node', 'role', 'state', 'lag (bytes / time)']);
    expect(report.reply.tables?.[0].rows.map((r) => r[0])).toEqual(['primary', 'standby', 'readonly (no failover)']);
    expect(report.reply.fields?.map((f) => f.label)).toEqual(expect.arrayContaining(['WAL archiver', 'Alerts']));
    expect((report.reply.data as { report: string }).report).toBe('health');
  });

  it('/cluster lag 10m renders a valid PNG with one series per replica', async () => {
    const monitor = c.app.services.monitor.running!;
    await eventually('five lag samples', async () => monitor.history.size, (n) => n >= 5);
    const reply = await c.run('/cluster lag 10m', principal('victor'));
    expect(reply.failed).toBeFalsy();
    expect(reply.title).toBe('Replication lag, last 10 min');
    expect(reply.image?.path).toMatch(/\.png$/);
    const png = decodePng(readFileSync(reply.image!.path));
    const data = reply.data as { series: Array<{ node: string; points: number; maxBytes: number }>; png: { width: number; height: number }; svg: string; source: string };
    expect(png).toEqual({ width: 960, height: 560 });
    expect(data.png).toMatchObject(png);
    expect(data.source).toBe('monitor');
    expect(data.series.map((s) => s.node)).toEqual(['standby', 'readonly']);
    expect(data.series.every((s) => s.points >= 3), JSON.stringify(data.series)).toBe(true);
    // The paused replay above shows in the chart as a lag peak of the standby.
    expect(data.series[0].maxBytes).toBeGreaterThan(3_000_000);
    const svg = readFileSync(data.svg, 'utf8');
    const paths = [...svg.matchAll(/<path class="series" data-node="([^"]+)" data-panel="([^"]+)" d="([^"]*)"/g)];
    expect(paths.map((p) => `${p[1]}/${p[2]}`).sort()).toEqual(['readonly/bytes', 'readonly/seconds', 'standby/bytes', 'standby/seconds']);
    expect(paths.every((p) => p[3].split('L').length >= 3)).toBe(true);

    for (const [text, pattern] of [
      ['/cluster lag soon', /window "soon" is not a duration like 30m/],
      ['/cluster lag 30s', /window must be between 1m and 1h/],
    ] as const) {
      const r = await c.run(text);
      expect(r.failed, text).toBe(true);
      expect(r.text, text).toMatch(pattern);
    }
  });

  it('keeps alert state across a monitor restart without re-posting, and /cluster lag works from saved samples', async () => {
    const key = 'node_down:readonly';
    const mark = rec.mark();
    await c.app.services.runtime.stop(node('readonly'));
    const first = await rec.waitFor(isAlert('post', key, 'firing'), 'node-down alert', { after: mark });
    const saved = c.app.services.monitor.running!.history.size;

    await stopMonitoring(c.app.services);
    expect((await fetch(`${base}/healthz`)).status).toBe(503);
    // Like a one-shot `clusterbot run`: no monitor in this process, the saved history plus one sample now.
    const oneShot = await c.run('/cluster lag 10m');
    expect(oneShot.failed).toBeFalsy();
    expect((oneShot.data as { source: string; samples: number }).source).toBe('saved');
    expect((oneShot.data as { samples: number }).samples).toBeGreaterThanOrEqual(saved);
    decodePng(readFileSync(oneShot.image!.path));
    const status = await c.run('/cluster status');
    expect(status.fields?.find((f) => f.label === 'Alerts')?.value).toMatch(/1 firing: node down \(readonly\)/);

    const restartMark = rec.mark();
    await startMonitoring(c.app, { http });
    const monitor = c.app.services.monitor.running!;
    for (let i = 0; i < 4; i++) {
      monitor.kick('test');
      await monitor.settle();
    }
    expect(monitor.alerts.state.alerts[key]).toBeDefined();
    expect(rec.since(restartMark).filter((e) => e.kind === 'post' && e.channel === 'alerts')).toEqual([]);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    await c.app.services.runtime.start(node('readonly'));
    const resolved = await rec.waitFor(isAlert('thread', key, 'resolved'), 'resolution after the restart', { after: restartMark });
    expect(resolved.threadOf).toBe(first.ref);
    expect(existsSync(`${c.home}/monitor/alerts.json`)).toBe(true);
  });
});
