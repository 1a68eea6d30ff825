// Backups on pgBackRest with a real local cluster and a real repository: full from a replica →
// listed → verified → restored into a scratch instance; diff and incr; point in time; a flipped
// byte in the repository caught and named; retention by count of full backups (old-engine backups
// included); bad input.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/reply.js';
import { principal, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { within } from '../helpers/wait.js';

interface SetData {
  id: string;
  kind: string;
  prior: string | null;
  node: string | null;
  timeline: number;
  sizeBytes: number;
  repoBytes: number;
  walStart: string;
  walStop: string;
  repo: number;
  verified: boolean | null;
}
interface BackupData {
  backup: SetData;
  verify: { ok: boolean; problems: string[] };
}
interface RestoreData {
  backup: string;
  usuarios: number;
  restoreMs: number;
  timeline: number;
  lastLog: { evento: string } | null;
}
interface ListData {
  backups: SetData[];
  oldEngine: Array<{ id: string }>;
  stanza: { code: number; message: string };
}

const olga = principal('olga');
const victor = principal('victor');

/** Every file under a folder, relative paths. */
function walk(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
}

describe('backups on pgBackRest that are proven restorable', () => {
  let c: TestCluster;
  let fullId = '';
  const timings: Record<string, number> = {};
  const repo = () => c.config.walArchiveDir;
  const step = async (name: string, text: string, who = olga, progress?: (r: Reply) => Promise<void>) => {
    const t0 = performance.now();
    const r = await c.run(text, who, progress ? { progress } : undefined);
    timings[name] = Math.round(performance.now() - t0);
    return r;
  };
  const list = async () => (await c.run('/cluster backups', victor)).data as ListData;

  beforeAll(async () => {
    c = await startTestCluster({ env: { BACKUP_RETENTION_FULL: '1' } });
  });
  afterAll(async () => {
    console.log(`backup step timings (ms): ${JSON.stringify(timings)}`);
    await c?.destroy();
  });

  it('archives WAL through pgbackrest archive-push from the first minute (stanza created by up)', async () => {
    const [{ cmd, restore }] = await c.sql<{ cmd: string; restore: string }>('primary', "SELECT current_setting('archive_command') AS cmd, current_setting('restore_command') AS restore");
    expect(cmd).toMatch(/^pgbackrest --config=\S+node-primary\.conf --stanza=clusterbot archive-push "%p"$/);
    expect(restore).toMatch(/^sh "\S+\/restore-if-archived\.sh" "\S+" clusterbot "%f" "%p" --config=\S+node-primary\.conf$/);
    const [{ seg }] = await c.sql<{ seg: string }>('primary', 'SELECT pg_walfile_name(pg_switch_wal()) AS seg');
    const dir = join(repo(), 'archive', 'clusterbot', '15-1', seg.slice(0, 16));
    const pushed = new RegExp(`^${seg}-[0-9a-f]{40}\\.${c.config.BACKUP_COMPRESS_TYPE}$`);
    await within(`${seg} in the repository`, 60_000, async () => existsSync(dir) && readdirSync(dir).some((f) => pushed.test(f)), () => (existsSync(dir) ? readdirSync(dir).join(', ') : `${dir} missing`));
  });

  it('takes a verified full backup from a replica, lists it, and restore-check finds the 5 usuarios', async () => {
    const progress: Reply[] = [];
    const r = await step('backup full', '/cluster backup full', olga, async (p) => void progress.push(p));
    expect(r.failed, r.text).toBeFalsy();
    const d = r.data as BackupData;
    fullId = d.backup.id;
    expect(fullId).toMatch(/^\d{8}-\d{6}F$/);
    expect(['standby', 'readonly']).toContain(d.backup.node);
    expect(d.backup).toMatchObject({ kind: 'full', timeline: 1, verified: true, repo: 1, prior: null });
    expect(d.backup.sizeBytes).toBeGreaterThan(1_000_000);
    expect(d.backup.repoBytes).toBeLessThan(d.backup.sizeBytes);
    expect(d.verify.ok).toBe(true);
    expect(progress.length).toBeGreaterThan(0);
    // pgBackRest records the options a backup ran with: the default compression is zst at level 1 (BACKUP_COMPRESS_LEVEL), not its own 3.
    const manifest = readFileSync(join(repo(), 'backup', 'clusterbot', fullId, 'backup.manifest'), 'utf8');
    expect(manifest).toMatch(/^option-compress-type="zst"$/m);
    expect(manifest).toMatch(/^option-compress-level=1$/m);

    const l = await c.run('/cluster backups', victor);
    expect(l.failed).toBeFalsy();
    expect(l.tables?.[0].rows[0][0]).toBe(fullId);
    expect(l.text).toMatch(/Oldest point in time that can be restored/);
    expect((l.data as ListData).backups[0]).toMatchObject({ id: fullId, verified: true });
    expect((l.data as ListData).stanza).toEqual({ code: 0, message: 'ok' });

    const v = await step('verify', `/cluster verify ${fullId}`);
    expect(v.failed, v.text).toBeFalsy();
    expect(v.title).toMatch(/verified/);

    const rc = await step('restore-check', `/cluster restore-check ${fullId}`);
    expect(rc.failed, rc.text).toBeFalsy();
    const rd = rc.data as RestoreData;
    expect(rd.usuarios).toBe(5);
    expect(rd.lastLog).not.toBeNull();
    expect(rd.restoreMs).toBeGreaterThan(0);
    timings['restore (measured by the bot)'] = rd.restoreMs;
    expect(readdirSync(join(c.home, 'scratch'))).toEqual([]);
    // The scratch copy promoted itself to timeline 2 and pushed nothing into the repository.
    expect(rd.timeline).toBe(2);
    expect(walk(join(repo(), 'archive', 'clusterbot')).filter((f) => f.endsWith('.history'))).toEqual([]);

    const rows = await c.sql<{ n: number }>('primary', "SELECT count(*)::int AS n FROM proyecto.logs_replicacion WHERE evento = 'backup full' AND detalle->>'id' = $1", [fullId]);
    expect(rows[0].n).toBe(1);
    const status = await c.run('/cluster status', victor);
    expect(status.fields?.find((f) => f.label === 'Last backup')?.value).toMatch(new RegExp(`${fullId}.*verified.*stanza clusterbot: ok`));
  });

  it('diff and incr build on the full; a point-in-time restore brings deleted rows back', async () => {
    const diff = await step('backup diff', '/cluster backup diff');
    expect(diff.failed, diff.text).toBeFalsy();
    expect((diff.data as BackupData).backup).toMatchObject({ kind: 'diff', prior: fullId, verified: true });

    await c.sql('primary', "INSERT INTO proyecto.usuarios (nombre, email) SELECT 'pitr ' || g, 'pitr' || g || '@example.com' FROM generate_series(1, 3) g");
    await new Promise((r) => setTimeout(r, 1100));
    const at = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 1100));
    await c.sql('primary', "DELETE FROM proyecto.usuarios WHERE nombre LIKE 'pitr %'");
    const incr = await step('backup incr', '/cluster backup incr');
    expect(incr.failed, incr.text).toBeFalsy();
    const inc = (incr.data as BackupData).backup;
    expect(inc).toMatchObject({ kind: 'incr', prior: (diff.data as BackupData).backup.id });
    expect(inc.repoBytes).toBeLessThan((diff.data as BackupData).backup.sizeBytes);

    const pitr = await step('restore-check pitr', `/cluster restore-check ${fullId} ${at}`);
    expect(pitr.failed, pitr.text).toBeFalsy();
    expect((pitr.data as RestoreData).usuarios).toBe(8);
    const latest = await step('restore-check incr', `/cluster restore-check ${inc.id}`);
    expect(latest.failed, latest.text).toBeFalsy();
    expect((latest.data as RestoreData).usuarios).toBe(5);
  });

  it('a flipped byte in a file of the repository fails verify loudly, naming the file, and the backup is marked failed', async () => {
    const dir = join(repo(), 'backup', 'clusterbot', fullId);
    const victim = walk(dir).filter((f) => f.startsWith('pg_data/base/') && f.endsWith(`.${c.config.BACKUP_COMPRESS_TYPE}`)).sort((a, b) => readFileSync(join(dir, b)).length - readFileSync(join(dir, a)).length)[0];
    const file = join(dir, victim);
    const original = readFileSync(file);
    const bytes = Buffer.from(original);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(file, bytes);
    try {
      const v = await c.run(`/cluster verify ${fullId}`);
      expect(v.failed).toBe(true);
      expect(v.title).toMatch(/FAILED verification/);
      expect(v.text).toContain(`${fullId}/${victim}`);
      const l = await list();
      expect(l.backups.find((b) => b.id === fullId)?.verified).toBe(false);
      const rc = await c.run(`/cluster restore-check ${fullId}`);
      expect(rc.failed).toBe(true);
      expect(readdirSync(join(c.home, 'scratch'))).toEqual([]);
    } finally {
      writeFileSync(file, original);
    }
    const again = await c.run(`/cluster verify ${fullId}`);
    expect(again.failed, again.text).toBeFalsy();
    expect((await list()).backups.find((b) => b.id === fullId)?.verified).toBe(true);
  });

  it('retention by count of fulls: pgBackRest expires the older chain after a full; old-engine backups keep listing, marked, until prune deletes them', async () => {
    // A catalog as the engine before pgBackRest left it.
    const oldDir = join(c.config.backupDir, 'full', '20260101T000000Z');
    mkdirSync(oldDir, { recursive: true });
    writeFileSync(join(oldDir, 'base.tar.gz'), 'old');
    const old = { id: 'full-20260101T000000Z', kind: 'full', path: oldDir, node: 'standby', timeline: 1, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:00.000Z', sizeBytes: 3, durationMs: 60_000, verified: true };
    writeFileSync(join(c.config.backupDir, 'catalog.json'), JSON.stringify({ version: 1, backups: [old] }));
    const before = await c.run('/cluster backups', victor);
    expect((before.data as ListData).oldEngine.map((b) => b.id)).toEqual([old.id]);
    expect(before.tables?.[0].rows.at(-1)?.slice(0, 2)).toEqual([old.id, 'full (old engine)']);
    const chainBefore = (before.data as ListData).backups.map((b) => b.id);

    const full2 = await step('second backup full', '/cluster backup full');
    expect(full2.failed, full2.text).toBeFalsy();
    const f2 = (full2.data as BackupData).backup;
    // pgBackRest expires by count of fulls (BACKUP_RETENTION_FULL=1 here) at the end of every backup.
    expect(((full2.data as { expired: string[] }).expired).sort()).toEqual(chainBefore.sort());
    expect(full2.fields?.find((f) => f.label === 'Expired by retention')?.value).toContain(fullId);
    expect(existsSync(join(repo(), 'backup', 'clusterbot', fullId))).toBe(false);
    expect((await list()).oldEngine.map((b) => b.id)).toEqual([old.id]);

    const card = await c.run('/cluster backup prune');
    expect(card.buttons?.map((b) => b.label)).toEqual(['Delete them', 'Cancel']);
    const plan = (card.data as { prune: { remove: string[]; keep: string[]; legacy: string[] } }).prune;
    expect(plan.remove).toEqual([]);
    expect(plan.keep).toEqual([f2.id]);
    expect(plan.legacy).toEqual([old.id]);
    expect(existsSync(oldDir)).toBe(true);

    const done = await c.press(card.buttons![0].actionId, olga);
    expect(done.failed, done.text).toBeFalsy();
    expect(existsSync(oldDir)).toBe(false);
    expect(existsSync(join(c.config.backupDir, 'catalog.json'))).toBe(false);
    const after = await list();
    expect(after.backups.map((b) => b.id)).toEqual([f2.id]);
    expect(after.oldEngine).toEqual([]);
    expect((await c.run('/cluster backup prune')).title).toMatch(/nothing to prune/);

    const rc = await step('restore-check after prune', '/cluster restore-check');
    expect(rc.failed, rc.text).toBeFalsy();
    const [{ n }] = await c.sql<{ n: number }>('primary', 'SELECT count(*)::int AS n FROM proyecto.usuarios');
    expect((rc.data as RestoreData).usuarios).toBe(n);
    expect((rc.data as RestoreData).backup).toBe(f2.id);
  });

  it('refuses bad input with one line: unknown id, a time before the oldest backup, a malformed time', async () => {
    const [newest] = (await list()).backups;
    for (const [text, pattern] of [
      ['/cluster verify 20200101-000000F', /unknown backup id "20200101-000000F" — \/cluster backups lists them/],
      ['/cluster restore-check 20200101-000000F', /unknown backup id "20200101-000000F"/],
      [`/cluster restore-check ${newest.id} 2020-01-01T00:00:00Z`, /2020-01-01T00:00:00.000Z is before the oldest restorable point/],
      [`/cluster restore-check ${newest.id} yesterday`, /time "yesterday" is not a time like 2026-11-25T19:30:00Z/],
      [`/cluster restore-check ${newest.id} 2026-13-45T99:00:00Z`, /is not a time like/],
      ['/cluster restore-check 2999-01-01T00:00:00Z', /is in the future/],
      ['/cluster backup weekly', /accepted: full, diff, incr, differential, incremental, prune/],
    ] as const) {
      const r = await c.run(text, olga);
      expect(r.failed, text).toBe(true);
      expect(r.text, text).toMatch(pattern);
      expect(r.text!.split('\n'), text).toHaveLength(1);
    }
    const refused = await c.run('/cluster backup full', victor);
    expect(refused.text).toMatch(/victor is a viewer; \/cluster backup needs operator/);
    expect(readdirSync(join(c.home, 'scratch'))).toEqual([]);
  });
});
