// Backups on a real local cluster with real files: full → listed → verified → restored; point in
// time; a flipped byte and a missing WAL segment caught and named; retention; bad input.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/reply.js';
import { principal, startTestCluster, type TestCluster } from '../helpers/cluster.js';

interface BackupData {
  backup: { id: string; kind: string; node: string; timeline: number; startLsn: string; stopLsn: string; sizeBytes: number; durationMs: number; throughputBps: number; verified: boolean; firstWal: string; lastWal: string };
  verify: { ok: boolean; problems: string[] };
}
interface RestoreData {
  backup: string;
  usuarios: number;
  restoreMs: number;
  lastLog: { evento: string } | null;
}

const olga = principal('olga');
const victor = principal('victor');

describe('backups that are proven restorable', () => {
  let c: TestCluster;
  let fullId = '';
  let incrId = '';
  const timings: Record<string, number> = {};
  const archive = () => c.config.walArchiveDir;
  const step = async (name: string, text: string, who = olga, progress?: (r: Reply) => Promise<void>) => {
    const t0 = performance.now();
    const r = await c.run(text, who, progress ? { progress } : undefined);
    timings[name] = Math.round(performance.now() - t0);
    return r;
  };
  const waitArchived = async (seg: string) => {
    for (let i = 0; i < 300 && !existsSync(join(archive(), seg)); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(join(archive(), seg)), `${seg} archived`).toBe(true);
  };
  const switchWal = async () => {
    await c.sql('primary', "INSERT INTO proyecto.logs_replicacion (evento) VALUES ('backup test: new WAL')");
    const [row] = await c.sql<{ seg: string }>('primary', 'SELECT pg_walfile_name(pg_switch_wal()) AS seg');
    await waitArchived(row.seg);
    return row.seg;
  };

  beforeAll(async () => {
    c = await startTestCluster();
  });
  afterAll(async () => {
    console.log(`backup step timings (ms): ${JSON.stringify(timings)}`);
    await c?.destroy();
  });

  it('takes a verified full backup from a replica, lists it, and restore-check finds the 5 usuarios', async () => {
    const progress: Reply[] = [];
    const r = await step('backup full', '/cluster backup full', olga, async (p) => void progress.push(p));
    expect(r.failed, r.text).toBeFalsy();
    const d = r.data as BackupData;
    fullId = d.backup.id;
    expect(fullId).toMatch(/^full-\d{8}T\d{6}Z$/);
    expect(['standby', 'readonly']).toContain(d.backup.node);
    expect(d.backup).toMatchObject({ kind: 'full', timeline: 1, verified: true });
    expect(d.backup.sizeBytes).toBeGreaterThan(1000);
    expect(d.verify.ok).toBe(true);
    expect(progress.length).toBeGreaterThan(0);
    const dir = join(c.config.backupDir, 'full', fullId.slice(5));
    expect(readdirSync(dir).sort()).toEqual(['backup_manifest', 'base.tar.gz', 'pg_wal.tar.gz']);

    const list = await c.run('/cluster backups', victor);
    expect(list.failed).toBeFalsy();
    expect(list.tables?.[0].rows[0][0]).toBe(fullId);
    expect(list.text).toMatch(/Oldest point in time that can be restored/);
    expect((list.data as { backups: Array<{ id: string; verified: boolean }> }).backups[0]).toMatchObject({ id: fullId, verified: true });

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
    // The scratch copy promoted itself to timeline 2 and wrote nothing into the cluster's archive.
    expect((rc.data as { timeline: number }).timeline).toBe(2);
    expect(readdirSync(archive()).filter((f) => f.endsWith('.history'))).toEqual([]);

    const rows = await c.sql<{ n: number }>('primary', "SELECT count(*)::int AS n FROM proyecto.logs_replicacion WHERE evento = 'backup full' AND detalle->>'id' = $1", [fullId]);
    expect(rows[0].n).toBe(1);
    const status = await c.run('/cluster status', victor);
    expect(status.fields?.find((f) => f.label === 'Last backup')?.value).toMatch(new RegExp(`${fullId}.*verified`));
    expect((status.data as { nodes: Array<{ up: boolean; timeline: number }> }).nodes.every((n) => n.up && n.timeline === 1)).toBe(true);
  });

  it('restores to a point in time: rows deleted after the time are back', async () => {
    await c.sql('primary', "INSERT INTO proyecto.usuarios (nombre, email) SELECT 'pitr ' || g, 'pitr' || g || '@example.com' FROM generate_series(1, 3) g");
    await new Promise((r) => setTimeout(r, 1100));
    const at = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 1100));
    await c.sql('primary', "DELETE FROM proyecto.usuarios WHERE nombre LIKE 'pitr %'");
    const inc = await step('backup incremental', '/cluster backup incremental');
    expect(inc.failed, inc.text).toBeFalsy();
    expect((inc.data as BackupData).backup.kind).toBe('incremental');
    incrId = (inc.data as BackupData).backup.id;

    const pitr = await step('restore-check pitr', `/cluster restore-check ${fullId} ${at}`);
    expect(pitr.failed, pitr.text).toBeFalsy();
    expect((pitr.data as RestoreData).usuarios).toBe(8);
    const latest = await c.run(`/cluster restore-check ${fullId}`);
    expect((latest.data as RestoreData).usuarios).toBe(5);
  });

  it('a flipped byte in a backed-up data file fails verify, naming the file', async () => {
    const [{ path }] = await c.sql<{ path: string }>('primary', "SELECT pg_relation_filepath('proyecto.usuarios') AS path");
    const base = join(c.config.backupDir, 'full', fullId.slice(5), 'base.tar.gz');
    const saved = `${base}.orig`;
    copyFileSync(base, saved);
    const work = mkdtempSync(join(tmpdir(), 'flip-'));
    try {
      await tar.x({ file: base, cwd: work });
      const file = join(work, path);
      const bytes = readFileSync(file);
      bytes[Math.floor(bytes.length / 2)] ^= 0xff;
      writeFileSync(file, bytes);
      await tar.c({ file: base, cwd: work, gzip: true }, readdirSync(work));
      const v = await c.run(`/cluster verify ${fullId}`);
      expect(v.failed).toBe(true);
      expect(v.text).toContain(path);
      const list = (await c.run('/cluster backups')).data as { backups: Array<{ id: string; verified: boolean }> };
      expect(list.backups.find((b) => b.id === fullId)?.verified).toBe(false);
    } finally {
      renameSync(saved, base);
      rmSync(work, { recursive: true, force: true });
    }
    const again = await c.run(`/cluster verify ${fullId}`);
    expect(again.failed, again.text).toBeFalsy();
  });

  it('a flipped byte in a bundled WAL segment fails verify of the incremental, naming the segment', async () => {
    const bundle = join(c.config.backupDir, 'incr', incrId.slice(5), 'wal.tar.gz');
    const saved = `${bundle}.orig`;
    copyFileSync(bundle, saved);
    const work = mkdtempSync(join(tmpdir(), 'flip-wal-'));
    try {
      await tar.x({ file: bundle, cwd: work });
      const names = readdirSync(work).sort();
      const segment = names.find((n) => /^[0-9A-F]{24}$/.test(n))!;
      const bytes = readFileSync(join(work, segment));
      bytes[4096 + 100] ^= 0xff;
      writeFileSync(join(work, segment), bytes);
      await tar.c({ file: bundle, cwd: work, gzip: true }, names);
      const v = await c.run(`/cluster verify ${incrId}`);
      expect(v.failed).toBe(true);
      expect(v.text).toContain(`WAL segment ${segment} in the bundle does not match its checksum`);
    } finally {
      renameSync(saved, bundle);
      rmSync(work, { recursive: true, force: true });
    }
    const again = await c.run(`/cluster verify ${incrId}`);
    expect(again.failed, again.text).toBeFalsy();
    expect((again.data as { checks: string[] }).checks.join(' ')).toMatch(/pg_waldump over/);
  });

  it('a removed archived WAL segment fails backup incremental and verify, naming the segment', async () => {
    await switchWal();
    const missing = await switchWal();
    await switchWal();
    const aside = join(c.home, missing);
    renameSync(join(archive(), missing), aside);
    try {
      const inc = await c.run('/cluster backup incremental');
      expect(inc.failed).toBe(true);
      expect(inc.text).toContain(`segment ${missing} is missing`);
      const v = await c.run(`/cluster verify ${fullId}`);
      expect(v.failed).toBe(true);
      expect(v.text).toContain(`WAL segment ${missing} is missing from the archive`);
      const rc = await c.run(`/cluster restore-check ${fullId}`);
      expect(rc.failed).toBe(true);
      expect(rc.text).toMatch(new RegExp(`replay stopped in .* WAL segment ${missing} is missing from the archive`));
      expect(readdirSync(join(c.home, 'scratch'))).toEqual([]);
    } finally {
      renameSync(aside, join(archive(), missing));
    }
    const inc = await c.run('/cluster backup incremental');
    expect(inc.failed, inc.text).toBeFalsy();
    expect((await c.run(`/cluster verify ${fullId}`)).failed).toBeFalsy();
  });

  it('retention keeps the newest full and the WAL it needs, deletes the rest, and a restore still passes', async () => {
    const full2 = await step('second backup full', '/cluster backup full');
    expect(full2.failed, full2.text).toBeFalsy();
    const f2 = (full2.data as BackupData).backup;
    // Fake the age of everything taken so far: all older than the 7-day window.
    const catalogFile = join(c.config.backupDir, 'catalog.json');
    const cat = JSON.parse(readFileSync(catalogFile, 'utf8')) as { backups: Array<{ id: string; path: string; startedAt: string; finishedAt: string }> };
    const day = 86_400_000;
    cat.backups.forEach((b, i) => {
      const age = (20 - i) * day;
      b.startedAt = new Date(Date.parse(b.startedAt) - age).toISOString();
      b.finishedAt = new Date(Date.parse(b.finishedAt) - age).toISOString();
    });
    writeFileSync(catalogFile, JSON.stringify(cat));
    const old = cat.backups.filter((b) => b.id !== f2.id);
    expect(old.length).toBeGreaterThanOrEqual(3);
    const inc = await c.run('/cluster backup incremental');
    expect(inc.failed, inc.text).toBeFalsy();
    const incId = (inc.data as BackupData).backup.id;

    const card = await c.run('/cluster backup prune');
    expect(card.buttons?.map((b) => b.label)).toEqual(['Delete them', 'Cancel']);
    const plan = (card.data as { prune: { remove: string[]; keep: string[]; wal: string[]; keepWalFrom: string } }).prune;
    expect(plan.remove.sort()).toEqual(old.map((b) => b.id).sort());
    expect(plan.keep).toEqual([f2.id, incId]);
    expect(plan.keepWalFrom).toBe(f2.firstWal);
    expect(plan.wal.length).toBeGreaterThan(0);
    expect(plan.wal.every((w) => w.slice(8, 24) < f2.firstWal.slice(8, 24))).toBe(true);
    for (const b of old) expect(existsSync(b.path)).toBe(true);

    const done = await c.press(card.buttons![0].actionId, olga);
    expect(done.failed, done.text).toBeFalsy();
    for (const b of old) expect(existsSync(b.path), b.id).toBe(false);
    const list = (await c.run('/cluster backups')).data as { backups: Array<{ id: string }> };
    expect(list.backups.map((b) => b.id)).toEqual([incId, f2.id]);
    const left = readdirSync(archive()).filter((f) => /^[0-9A-F]{24}$/.test(f));
    expect(left.every((f) => f.slice(8, 24) >= f2.firstWal.slice(8, 24))).toBe(true);
    expect(left).toContain(f2.firstWal);
    const nothing = await c.run('/cluster backup prune');
    expect(nothing.title).toMatch(/nothing to prune/);

    const rc = await step('restore-check after prune', '/cluster restore-check');
    expect(rc.failed, rc.text).toBeFalsy();
    const [{ n }] = await c.sql<{ n: number }>('primary', 'SELECT count(*)::int AS n FROM proyecto.usuarios');
    expect((rc.data as RestoreData).usuarios).toBe(n);
    expect((rc.data as RestoreData).backup).toBe(f2.id);
  });

  it('refuses bad input with one line: unknown id, a time before the oldest backup, a malformed time', async () => {
    const [newest] = ((await c.run('/cluster backups')).data as { backups: Array<{ id: string }> }).backups;
    for (const [text, pattern] of [
      ['/cluster verify full-20200101T000000Z', /unknown backup id "full-20200101T000000Z" — \/cluster backups lists them/],
      ['/cluster restore-check full-nosuch', /unknown backup id "full-nosuch"/],
      [`/cluster restore-check ${newest.id} 2020-01-01T00:00:00Z`, /2020-01-01T00:00:00.000Z is before the oldest restorable point/],
      [`/cluster restore-check ${newest.id} yesterday`, /time "yesterday" is not a time like 2026-11-25T19:30:00Z/],
      [`/cluster restore-check ${newest.id} 2026-13-45T99:00:00Z`, /is not a time like/],
      ['/cluster restore-check 2999-01-01T00:00:00Z', /is in the future/],
      ['/cluster backup weekly', /accepted: full, incremental, prune/],
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
