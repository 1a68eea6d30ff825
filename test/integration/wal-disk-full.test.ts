// The primary's WAL disk fills up (its pg_wal on a small tmpfs, a filler file takes the rest) under
// a write load. Measured on PostgreSQL 15: the next WAL segment cannot be created, the writing
// session PANICs, crash recovery fails on the same full disk and the instance shuts itself down.
// The monitor's alert must name that cause ("disk full — … No space left on device"), and one
// confirmed failover must give a writable primary, never two writable nodes on the way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/reply.js';
import { nodeIn, waitFor } from '../../src/cluster/wait.js';
import { startMonitoring } from '../../src/monitor/index.js';
import type { LocalRuntime } from '../../src/runtime/local.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { WritableWatcher, WriteLoad } from '../helpers/load.js';
import { isAlert, RecordingAdapter } from '../helpers/recording-adapter.js';
import { walOnTmpfs, type WalDisk } from '../helpers/wal-disk.js';

const field = (r: Reply, label: string) => r.fields?.find((f) => f.label === label)?.value ?? '';
const NO_SPACE = /disk full \(PANIC: could not write to file "pg_wal\/xlogtemp\.\d+": No space left on device\)/;

describe("the primary's WAL disk full (real cluster, a full tmpfs under pg_wal)", () => {
  let c: TestCluster;
  let disk: WalDisk | undefined;
  let watcher: WritableWatcher | undefined;
  const rec = new RecordingAdapter();

  beforeAll(async () => {
    c = await startTestCluster({ env: { MONITOR_INTERVAL_SECONDS: '1', HEALTH_REPORT_CRON: 'off' } });
    await c.sql('primary', 'CREATE TABLE proyecto.carga (id bigint PRIMARY KEY, nodo text NOT NULL)');
    await c.sql('primary', 'CREATE TABLE proyecto.relleno (pad text)');
    disk = await walOnTmpfs(c.app.services.runtime as LocalRuntime, c.app.services.node('primary'));
    const ready = await waitFor(c.app.services.snapshot, (s) => s.primary === 'primary' && nodeIn(s, 'standby').streaming && nodeIn(s, 'readonly').streaming, 60_000);
    expect(ready.ok, 'the cluster streams again with pg_wal on its own disk').toBe(true);
    c.app.notifier.add(rec);
    await startMonitoring(c.app);
    await c.app.services.monitor.running!.settle();
    watcher = new WritableWatcher(c.config).start();
  });
  afterAll(async () => {
    try {
      await watcher?.stop();
      await c?.destroy();
    } finally {
      disk?.unmount();
    }
  });

  it('under write load: the alert names the full disk, the card too, and one confirmation fails over to the standby', async () => {
    const load = new WriteLoad(c.config, 1).start();
    try {
      await load.waitAcked(50);
      const mark = rec.mark();
      disk!.fill();
      expect(disk!.freeBytes()).toBeLessThan(1024 * 1024);
      // WAL faster than the small inserts write it: the current segment ends and the next cannot be made.
      let churnError = '';
      for (let i = 0; i < 50 && !churnError; i++) {
        await c.sql('primary', "INSERT INTO proyecto.relleno SELECT repeat('x', 2000) FROM generate_series(1, 2000)").catch((e: Error) => (churnError = e.message));
      }
      expect(churnError, 'writes on the primary fail once its WAL disk is full').not.toBe('');
      const failedAt = Date.now();

      const alert = await rec.waitFor(isAlert('post', 'primary_down:primary'), 'the primary-down alert', { after: mark, timeoutMs: 60_000 });
      console.log(`[timing] first failed write → alert naming the full disk: ${alert.at - failedAt} ms`);
      expect(alert.reply.severity).toBe('crit');
      expect(field(alert.reply, 'Value')).toMatch(NO_SPACE);
      expect(alert.reply.text).toMatch(/Next step: free space on primary's full disk/);

      const status = await c.run('/cluster status');
      const row = status.tables![0].rows.find((r) => r[0] === 'primary')!;
      expect(row[2]).toMatch(NO_SPACE);

      const card = await c.run('/cluster failover');
      expect(card.failed, card.text).toBeFalsy();
      expect(field(card, 'Current primary')).toMatch(/^primary( is down \(|: process running but ).*disk full \(PANIC: .*No space left on device/);
      const done = await c.press(card.buttons!.find((b) => b.label === 'Promote standby')!.actionId);
      expect(done.failed, done.text).toBeFalsy();
      expect(done.title).toMatch(/^Failover done — standby is the primary/);
      const after = load.acked.size;
      await load.waitAcked(20);
      const onStandby = await c.sql<{ n: number }>('standby', "SELECT count(*)::int AS n FROM proyecto.carga WHERE nodo = 'standby'");
      expect(onStandby[0].n, `acked before the failover: ${after}`).toBeGreaterThan(0);
      expect(await c.app.services.runtime.isFenced(c.app.services.node('primary'))).toBe(true);
    } finally {
      await load.stop();
    }
    expect(watcher!.samples.length).toBeGreaterThan(10);
    expect(watcher!.maxWritable, 'never two writable nodes').toBe(1);
  });
});
