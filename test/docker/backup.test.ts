// Backups with RUNTIME=docker on the compose stack, the bot on the host: pg_basebackup runs in a
// replica's container and writes through the shared backups volume (a bind of the bot's
// BACKUP_DIR); the bot verifies it and restore-checks it in a scratch instance on the host, with
// the WAL the nodes archived into the same folder.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principal } from '../helpers/cluster.js';
import { newDockerCluster, until, type DockerCluster } from '../helpers/docker.js';
import { postgresOsUser } from '../../src/runtime/process.js';

interface BackupData {
  backup: { id: string; kind: string; node: string; timeline: number; sizeBytes: number; durationMs: number; verified: boolean };
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

  it('the nodes archive WAL into the bot\'s BACKUP_DIR through the shared backups volume', async () => {
    const [{ seg }] = await c.sql<{ seg: string }>('primary', 'SELECT pg_walfile_name(pg_switch_wal()) AS seg');
    const file = join(c.config.walArchiveDir, seg);
    await until(`${seg} in ${c.config.walArchiveDir}`, async () => readdirSync(c.config.walArchiveDir).includes(seg), 60_000, 200);
    // Written by the container's postgres, which is the host's postgres (the image takes its ids).
    const pg = postgresOsUser();
    if (pg) expect(statSync(file).uid).toBe(pg.uid);
  });

  it('backup full in a replica container → verified → restore-check on the host finds the 5 usuarios', async () => {
    const r = await step('backup full', '/cluster backup full');
    expect(r.failed, r.text).toBeFalsy();
    const d = r.data as BackupData;
    fullId = d.backup.id;
    expect(['standby', 'readonly']).toContain(d.backup.node);
    expect(d.backup).toMatchObject({ kind: 'full', timeline: 1, verified: true });
    expect(d.verify.ok, d.verify.problems.join('; ')).toBe(true);
    console.info(`[docker backup] ${fullId}: ${d.backup.sizeBytes} bytes from ${d.backup.node} in ${d.backup.durationMs} ms`);
    const dir = join(c.config.backupDir, 'full', fullId.slice(5));
    expect(readdirSync(dir).sort()).toEqual(['backup_manifest', 'base.tar.gz', 'pg_wal.tar.gz']);

    const v = await step('verify', `/cluster verify ${fullId}`);
    expect(v.failed, v.text).toBeFalsy();
    expect(v.title).toMatch(/verified/);

    const rc = await step('restore-check', `/cluster restore-check ${fullId}`);
    expect(rc.failed, rc.text).toBeFalsy();
    expect((rc.data as RestoreData).usuarios).toBe(5);
    timings['restore (measured by the bot)'] = (rc.data as RestoreData).restoreMs;
    expect(readdirSync(join(c.home, 'scratch'))).toEqual([]);
  });

  it('rows written after the backup come back from the archived WAL; an incremental bundles it', async () => {
    await c.sql('primary', "INSERT INTO proyecto.usuarios (nombre, email) VALUES ('docker 1', 'd1@example.com'), ('docker 2', 'd2@example.com')");
    const inc = await step('backup incremental', '/cluster backup incremental');
    expect(inc.failed, inc.text).toBeFalsy();
    expect((inc.data as BackupData).backup).toMatchObject({ kind: 'incremental', verified: true });
    const rc = await step('restore-check (latest)', `/cluster restore-check ${fullId}`);
    expect(rc.failed, rc.text).toBeFalsy();
    expect((rc.data as RestoreData).usuarios).toBe(7);
  });
});
