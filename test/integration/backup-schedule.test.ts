// Scheduled backups post report cards through the terminal adapter; a failed run is loud; the WAL
// archiver refuses to overwrite a different file and the failure shows in /cluster status;
// an overdue backup is a warning in status.
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCard, startBackupSchedules } from '../../src/backup/install.js';
import { ShellAdapter } from '../../src/chat/shell/shell-adapter.js';
import { principal, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/wait.js';

const NEVER = '0 0 1 1 *';

describe('backup schedules, channel reports and the WAL archiver', () => {
  let c: TestCluster;
  let posted = '';

  beforeAll(async () => {
    c = await startTestCluster();
    const output = new PassThrough();
    output.on('data', (d: Buffer) => {
      posted += d.toString();
    });
    c.app.notifier.add(new ShellAdapter(c.app.router, { input: new PassThrough(), output, user: c.admin }));
  });
  afterAll(async () => {
    await c?.destroy();
  });

  const archiverField = async () => (await c.run('/cluster status')).fields?.find((f) => f.label === 'WAL archiver')?.value ?? '';

  it('the archiver refuses to overwrite a different file of the same name, and status shows the failure', async () => {
    const archive = c.config.walArchiveDir;
    await c.sql('primary', "INSERT INTO proyecto.logs_replicacion (evento) VALUES ('archiver test')");
    const [{ seg }] = await c.sql<{ seg: string }>('primary', 'SELECT pg_walfile_name(pg_current_wal_lsn()) AS seg');
    writeFileSync(join(archive, seg), 'an impostor, not this segment');
    await c.sql('primary', 'SELECT pg_switch_wal()');
    await eventually('the archiver failure in status', archiverField, (v) => v.includes('FAILING'), { timeoutMs: 30_000 });
    expect(await archiverField()).toMatch(new RegExp(`FAILING since .* on ${seg} \\(\\d+ failures\\)`));
    expect((await c.run('/cluster status')).severity).toBe('warn');
    expect(readFileSync(join(archive, seg), 'utf8')).toBe('an impostor, not this segment');

    rmSync(join(archive, seg));
    await c.sql('primary', "INSERT INTO proyecto.logs_replicacion (evento) VALUES ('archiver test 2')");
    await c.sql('primary', 'SELECT pg_switch_wal()');
    await eventually('the archiver to recover', archiverField, (v) => v.startsWith('ok'), { timeoutMs: 30_000 });
    expect(existsSync(join(archive, seg)) && statSync(join(archive, seg)).size).toBe(16 * 1024 * 1024);
  });

  it('a scheduled full backup posts its report card to the backups channel', async () => {
    posted = '';
    const scheduler = startBackupSchedules(c.app, { full: '*/2 * * * * *', incremental: NEVER, prune: NEVER })!;
    try {
      await eventually('a report card', () => posted, (p) => p.includes('[#backups]'), { timeoutMs: 60_000 });
    } finally {
      await scheduler.stop();
    }
    const card = posted.slice(posted.indexOf('[#backups]'));
    expect(card).toMatch(/\[#backups\] ✅ Backup full-\S+ taken and verified/);
    for (const label of ['Kind: full', 'Size: ', 'Duration: ', 'Throughput: ', 'Verify: passed', 'Next run: ']) expect(card).toContain(label);
    const status = await c.run('/cluster status');
    expect(status.fields?.find((f) => f.label === 'Last backup')?.value).toMatch(/^full-\S+, .* verified ✓$/);
    const audit = c.app.services.audit.tail(5).findLast((e) => e.kind === 'auto');
    expect(audit).toMatchObject({ command: 'backup full (scheduled)', outcome: 'ok', user: 'clusterbot' });
  });

  it('an overdue backup is a warning in /cluster status', async () => {
    const file = join(c.config.backupDir, 'catalog.json');
    const cat = JSON.parse(readFileSync(file, 'utf8')) as { backups: Array<{ startedAt: string; finishedAt: string }> };
    const old = new Date(Date.now() - 30 * 86_400_000).toISOString();
    for (const b of cat.backups) Object.assign(b, { startedAt: old, finishedAt: old });
    writeFileSync(file, JSON.stringify(cat));
    expect(await c.app.services.backups!.overdue()).toMatch(/^full backup overdue: the last one \(full-\S+\) finished 720\.\d h ago; "0 2 \* \* 0" expects one every 168\.0 h$/);
    const line = (await c.run('/cluster status')).fields?.find((f) => f.label === 'Last backup')?.value;
    expect(line).toMatch(/⚠️ full backup overdue/);
  });

  it('a scheduled retention run prunes the WAL before the newest full, which is kept although 30 days old', async () => {
    const { backupScheduler: scheduler, backups: service } = c.app.services;
    // The 2-second schedule above may have fired more than once before it was stopped (a busy machine):
    // every backup is 30 days old now, and retention keeps only the newest full.
    const before = service.catalog.list();
    const full = before.filter((e) => e.kind === 'full').sort((a, b) => a.id.localeCompare(b.id)).at(-1)!;
    const run = await scheduler.runOnce('prune');
    expect(run.ok).toBe(true);
    expect(service.catalog.list().map((e) => e.id)).toEqual([full.id]);
    const segments = readdirSync(c.config.walArchiveDir).filter((f) => /^[0-9A-F]{24}$/.test(f));
    expect(segments.every((f) => f.slice(8) >= full.firstWal.slice(8))).toBe(true);
    expect(runCard(run).title).toMatch(new RegExp(`^Retention: pruned ${before.length - 1} backups and [1-9]\\d* WAL files$`));
  });

  it('refuses a second backup operation while one holds the lock, even from another process', async () => {
    const lock = join(c.config.backupDir, '.backup.lock');
    writeFileSync(lock, JSON.stringify({ pid: process.ppid, what: 'a full backup', at: new Date().toISOString() }));
    try {
      const r = await c.run('/cluster backup incremental', principal('olga'));
      expect(r.text).toMatch(new RegExp(`a full backup is already in progress \\(process ${process.ppid}, since`));
    } finally {
      rmSync(lock);
    }
  });

  it('a scheduled backup with every node stopped posts a loud failure card with the error', async () => {
    for (const n of c.config.nodes) await c.app.services.runtime.stop(n, 'fast');
    posted = '';
    const scheduler = startBackupSchedules(c.app, { full: '*/2 * * * * *', incremental: NEVER, prune: NEVER })!;
    try {
      await eventually('a failure card', () => posted, (p) => p.includes('[#backups]'), { timeoutMs: 60_000 });
    } finally {
      await scheduler.stop();
    }
    const card = posted.slice(posted.indexOf('[#backups]'));
    expect(card).toMatch(/\[#backups\] 🚨 Full backup FAILED/);
    expect(card).toMatch(/no node can serve a backup \(primary: stopped, standby: stopped, readonly: stopped\)/);
    expect(card).toContain('Next run: ');
    expect(c.app.services.audit.tail(5).findLast((e) => e.kind === 'auto')).toMatchObject({ outcome: 'failed' });
  });
});
