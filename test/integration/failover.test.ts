// The heart of clusterbot on a real cluster: kill -9 the primary under a write load, confirm the
// failover card, restart the old primary (fenced), rejoin it, switch back with zero loss, and a
// failover where the no-failover node is ahead of the target. A watcher polls every node all along.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/reply.js';
import { principal, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { WritableWatcher, WriteLoad } from '../helpers/load.js';
import type { LocalRuntime } from '../../src/runtime/local.js';

interface StatusData {
  primary: string | null;
  writable: string[];
  nodes: Array<{ name: string; role: string; up: boolean; streaming: boolean; upstream: string | null; fenced: boolean; timeline: number | null }>;
}
interface OpData {
  ok: boolean;
  confirmedBy: string;
  newPrimary: string;
  writeEndpoint: string;
  steps: Array<{ step: string; ms: number; ok: boolean; detail: string }>;
  totalMs: number;
  warnings: string[];
}

const LIMIT = 1024 * 1024;

describe('failover, rejoin and switchover on a real cluster', () => {
  let c: TestCluster;
  let watcher: WritableWatcher;
  const status = async () => (await c.run('/cluster status')).data as StatusData;
  const node = (s: StatusData, name: string) => s.nodes.find((n) => n.name === name)!;
  const field = (r: Reply, label: string) => r.fields?.find((f) => f.label === label)?.value ?? '';

  beforeAll(async () => {
    c = await startTestCluster({ env: { REQUIRE_SECOND_APPROVER: 'true', FAILOVER_MAX_LAG_BYTES: String(LIMIT) } });
    await c.sql('primary', 'CREATE TABLE proyecto.carga (id bigint PRIMARY KEY, nodo text NOT NULL, at timestamptz NOT NULL DEFAULT now())');
    watcher = new WritableWatcher(c.config).start();
  });
  // The kernel gives a dead postmaster's pid to the next program (pid_max is 32768 here): PostgreSQL
  // takes any live pid in postmaster.pid for a running postmaster and refuses to start.
  let recycled: ChildProcess | undefined;
  afterAll(async () => {
    recycled?.kill('SIGKILL');
    await watcher?.stop();
    await c?.destroy();
  });

  it('kill -9 under write load → card → one confirmation promotes the standby; readonly follows it', async () => {
    const load = new WriteLoad(c.config, 1).start();
    try {
      await load.waitAcked(100);
      await c.app.services.runtime.kill(c.app.services.node('primary'));
      // Its pid recycled: another program of the same user (PostgreSQL ignores other users' pids) now
      // runs under the pid its stale postmaster.pid names.
      const lock = `${(c.app.services.runtime as LocalRuntime).paths(c.app.services.node('primary')).data}/postmaster.pid`;
      const owner = statSync(lock);
      recycled = spawn('sleep', ['600'], { stdio: 'ignore', uid: owner.uid, gid: owner.gid });
      const lines = readFileSync(lock, 'utf8').split('\n');
      writeFileSync(lock, [String(recycled.pid), ...lines.slice(1)].join('\n'));
      const card = await c.run('/cluster failover');
      expect(card.failed).toBeFalsy();
      expect(card.buttons?.map((b) => b.label)).toEqual(['Promote standby', 'Cancel']);
      expect(field(card, 'Target')).toMatch(/^standby \(127\.0\.0\.1:\d+, timeline 1\)/);
      expect(field(card, 'Target lag')).toMatch(/\d+ bytes/);
      expect(field(card, 'Data at risk')).toMatch(/^at least .*\d+ bytes/);
      expect(field(card, 'Current primary')).toMatch(/^primary is down/);
      expect(field(card, 'Will be fenced')).toMatch(/^primary \(stopped if running/);
      const id = card.buttons![0].actionId;

      expect((await c.press(id, principal('victor'))).text).toMatch(/victor is a viewer; only an admin can confirm/);
      expect((await c.press(id, principal('olga'))).text).toMatch(/olga is an? operator; only an admin can confirm/);
      expect((await c.press(id, c.admin)).text).toMatch(/two-person rule \(REQUIRE_SECOND_APPROVER\): tester asked for this/);

      const edits: Reply[] = [];
      const [a, b] = await Promise.all([
        c.press(id, principal('alice'), { progress: async (r) => void edits.push(r) }),
        c.press(id, principal('bob'), { progress: async (r) => void edits.push(r) }),
      ]);
      const [won, lost] = a.failed ? [b, a] : [a, b];
      expect(lost.failed).toBe(true);
      expect(lost.text).toMatch(/fail over to standby: already confirmed by (alice|bob)/);
      expect(won.failed, won.text).toBeFalsy();
      expect(won.title).toMatch(/^Failover done — standby is the primary/);
      const data = won.data as OpData;
      expect(data.confirmedBy).toMatch(/alice|bob/);
      expect(data.steps.map((s) => s.step)).toEqual(expect.arrayContaining(['preflight', 'fence primary', 'promote standby', 'verify write', 're-point readonly']));
      expect(data.steps.every((s) => s.ok && Number.isInteger(s.ms))).toBe(true);
      // Done only once readonly follows: the card and the steps say after how long.
      expect(data.steps.find((s) => s.step === 'readonly streaming')?.detail).toMatch(/^readonly streaming after \d+ ms \(from standby, timeline 2\)$/);
      expect(won.tables?.[0].rows.some((r) => r[1] === 'readonly streaming' && /^readonly streaming after \d+ ms/.test(r[3]))).toBe(true);
      expect(data.writeEndpoint).toBe(`127.0.0.1:${c.app.services.node('standby').port}`);
      expect(won.text).toMatch(/primary is fenced: it can only start read-only — \/cluster rejoin primary/);
      expect(edits.length).toBeGreaterThan(3);
      expect(edits.some((e) => /Failover: in progress/.test(e.title))).toBe(true);
      // exactly one promotion: one audit event, and one timeline switch
      const events = c.app.services.audit.tail(50).filter((e) => e.kind === 'event' && e.command === 'failover');
      expect(events).toHaveLength(1);

      const s = await status();
      expect(s.writable).toEqual(['standby']);
      expect(node(s, 'standby').timeline).toBe(2);
      expect(node(s, 'readonly')).toMatchObject({ role: 'replica', streaming: true, upstream: 'standby', timeline: 2 });
      expect(node(s, 'primary')).toMatchObject({ up: false, fenced: true });
      await load.waitAcked(50); // the load found the new primary
      const onStandby = await c.sql<{ n: number }>('standby', "SELECT count(*)::int AS n FROM proyecto.carga WHERE nodo = 'standby'");
      expect(onStandby[0].n).toBeGreaterThan(0);
      await c.app.services.audit.flush();
      const mirrored = await c.sql('standby', "SELECT evento FROM proyecto.logs_replicacion WHERE evento LIKE 'event failover%'");
      expect(mirrored.length).toBe(1);
    } finally {
      await load.stop();
    }
    // Failover loses at most what the standby had not received; report it for the record.
    const present = await c.sql<{ id: string }>('standby', 'SELECT id FROM proyecto.carga');
    const have = new Set(present.map((r) => Number(r.id)));
    const lostRows = [...load.acked].filter((id) => !have.has(id)).length;
    console.log(`failover: ${load.acked.size} acked inserts, ${lostRows} lost with the dead primary`);
  });

  it('restarting the killed old primary (its pid since taken by another program) gives no second writable node; status shows it fenced', async () => {
    const started = await c.run('/cluster start primary', principal('olga'));
    expect(started.text).toMatch(/^primary started read-only: FENCED \(a former primary\), it cannot accept writes — \/cluster rejoin primary/);
    const s = await status();
    expect(s.writable).toEqual(['standby']);
    expect(node(s, 'primary')).toMatchObject({ fenced: true });
    expect(node(s, 'primary').role).not.toBe('primary');
    const card = await c.run('/cluster status');
    expect(card.fields?.find((f) => f.label === 'Fenced')?.value).toMatch(/^primary: a former primary, kept read-only — \/cluster rejoin primary makes it a replica of standby/);
    expect(card.tables![0].rows.find((r) => r[0] === 'primary')![2]).toMatch(/FENCED/);
    await expect(c.sql('primary', "INSERT INTO proyecto.carga (id, nodo) VALUES (-1, 'primary')")).rejects.toThrow(/read-only/);
  });

  it('/cluster rejoin primary (an operator) makes it a streaming replica of the new primary', async () => {
    const r = await c.run('/cluster rejoin primary', principal('olga'));
    expect(r.failed, `${r.title}\n${r.text}\n${JSON.stringify((r.data as OpData | undefined)?.steps, null, 1)}`).toBeFalsy();
    expect(r.title).toMatch(/^Rejoin primary done — primary follows standby/);
    expect((r.data as OpData).steps.map((s) => s.step)).toEqual(['rewind primary', 'primary streaming', 'unfence primary']);
    expect((r.data as OpData).steps[1].detail).toMatch(/^primary streaming after \d+ ms \(from standby, timeline 2\)$/);
    const s = await status();
    expect(node(s, 'primary')).toMatchObject({ role: 'replica', streaming: true, upstream: 'standby', fenced: false, timeline: 2 });
    expect(s.writable).toEqual(['standby']);
  });

  it('/cluster switchover primary moves the role back with zero lost committed transactions', async () => {
    const load = new WriteLoad(c.config, 1_000_000).start();
    let data: OpData;
    try {
      await load.waitAcked(100);
      const card = await c.run('/cluster switchover primary', principal('bob'));
      expect(card.buttons?.[0].label).toBe('Switch over to primary');
      const r = await c.press(card.buttons![0].actionId, principal('alice'));
      expect(r.failed, `${r.title}\n${r.text}\n${JSON.stringify((r.data as OpData | undefined)?.steps, null, 1)}`).toBeFalsy();
      data = r.data as OpData;
      expect(r.title).toMatch(/^Switchover done — primary is the primary/);
      await load.waitAcked(100);
    } finally {
      await load.stop();
    }
    expect(data.steps.map((s) => s.step)).toEqual(expect.arrayContaining(['stop standby (clean)', 'shutdown checkpoint', 'primary replayed it', 'promote primary', 'standby → replica', 'readonly streaming']));
    expect(data.steps.find((s) => s.step === 'standby → replica')?.detail).toMatch(/^standby streaming after \d+ ms \(from primary, timeline 3\)$/);
    expect(data.steps.find((s) => s.step === 'readonly streaming')?.detail).toMatch(/^readonly streaming after \d+ ms \(from primary, timeline 3\)$/);
    const rows = await c.sql<{ id: string }>('primary', 'SELECT id FROM proyecto.carga WHERE id >= 1000000');
    const have = new Set(rows.map((x) => Number(x.id)));
    const lost = [...load.acked].filter((id) => !have.has(id));
    const unexplained = [...have].filter((id) => !load.acked.has(id) && !load.inDoubt.has(id));
    console.log(`switchover: ${load.acked.size} acked, ${rows.length} rows, ${load.inDoubt.size} in doubt, ${data.totalMs} ms`, data.steps.map((s) => `${s.step}=${s.ms}ms`).join(' '));
    expect(lost).toEqual([]);
    expect(unexplained).toEqual([]);
    expect(rows.length - [...have].filter((id) => load.inDoubt.has(id)).length).toBe(load.acked.size);
    const s = await status();
    expect(s.writable).toEqual(['primary']);
    expect(node(s, 'standby')).toMatchObject({ role: 'replica', streaming: true, upstream: 'primary', fenced: false });
    expect(node(s, 'readonly')).toMatchObject({ role: 'replica', streaming: true, upstream: 'primary' });
  });

  it('offers a catch-up when the no-failover node is ahead; with `force` it warns of the loss and rewinds that node onto the new timeline', async () => {
    await c.sql('standby', "ALTER SYSTEM SET primary_conninfo = ''");
    await c.sql('standby', 'SELECT pg_reload_conf()');
    for (let i = 0; i < 100 && node(await status(), 'standby').streaming; i++) await new Promise((r) => setTimeout(r, 100));
    await c.sql('primary', "CREATE TABLE proyecto.relleno AS SELECT g AS id, repeat('x', 500) AS pad FROM generate_series(1, 5000) g");
    const want = (await c.sql<{ l: string }>('primary', 'SELECT pg_current_wal_lsn()::text AS l'))[0].l;
    for (let i = 0; i < 100; i++) {
      const r = await c.sql<{ ok: boolean }>('readonly', 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [want]);
      if (r[0].ok) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    await c.app.services.runtime.kill(c.app.services.node('primary'));

    // Without force, standby would first catch up from readonly (tested in failover-catchup.test.ts).
    const offer = await c.run('/cluster failover');
    expect(offer.text).toMatch(/standby will first catch up .* from readonly, then be promoted: 0 bytes lost among the nodes that are still up/);
    expect((await c.press(offer.buttons![1].actionId)).title).toMatch(/^Cancelled/);
    const card = await c.run('/cluster failover standby force');
    expect(card.text).toMatch(/readonly \(no-failover node\) has received .* \(\d+ bytes\) more WAL than standby: that WAL is lost with this failover/);
    // A second card for the same failover, confirmed at the same moment: the operation lock lets one run.
    const card2 = await c.run('/cluster failover standby force');
    const [r1, r2] = await Promise.all([c.press(card.buttons![0].actionId, principal('bob')), c.press(card2.buttons![0].actionId, principal('alice'))]);
    const [r, other] = r1.failed ? [r2, r1] : [r1, r2];
    expect(other.failed).toBe(true);
    expect(other.text).toMatch(/^failover is already in progress, started by (alice|bob)|^standby is already the writable primary/);
    expect(r.failed, `${r.title}\n${r.text}\n${JSON.stringify((r.data as OpData | undefined)?.steps, null, 1)}`).toBeFalsy();
    const repoint = (r.data as OpData).steps.find((s) => s.step === 're-point readonly')!;
    expect(repoint.detail).toMatch(/bytes past the switch point .*: (rewound with pg_rewind|re-cloned) from standby/);
    expect((r.data as OpData).steps.find((s) => s.step === 'readonly streaming')?.detail).toMatch(/^readonly streaming after \d+ ms \(from standby, timeline 4\)$/);
    const s = await status();
    expect(s.writable).toEqual(['standby']);
    expect(node(s, 'readonly')).toMatchObject({ role: 'replica', streaming: true, upstream: 'standby', timeline: 4 });
    expect(node(s, 'primary')).toMatchObject({ fenced: true });
  });

  it('/cluster follow points a running replica at the current primary', async () => {
    const r = await c.run('/cluster follow readonly', principal('olga'));
    expect(r.failed, `${r.title}\n${r.text}\n${JSON.stringify((r.data as OpData | undefined)?.steps, null, 1)}`).toBeFalsy();
    expect(r.text).toMatch(/Confirmed by olga/);
    expect(node(await status(), 'readonly')).toMatchObject({ streaming: true, upstream: 'standby' });
    const fenced = await c.run('/cluster follow primary', principal('olga'));
    expect(fenced.text).toMatch(/primary is fenced \(a former primary\) — use \/cluster rejoin primary/);
  });

  it('/cluster rejoin also recovers a primary that crashed and was never restarted', async () => {
    const r = await c.run('/cluster rejoin primary', principal('olga'));
    expect(r.failed, `${r.title}\n${r.text}`).toBeFalsy();
    const how = (r.data as OpData).steps[0];
    console.log(`rejoin after a crash: ${how.detail} (${how.ms} ms)`);
    expect(how.detail).toMatch(/^rewound with pg_rewind from standby/);
    const s = await status();
    expect(node(s, 'primary')).toMatchObject({ role: 'replica', streaming: true, upstream: 'standby', fenced: false, timeline: 4 });
  });

  it('/cluster rejoin re-clones a node that pg_rewind cannot repair (its data directory is gone), and says so', async () => {
    expect((await c.run('/cluster stop readonly')).failed).toBeFalsy();
    rmSync(join(c.home, 'nodes', 'readonly', 'data'), { recursive: true, force: true });
    const edits: Reply[] = [];
    const r = await c.run('/cluster rejoin readonly', principal('olga'), { progress: async (x) => void edits.push(x) });
    expect(r.failed, `${r.title}\n${r.text}`).toBeFalsy();
    expect(edits.some((e) => /pg_rewind of readonly failed .*; re-cloning it from standby with pg_basebackup…/.test(e.text ?? ''))).toBe(true);
    expect((r.data as OpData).steps[0].detail).toMatch(/^re-cloned from standby \(pg_rewind failed/);
    expect(node(await status(), 'readonly')).toMatchObject({ role: 'replica', streaming: true, upstream: 'standby' });
  });

  it('never had two writable nodes at any moment', async () => {
    expect(watcher.samples.length).toBeGreaterThan(50);
    const doubles = watcher.samples.filter((s) => s.writable.length > 1);
    expect(doubles).toEqual([]);
    expect(watcher.samples.at(-1)!.writable).toEqual(['standby']);
  });
});
