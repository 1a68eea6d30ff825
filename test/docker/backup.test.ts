// Backups on pgBackRest with RUNTIME=docker on the compose stack, the bot on the host: the nodes push
// WAL into the repository on the shared backups volume (a bind of the bot's BACKUP_DIR), pgbackrest
// backup runs in the primary's container, and the bot verifies and restore-checks from the same
// repository on the host, in a scratch instance.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principal } from '../helpers/cluster.js';
import { newDockerCluster, until, type DockerCluster } from '../helpers/docker.js';
import { postgresOsUser } from '../../src/runtime/process.js';

interface BackupData {
  backup: { id: string; kind: string; prior: string | null; node: string; timeline: number; sizeBytes: number; durationMs: number; verified: boolean };
  verify: { ok: boolean; problems: string[] };
}
interface RestoreData {
  backup: string;
  usuarios: number;
  restoreMs: number;
  replayedTo: string;
}

const olga = principal('olga');

describe('backups with RUNTIME=docker (compose stack, bot on the host)', () => {
  let c: DockerCluster;
  let fullId = '';
  const timings: Record<string, number> = {};
  const step = async (name: string, text: string) => {
    const t0 = performance.now();
    const r = await c.run(text, olga);
    timings[name] = Math.round(performance.now() - t0);
    return r;
  };

  beforeAll(async () => {
    c = await newDockerCluster('bk');
    await c.compose('up', '-d');
    await until('one primary and two streaming replicas', async () => {
      const s = await c.app.services.snapshot();
      return s.primary === 'primary' && s.nodes.filter((n) => n.role === 'replica' && n.streaming).length === 2;
    });
  });
  afterAll(async () => {
    console.info(`[docker backup] step timings (ms): ${JSON.stringify(timings)}`);
    await c?.destroy();
  });

  it('the nodes push WAL with pgBackRest into the repository in the bot\'s BACKUP_DIR through the shared backups volume', async () => {
    const [{ seg }] = await c.sql<{ seg: string }>('primary', 'SELECT pg_walfile_name(pg_switch_wal()) AS seg');
    const dir = join(c.config.walArchiveDir, 'archive', 'clusterbot', '15-1', seg.slice(0, 16));
    const pushed = new RegExp(`^${seg}-[0-9a-f]{40}\\.zst$`);
    const file = await until(`${seg} in ${dir}`, async () => (existsSync(dir) ? readdirSync(dir).find((f) => pushed.test(f)) : undefined), 60_000, 200);
    // Written by the container's postgres, which is the host's postgres (the image takes its ids).
    const pg = postgresOsUser();
    if (pg) expect(statSync(join(dir, file)).uid).toBe(pg.uid);
  });

  it('backup full in the primary container → verified → restore-check on the host finds the 5 usuarios', async () => {
    const r = await step('backup full', '/cluster backup full');
    expect(r.failed, r.text).toBeFalsy();
    const d = r.data as BackupData;
    fullId = d.backup.id;
    expect(d.backup).toMatchObject({ kind: 'full', node: 'primary', timeline: 1, verified: true });
    expect(d.verify.ok, d.verify.problems.join('; ')).toBe(true);
    console.info(`[docker backup] ${fullId}: ${d.backup.sizeBytes} bytes from ${d.backup.node} in ${d.backup.durationMs} ms`);
    expect(existsSync(join(c.config.walArchiveDir, 'backup', 'clusterbot', fullId, 'backup.manifest'))).toBe(true);

    const v = await step('verify', `/cluster verify ${fullId}`);
    expect(v.failed, v.text).toBeFalsy();
    expect(v.title).toMatch(/verified/);

    const rc = await step('restore-check', `/cluster restore-check ${fullId}`);
    expect(rc.failed, rc.text).toBeFalsy();
    expect((rc.data as RestoreData).usuarios).toBe(5);
    timings['restore (measured by the bot)'] = (rc.data as RestoreData).restoreMs;
    expect(readdirSync(join(c.home, 'scratch'))).toEqual([]);
  });

  it('rows written after the backup come back from the archived WAL; an incr builds on the full', async () => {
    await c.sql('primary', "INSERT INTO proyecto.usuarios (nombre, email) VALUES ('docker 1', 'd1@example.com'), ('docker 2', 'd2@example.com')");
    const inc = await step('backup incr', '/cluster backup incr');
    expect(inc.failed, inc.text).toBeFalsy();
    expect((inc.data as BackupData).backup).toMatchObject({ kind: 'incr', prior: fullId, verified: true });
    const rc = await step('restore-check (latest)', `/cluster restore-check ${fullId}`);
    expect(rc.failed, rc.text).toBeFalsy();
    expect((rc.data as RestoreData).usuarios).toBe(7);
  });
});
