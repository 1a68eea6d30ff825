// The count behind the Patroni "Acknowledged writes discarded" alert, on a real PostgreSQL: the
// segments of a WAL range read over SQL from a member's pg_wal, pg_waldump over them, COMMIT records
// counted; and, when no member can hand them over, a reason that names each place it looked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countDiscarded } from '../../src/patroni/discarded-wal.js';
import { freePort, startTestCluster, type TestCluster } from '../helpers/cluster.js';

describe('counting the transactions of a WAL range (pg_waldump)', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startTestCluster({ nodeCount: 1, nodes: ([p]) => `primary:${p}` });
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('counts the committed transactions between two LSNs from the member\'s own pg_wal', async () => {
    await c.sql('primary', 'CREATE TABLE proyecto.counted (id int)');
    const [{ tl, lsn: from }] = await c.sql<{ tl: number; lsn: string }>('primary', "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int AS tl, pg_current_wal_lsn()::text AS lsn");
    for (let i = 1; i <= 3; i++) await c.sql('primary', 'INSERT INTO proyecto.counted VALUES ($1)', [i]);
    await c.sql('primary', 'SELECT count(*) FROM proyecto.counted'); // a read assigns no transaction id: not counted
    const [{ lsn: to }] = await c.sql<{ lsn: string }>('primary', 'SELECT pg_current_wal_lsn()::text AS lsn');
    const range = { timeline: tl, leader: 'primary', from, to, bytes: 0, xidsSeen: null, why: 'test' };
    const count = await countDiscarded(c.app.services, range, [c.app.services.node('primary')]);
    expect(count).toEqual({ ok: true, transactions: 3, source: "primary's pg_wal" });
  });

  it('says where it looked when neither the archive nor any member has the segment', async () => {
    const closed = { ...c.app.services.node('primary'), name: 'gone', port: await freePort() };
    const range = { timeline: 7, leader: 'gone', from: '0/5000060', to: '0/50001A8', bytes: 328, xidsSeen: null, why: 'test' };
    const count = await countDiscarded(c.app.services, range, [closed, c.app.services.node('primary')]);
    expect(count.ok).toBe(false);
    expect(!count.ok && count.why).toMatch(/^the WAL archive has no timeline-7 segment 000000070000000000000005; gone: .*ECONNREFUSED.*; primary: could not open file "pg_wal\/000000070000000000000005"/);
  });
});
