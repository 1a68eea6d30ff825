// Bounded probes on a real cluster with frozen instances (SIGSTOP of the postmaster and every child,
// as a stalled disk or a frozen VM leaves them, or of the children only): /cluster status, the
// failover confirmation card and the monitor answer with every other node's data and name the frozen
// ones "no answer (frozen: …)" (the runtime sees the stopped postmaster: no wait at all) or "no answer
// (timed out after N ms)" (the round's one deadline). PG_QUERY_TIMEOUT_MS is ten minutes here (a long query timeout is a fair
// setting), so only the round's one deadline can bound a probe that lands on a connection the pool
// opened before the freeze.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { freeze as sigstop, instancePids, procState, thaw } from '../helpers/freeze.js';
import { isAlert, RecordingAdapter } from '../helpers/recording-adapter.js';
import { eventually } from '../helpers/wait.js';
import { nodeIn, waitFor } from '../../src/cluster/wait.js';
import { startMonitoring } from '../../src/monitor/index.js';
import type { LocalRuntime } from '../../src/runtime/local.js';

interface NodeRow {
  name: string;
  up: boolean;
  role: string;
  error: string | null;
  lsn: string | null;
  timeline: number | null;
  streaming: boolean;
}

const TIMED_OUT = /^no answer \(timed out after \d+ ms\)$/;
const SEEN_FROZEN = /^no answer \(frozen: its postmaster \d+ is stopped \(SIGSTOP\)\)$/;

describe('probes while whole instances are frozen (real cluster, SIGSTOP)', () => {
  let c: TestCluster;
  let frozen: number[][] = [];
  const node = (name: string) => c.app.services.node(name);
  const allStreaming = () =>
    waitFor(c.app.services.snapshot, (s) => s.primary === 'primary' && nodeIn(s, 'standby').streaming && nodeIn(s, 'readonly').streaming, 60_000);

  /**
   * Freeze a node after making sure the pool holds an open connection to it (the hard case): the whole
   * instance, or only the postmaster's children (the postmaster answers, the pooled backend never does).
   */
  async function freeze(name: string, only: 'instance' | 'children' = 'instance'): Promise<number[]> {
    const pool = c.app.services.pools.pool(node(name));
    await eventually(`an idle pooled connection to ${name}`, async () => {
      await c.sql(name, 'SELECT 1');
      return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
    }, (p) => p.idle >= 1 && p.waiting === 0);
    const all = instancePids((c.app.services.runtime as LocalRuntime).paths(node(name)).data);
    const pids = only === 'instance' ? all : all.slice(1);
    sigstop(pids);
    frozen.push(pids);
    expect(pids.length, `${name}: the processes of the instance`).toBeGreaterThan(3);
    await eventually(`every process of ${name} stopped (T)`, () => pids.map(procState), (st) => st.every((x) => x === 'T'));
    return pids;
  }

  beforeAll(async () => {
    c = await startTestCluster({ env: { PG_QUERY_TIMEOUT_MS: '600000', MONITOR_INTERVAL_SECONDS: '1', HEALTH_REPORT_CRON: 'off' } });
    expect((await allStreaming()).ok).toBe(true);
  });
  afterEach(async () => {
    for (const pids of frozen) thaw(pids);
    frozen = [];
    if (c) expect((await allStreaming()).ok, 'every node answers again after SIGCONT').toBe(true);
  });
  afterAll(async () => {
    for (const pids of frozen) thaw(pids);
    await c?.destroy();
  });

  it('status and the failover card answer with the others in full and name both frozen nodes as not answering', async () => {
    // readonly: its children frozen, so only the round's deadline ends the probe; primary: the whole
    // instance, which the runtime sees stopped, so its probe ends at once.
    await freeze('readonly', 'children');
    await freeze('primary');

    const status = await c.run('/cluster status');
    const byName = Object.fromEntries((status.data as { nodes: NodeRow[] }).nodes.map((n) => [n.name, n]));
    expect(byName.primary).toMatchObject({ up: false, role: 'down' });
    expect(byName.primary.error).toMatch(SEEN_FROZEN);
    expect(byName.readonly).toMatchObject({ up: false, role: 'down' });
    expect(byName.readonly.error).toMatch(TIMED_OUT);
    expect(byName.standby).toMatchObject({ up: true, role: 'replica', timeline: 1 });
    expect(byName.standby.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    const table = status.tables![0].rows.map((r) => r.join(' | ')).join('\n');
    expect(table).toMatch(/primary \| down \| no answer \(frozen: its postmaster \d+ is stopped \(SIGSTOP\)\)/);
    expect(table).toMatch(/readonly \(no failover\) \| down \| no answer \(timed out after \d+ ms\)/);

    const card = await c.run('/cluster failover');
    expect(card.failed, card.text).toBeFalsy();
    expect(card.title).toBe('Confirm: fail over to standby');
    const fields = Object.fromEntries(card.fields!.map((f) => [f.label, f.value]));
    expect(fields.Target).toMatch(/^standby \(127\.0\.0\.1:\d+, timeline 1\)$/);
    expect(fields['Current primary']).toMatch(/^primary: process running but no answer \(frozen: its postmaster \d+ is stopped \(SIGSTOP\)\) — it will be stopped and fenced$/);
    expect(fields['Will be fenced']).toMatch(/^primary /);
    expect(card.buttons?.map((b) => b.label)).toContain('Promote standby');
    // Only the card: nothing was fenced or promoted.
    expect(await c.app.services.runtime.isFenced(node('primary'))).toBe(false);
    expect(byName.standby.role).toBe('replica');
    await c.press(card.buttons!.find((b) => b.label === 'Cancel')!.actionId);
  });

  it('the monitor keeps its rhythm while a node is frozen: "node down" names it not answering, and resolves after SIGCONT', async () => {
    const rec = new RecordingAdapter();
    c.app.notifier.add(rec);
    await startMonitoring(c.app);
    const monitor = c.app.services.monitor.running!;
    await monitor.settle();
    const mark = rec.mark();
    const pids = await freeze('readonly');
    const alert = await rec.waitFor(isAlert('post', 'node_down:readonly'), 'the node-down alert for the frozen readonly', { after: mark, timeoutMs: 60_000 });
    const fields = Object.fromEntries(alert.reply.fields!.map((x) => [x.label, x.value]));
    expect(fields.Value).toMatch(/^not answering: no answer \(frozen: its postmaster \d+ is stopped \(SIGSTOP\)\)$/);
    // Not one alert about the nodes that do answer.
    expect(rec.since(mark).filter((e) => e.kind === 'post').map((e) => (e.reply.data as { alert?: { key: string } })?.alert?.key)).toEqual(['node_down:readonly']);
    const ticks = monitor.health().ticks;
    await eventually('two more monitor loops while readonly stays frozen', () => monitor.health().ticks, (t) => t >= ticks + 2, { timeoutMs: 60_000 });
    thaw(pids);
    await rec.waitFor(isAlert('thread', 'node_down:readonly', 'resolved'), 'the resolution after SIGCONT', { after: mark, timeoutMs: 60_000 });
    await monitor.stop();
  });
});
