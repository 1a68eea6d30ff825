// The count behind the Patroni "Acknowledged writes discarded" alert, on a real PostgreSQL: the
// segments of a WAL range read over SQL from a member's pg_wal, pg_waldump over them, COMMIT records
// counted; and, when no member can hand them over, a reason that names each place it looked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countDiscarded } from '../../src/patroni/discarded-wal.js';
import { freePort, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/wait.js';

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

  it('counts them from the pgBackRest repository once the segment is archived (archive-get)', async () => {
    const [{ tl, lsn: from }] = await c.sql<{ tl: number; lsn: string }>('primary', "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int AS tl, pg_current_wal_lsn()::text AS lsn");
    for (let i = 10; i < 14; i++) await c.sql('primary', 'INSERT INTO proyecto.counted VALUES ($1)', [i]);
    const [{ lsn: to, seg }] = await c.sql<{ lsn: string; seg: string }>('primary', 'SELECT pg_current_wal_lsn()::text AS lsn, pg_walfile_name(pg_current_wal_lsn()) AS seg');
    await c.sql('primary', 'SELECT pg_switch_wal()');
    await eventually('the segment archived', async () => (await c.sql<{ last: string | null }>('primary', 'SELECT last_archived_wal AS last FROM pg_stat_archiver'))[0].last, (last) => last !== null && last >= seg, { timeoutMs: 60_000 });
    const closed = { ...c.app.services.node('primary'), name: 'gone', port: await freePort() };
    const range = { timeline: tl, leader: 'gone', from, to, bytes: 0, xidsSeen: null, why: 'test' };
    const count = await countDiscarded(c.app.services, range, [closed]);
    expect(count).toEqual({ ok: true, transactions: 4, source: 'the WAL archive' });
  });

  it('says where it looked when neither the archive nor any member has the segment', async () => {
    const closed = { ...c.app.services.node('primary'), name: 'gone', port: await freePort() };
    const range = { timeline: 7, leader: 'gone', from: '0/5000060', to: '0/50001A8', bytes: 328, xidsSeen: null, why: 'test' };
    const count = await countDiscarded(c.app.services, range, [closed, c.app.services.node('primary')]);
    expect(count.ok).toBe(false);
    expect(!count.ok && count.why).toMatch(/^the WAL archive has no timeline-7 segment 000000070000000000000005; gone: .*ECONNREFUSED.*; primary: could not open file "pg_wal\/000000070000000000000005"/);
  });
});
