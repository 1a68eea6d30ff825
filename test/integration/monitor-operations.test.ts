// The monitor during the bot's own operations: a confirmed failover stops the primary on purpose, so no
// "Primary down" (with its "Start failover…" button) is posted mid-operation; what is true afterwards is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principal, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { alertOf, isAlert, RecordingAdapter } from '../helpers/recording-adapter.js';
import { startMonitoring } from '../../src/monitor/index.js';
import type { Monitor } from '../../src/monitor/monitor.js';

describe('alerts while the bot runs a failover', () => {
  let c: TestCluster;
  let rec: RecordingAdapter;
  let monitor: Monitor;

  beforeAll(async () => {
    c = await startTestCluster({ env: { MONITOR_INTERVAL_SECONDS: '0.2', HEALTH_REPORT_CRON: 'off' } });
    rec = new RecordingAdapter();
    c.app.notifier.add(rec);
    await startMonitoring(c.app);
    monitor = c.app.services.monitor.running!;
    await monitor.settle();
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('posts no "Primary down" while a confirmed failover stops the primary; afterwards the fenced old primary is one warning', async () => {
    const mark = rec.mark();
    const card = await c.run('/cluster failover');
    expect(card.buttons?.[0].label).toBe('Promote standby');
    const done = await c.press(card.buttons![0].actionId, principal('alice'));
    expect(done.failed, done.text).toBeFalsy();
    // Once the failover is over, the state that remains is reported: the old primary, down and fenced.
    const down = await rec.waitFor(isAlert('post', 'node_down:primary', 'firing'), 'the node-down warning for the fenced old primary', { after: mark });
    expect(down.reply.text).toMatch(/down and fenced after a failover/);
    expect(rec.since(mark).filter((e) => ['primary_down', 'no_primary'].includes(alertOf(e)?.rule ?? ''))).toEqual([]);
  });
});
