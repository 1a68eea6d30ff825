// Scheduled pgBackRest backups post report cards through the terminal adapter; a failed run is
// loud; archive-push into a repository it cannot write shows in /cluster status; overdue backups.
import { chmodSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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

  it('archive-push into a repository it cannot write fails, status shows it, and it catches up when the repository is back', async () => {
    const dir = join(c.config.walArchiveDir, 'archive', 'clusterbot');
    chmodSync(dir, 0o000);
    let seg = '';
    try {
      await c.sql('primary', "INSERT INTO proyecto.logs_replicacion (evento) VALUES ('archiver test')");
      [{ seg }] = await c.sql<{ seg: string }>('primary', 'SELECT pg_walfile_name(pg_switch_wal()) AS seg');
      await eventually('the archiver failure in status', archiverField, (v) => v.includes('FAILING'), { timeoutMs: 90_000 });
      expect(await archiverField()).toMatch(new RegExp(`FAILING since .* on ${seg} \\(\\d+ failures\\)`));
      expect((await c.run('/cluster status')).severity).toBe('warn');
    } finally {
      chmodSync(dir, 0o750);
    }
    await c.sql('primary', "INSERT INTO proyecto.logs_replicacion (evento) VALUES ('archiver test 2')");
    await c.sql('primary', 'SELECT pg_switch_wal()');
    await eventually('the archiver to recover', archiverField, (v) => v.startsWith('ok'), { timeoutMs: 120_000 });
    const sub = join(dir, '15-1', seg.slice(0, 16));
    expect(readdirSync(sub).some((f) => f.startsWith(`${seg}-`))).toBe(true);
  });

  it('a scheduled full backup posts its report card to the backups channel', async () => {
    posted = '';
    const scheduler = startBackupSchedules(c.app, { full: '*/2 * * * * *', incremental: NEVER, prune: NEVER })!;
    try {
      await eventually('a report card', () => posted, (p) => p.includes('[#backups]'), { timeoutMs: 120_000 });
    } finally {
      await scheduler.stop();
    }
    const card = posted.slice(posted.indexOf('[#backups]'));
    expect(card).toMatch(/\[#backups\] ✅ Backup \d{8}-\d{6}F taken and verified/);
    for (const label of ['Kind: full', 'Database size: ', 'Copied: ', 'Duration: ', 'Throughput: ', 'Verify: passed', 'Next run: ']) expect(card).toContain(label);
    const status = await c.run('/cluster status');
    expect(status.fields?.find((f) => f.label === 'Last backup')?.value).toMatch(/^\d{8}-\d{6}F, .* verified ✓; pgBackRest stanza clusterbot: ok$/);
    const audit = c.app.services.audit.tail(5).findLast((e) => e.kind === 'auto');
    expect(audit).toMatchObject({ command: 'backup full (scheduled)', outcome: 'ok', user: 'clusterbot' });
  });

  it('a backup overdue by more than its schedule is a warning sentence naming the last one', async () => {
    const [last] = ((await c.run('/cluster backups')).data as { backups: Array<{ id: string; kind: string }> }).backups;
    expect(await c.app.services.backups.overdue()).toBeNull();
    const later = Date.now() + 30 * 86_400_000;
    expect(await c.app.services.backups.overdue(later)).toMatch(new RegExp(`^full backup overdue: the last one \\(${last.id}\\) finished 720\\.\\d h ago; "0 2 \\* \\* 0" expects one every 168\\.0 h$`));
  });

  it('a scheduled incremental run takes a pgBackRest incr on the newest full, verified', async () => {
    const run = await c.app.services.backupScheduler.runOnce('incremental');
    expect(run.ok, run.ok ? '' : run.error).toBe(true);
    if (!run.ok) return;
    expect(run.entry).toMatchObject({ kind: 'incr', verified: true });
    expect(run.verify?.ok).toBe(true);
    expect(runCard(run).title).toMatch(/^Backup \d{8}-\d{6}F_\d{8}-\d{6}I taken and verified$/);
    const prune = await c.app.services.backupScheduler.runOnce('prune');
    expect(prune.ok).toBe(true);
    expect(runCard(prune).title).toBe('Retention: nothing to prune');
  });

  it('refuses a second backup operation while one holds the lock, even from another process', async () => {
    const lock = join(c.config.backupDir, '.backup.lock');
    writeFileSync(lock, JSON.stringify({ pid: process.ppid, what: 'a full backup', at: new Date().toISOString() }));
    try {
      const r = await c.run('/cluster backup incr', principal('olga'));
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
