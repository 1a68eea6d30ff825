// Issue 24 item 4 on a real local cluster and a real pgBackRest repository: after a crash failover
// the result card offers "Take a full backup now"; /cluster backups marks which backups restore to
// a time after the switch; a restore check to a time after the failover passes from the offered backup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principal, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { until } from '../helpers/wait.js';

interface SetRow {
  id: string;
  timeline: number;
  verified: boolean | null;
  restoresPastSwitch: boolean;
}

const alice = principal('alice');
const olga = principal('olga');

describe('a full backup after a failover', () => {
  let c: TestCluster;

  beforeAll(async () => {
    c = await startTestCluster();
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('kill -9 → failover card offers the backup → taken on the new timeline → a restore check to a time after the failover passes from it', async () => {
    const before = await c.run('/cluster backup full', olga);
    expect(before.failed, before.text).toBeFalsy();
    const oldId = (before.data as { backup: { id: string } }).backup.id;

    // ~25 MB replayed on the standby after the last checkpoint: its dirty buffers make the end-of-recovery
    // checkpoint of its promotion a spread one of minutes, so pg_control still says timeline 1 when the
    // offered backup starts (pgBackRest then refused: "WAL timeline 2 does not match pg_control timeline 1").
    await c.sql('primary', "CREATE TABLE proyecto.bulk AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 100000) g");
    const [{ lsn }] = await c.sql<{ lsn: string }>('primary', 'SELECT pg_current_wal_lsn()::text AS lsn');
    await until(`standby replayed ${lsn}`, async () => (await c.sql<{ ok: boolean }>('standby', `SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn AS ok`))[0].ok);
    await c.app.services.runtime.kill(c.app.services.node('primary'));
    const card = await c.run('/cluster failover', alice);
    expect(card.failed, card.text).toBeFalsy();
    const done = await c.press(card.buttons![0].actionId, principal('bob'));
    expect(done.failed, done.text).toBeFalsy();
    expect((done.data as { newPrimary: string }).newPrimary).toBe('standby');
    const offer = done.buttons?.find((b) => b.label === 'Take a full backup now');
    expect(offer, JSON.stringify(done.buttons)).toBeDefined();
    expect(done.text).toMatch(/take a full backup on the new timeline/);

    // Before the offer is taken, no backup restores past the switch, and the listing says so.
    const listBefore = await c.run('/cluster backups', olga);
    expect(listBefore.text).toMatch(/No backup restores to a time after the switch to timeline 2/);
    expect((listBefore.data as { backups: SetRow[] }).backups.find((b) => b.id === oldId)?.restoresPastSwitch).toBe(false);

    const [{ tli }] = await c.sql<{ tli: number }>('standby', 'SELECT timeline_id AS tli FROM pg_control_checkpoint()');
    expect(tli, 'the promotion\'s checkpoint already done: the case this test is about did not arise').toBe(1);
    const taken = await c.press(offer!.actionId, olga);
    expect(taken.failed, taken.text).toBeFalsy();
    const fresh = (taken.data as { backup: SetRow }).backup;
    expect(fresh).toMatchObject({ timeline: 2, verified: true });
    const list = (await c.run('/cluster backups', olga)).data as { backups: SetRow[]; switch: { timeline: number } };
    expect(list.switch.timeline).toBe(2);
    expect(list.backups.find((b) => b.id === fresh.id)?.restoresPastSwitch).toBe(true);
    expect(list.backups.find((b) => b.id === oldId)?.restoresPastSwitch).toBe(false);

    // Rows written after the failover, a time between them: the restore from the offered backup has the first only.
    await c.sql('standby', "INSERT INTO proyecto.usuarios (nombre, email) VALUES ('after failover', 'after@example.com')");
    await new Promise((r) => setTimeout(r, 1100));
    const [{ at }] = await c.sql<{ at: Date }>('standby', 'SELECT now() AS at');
    await new Promise((r) => setTimeout(r, 1100));
    await c.sql('standby', "INSERT INTO proyecto.usuarios (nombre, email) VALUES ('too late', 'late@example.com')");
    const rc = await c.run(`/cluster restore-check ${fresh.id} ${at.toISOString()}`, olga);
    expect(rc.failed, rc.text).toBeFalsy();
    expect(rc.data).toMatchObject({ backup: fresh.id, usuarios: 6 });
  });
});
