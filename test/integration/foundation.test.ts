import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principal, startTestCluster, type TestCluster } from '../helpers/cluster.js';

interface StatusData {
  primary: string;
  nodes: Array<{ name: string; role: string; up: boolean; streaming: boolean; upstream: string | null; lagBytes: number | null; lagSeconds: number | null; timeline: number }>;
}

describe('a real local 3-node cluster', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startTestCluster();
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('shows one primary and two streaming replicas with lag in bytes and seconds', async () => {
    const reply = await c.run('/cluster status');
    expect(reply.failed).toBeFalsy();
    const data = reply.data as StatusData;
    expect(data.primary).toBe('primary');
    const byName = Object.fromEntries(data.nodes.map((n) => [n.name, n]));
    expect(byName.primary.role).toBe('primary');
    for (const name of ['standby', 'readonly']) {
      expect(byName[name]).toMatchObject({ role: 'replica', up: true, streaming: true, upstream: 'primary', timeline: 1 });
      expect(typeof byName[name].lagBytes).toBe('number');
      expect(typeof byName[name].lagSeconds).toBe('number');
    }
  });

  it('seeds proyecto_db on the primary and replicates it', async () => {
    const rows = await c.sql('readonly', 'SELECT count(*)::int AS n FROM proyecto.usuarios');
    expect(rows[0].n).toBe(5);
  });

  it('stops the readonly node, reports it down, and brings it back streaming', async () => {
    const stop = await c.run('/cluster stop readonly');
    expect(stop.failed).toBeFalsy();
    const down = (await c.run('/cluster status')).data as StatusData;
    expect(down.nodes.find((n) => n.name === 'readonly')).toMatchObject({ role: 'down', up: false });
    expect(down.nodes.find((n) => n.name === 'standby')).toMatchObject({ role: 'replica', streaming: true });
    const start = await c.run('/cluster start readonly');
    expect(start.failed).toBeFalsy();
    expect(start.text).toMatch(/streaming from primary/);
    const after = (await c.run('/cluster status')).data as StatusData;
    expect(after.nodes.find((n) => n.name === 'readonly')).toMatchObject({ role: 'replica', streaming: true });
  });

  it('asks an admin before stopping the primary, and refuses a viewer', async () => {
    const card = await c.run('/cluster stop primary');
    expect(card.buttons?.map((b) => b.label)).toEqual(['Stop primary primary', 'Cancel']);
    const refused = await c.press(card.buttons![0].actionId, principal('victor'));
    expect(refused.failed).toBe(true);
    expect(refused.text).toMatch(/victor is a viewer; only an admin can confirm/);
    const cancelled = await c.press(card.buttons![1].actionId);
    expect(cancelled.title).toMatch(/Cancelled/);
    const again = await c.press(card.buttons![0].actionId);
    expect(again.text).toMatch(/already cancelled by tester/);
    expect(await c.app.services.runtime.isRunning(c.app.services.node('primary'))).toBe(true);
  });

  it('refuses bad input with one line and changes nothing', async () => {
    for (const [text, pattern] of [
      ['/cluster stauts', /Unknown subcommand "stauts" — did you mean \/cluster status/],
      ['/cluster stop nosuch', /unknown node "nosuch" — nodes are: primary, standby, readonly/],
      ["/cluster stop 'x;rm -rf /'", /is not a node name/],
      ['/cluster stop', /stop needs <node>/],
      ['/cluster history lots', /must be a whole number/],
    ] as const) {
      const r = await c.run(text);
      expect(r.failed, text).toBe(true);
      expect(r.text, text).toMatch(pattern);
      expect(r.text!.split('\n'), text).toHaveLength(1);
    }
    const data = (await c.run('/cluster status')).data as StatusData;
    expect(data.nodes.every((n) => n.up)).toBe(true);
  });

  it('refuses an operator command from a viewer and audits it', async () => {
    const r = await c.run('/cluster stop readonly', principal('victor'));
    expect(r.text).toMatch(/victor is a viewer; \/cluster stop needs operator/);
    const last = c.app.services.audit.tail(1)[0];
    expect(last).toMatchObject({ kind: 'refusal', user: 'victor', outcome: 'forbidden' });
  });

  it('mirrors the audit trail into proyecto.logs_replicacion', async () => {
    await c.run('/cluster nodes');
    await c.app.services.audit.flush();
    const rows = await c.sql('primary', "SELECT evento FROM proyecto.logs_replicacion WHERE evento = 'command nodes ok'");
    expect(rows.length).toBeGreaterThan(0);
  });

  it('up is idempotent: an existing cluster is started, never re-initialised', async () => {
    await c.sql('primary', "INSERT INTO proyecto.usuarios (nombre, email) VALUES ('Idem', 'idem@example.com')");
    const r = await c.run('/cluster up');
    expect(r.failed).toBeFalsy();
    expect((r.data as { outcomes: Array<{ action: string }> }).outcomes.map((o) => o.action)).toEqual(['already running', 'already running', 'already running']);
    const rows = await c.sql('primary', 'SELECT count(*)::int AS n FROM proyecto.usuarios');
    expect(rows[0].n).toBe(6);
  });
});

describe('a crashed node', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startTestCluster();
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('can be started again right after kill -9 of its postmaster', async () => {
    const readonly = c.app.services.node('readonly');
    await c.app.services.runtime.kill(readonly);
    expect(await c.app.services.runtime.isRunning(readonly)).toBe(false);
    const r = await c.run('/cluster start readonly');
    expect(r.failed, r.text).toBeFalsy();
    expect(r.text).toMatch(/streaming from primary/);
  });
});
