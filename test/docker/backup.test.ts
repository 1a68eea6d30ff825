// Backups on pgBackRest with RUNTIME=docker on the compose stack, the bot on the host: the nodes push
// WAL into the repository on the shared backups volume (a bind of the bot's BACKUP_DIR), pgbackrest
// backup runs in a streaming replica's container with backup-standby (the primary reached through its
// pgBackRest TLS server), in the primary's when no replica streams, and the bot verifies and
// restore-checks from the same repository on the host, in a scratch instance.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principal } from '../helpers/cluster.js';
import { dockerKill, newDockerCluster, sh, until, type DockerCluster } from '../helpers/docker.js';
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

/** pgBackRest's own account of the newest backup run, from its log on the shared volume (detail level: one line per file). */
function lastBackupLog(backupDir: string): { begin: string; text: string; files: string[] } {
  const log = readFileSync(join(backupDir, 'pgbackrest-log', 'clusterbot-backup.log'), 'utf8');
  const run = log.slice(log.lastIndexOf('backup command begin'));
  const files = [...run.matchAll(/DETAIL: (?:backup file|match file from prior backup) (\S+) \(/g)].map((m) => m[1]);
  return { begin: run.split('\n')[0], text: run, files };
}

/** The option pgBackRest recorded in the backup's manifest in the repository. */
function manifestBackupStandby(archiveDir: string, id: string): string | undefined {
  return /^option-backup-standby=(\w+)$/m.exec(readFileSync(join(archiveDir, 'backup', 'clusterbot', id, 'backup.manifest'), 'utf8'))?.[1];
}

/**
 * Proof that the data files were read beside the standby, not in the primary's container: every file of
 * base/ (the tables) is local to the command, which the bot runs in the standby's container, and what
 * pgBackRest fetched from postgresql-primary (its TLS server) is only what is not replicated.
 */
function expectCopiedFromStandby(backupDir: string, archiveDir: string, id: string, minTableFiles: number, primary = 'primary'): void {
  const { begin, text, files } = lastBackupLog(backupDir);
  const host = `postgresql-${primary}`;
  expect(begin).toContain('--backup-standby');
  expect(begin).toContain(`--pg1-host=${host}`);
  expect(begin).toContain('--pg1-host-type=tls');
  expect(text).toMatch(/replay on the standby reached/);
  const remote = files.filter((f) => /^[\w-]+:\//.test(f));
  const tables = files.filter((f) => f.includes('/pgdata/base/'));
  expect(tables.length, text.slice(0, 2000)).toBeGreaterThanOrEqual(minTableFiles);
  expect(tables.filter((f) => f.startsWith(`${host}:`))).toEqual([]);
  expect(remote.every((f) => f.startsWith(`${host}:`)), remote.join(', ')).toBe(true);
  expect(remote.filter((f) => f.includes('/pgdata/global/'))).toEqual([`${host}:/var/lib/postgresql/data/pgdata/global/pg_control`]);
  expect(manifestBackupStandby(archiveDir, id)).toBe('true');
}

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
    // The image's restore_command (postgres/restore-if-archived.sh) answers a file the repository lacks
    // without starting pgBackRest, and hands a held one to archive-get.
    const [{ command }] = await c.sql<{ command: string }>('standby', "SELECT current_setting('restore_command') AS command");
    const standby = await c.container('standby');
    const restore = async (f: string) => {
      const run = `${command.replaceAll('%f', f).replaceAll('%p', `/tmp/${f}`)} 2>&1; echo "exit $?"; stat -c '%s' /tmp/${f} 2>/dev/null; rm -f /tmp/${f}`;
      return (await sh('docker', ['exec', '-u', 'postgres', '-e', 'PGBACKREST_LOG_LEVEL_STDERR=info', standby, 'sh', '-c', run])).stdout.trim();
    };
    expect(command).toContain('restore-if-archived.sh');
    expect(await restore('000000FF00000000000000FF')).toBe('exit 1');
    expect(await restore('000000FF.history')).toBe('exit 1');
    const held = await restore(seg);
    expect(held).toContain('archive-get command begin');
    expect(held).toMatch(/exit 0\n16777216$/);
  });

  it('backup full from a streaming replica (backup-standby through the primary\'s TLS server) → verified → restore-check on the host finds the 5 usuarios', async () => {
    const r = await step('backup full', '/cluster backup full');
    expect(r.failed, r.text).toBeFalsy();
    const d = r.data as BackupData;
    fullId = d.backup.id;
    expect(d.backup).toMatchObject({ kind: 'full', timeline: 1, verified: true });
    expect(['standby', 'readonly']).toContain(d.backup.node);
    // The card says which node served it.
    expect(r.fields?.find((f) => f.label === 'Taken from')?.value).toBe(d.backup.node);
    expect(d.verify.ok, d.verify.problems.join('; ')).toBe(true);
    console.info(`[docker backup] ${fullId}: ${d.backup.sizeBytes} bytes from ${d.backup.node} in ${d.backup.durationMs} ms`);
    // A new cluster's three databases hold several hundred files.
    expectCopiedFromStandby(c.config.backupDir, c.config.walArchiveDir, fullId, 300);

    const v = await step('verify', `/cluster verify ${fullId}`);
    expect(v.failed, v.text).toBeFalsy();
    expect(v.title).toMatch(/verified/);

    const rc = await step('restore-check', `/cluster restore-check ${fullId}`);
    expect(rc.failed, rc.text).toBeFalsy();
    expect((rc.data as RestoreData).usuarios).toBe(5);
    timings['restore (measured by the bot)'] = (rc.data as RestoreData).restoreMs;
    expect(readdirSync(join(c.home, 'scratch'))).toEqual([]);
  }, 300_000);

  it('rows written after the backup come back from the archived WAL; an incr from the replica builds on the full', async () => {
    await c.sql('primary', "INSERT INTO proyecto.usuarios (nombre, email) VALUES ('docker 1', 'd1@example.com'), ('docker 2', 'd2@example.com')");
    const inc = await step('backup incr', '/cluster backup incr');
    expect(inc.failed, inc.text).toBeFalsy();
    const d = inc.data as BackupData;
    expect(d.backup).toMatchObject({ kind: 'incr', prior: fullId, verified: true });
    expect(['standby', 'readonly']).toContain(d.backup.node);
    // Only what changed is copied: usuarios at least.
    expectCopiedFromStandby(c.config.backupDir, c.config.walArchiveDir, d.backup.id, 1);
    const rc = await step('restore-check (latest)', `/cluster restore-check ${d.backup.id}`);
    expect(rc.failed, rc.text).toBeFalsy();
    expect((rc.data as RestoreData).usuarios).toBe(7);
  }, 300_000);

  it('the primary\'s pgBackRest server dead (its supervisor frozen): the backup from the replica fails loudly naming it; restarted, the next one works', async () => {
    const primary = await c.container('primary');
    const inPrimary = async (script: string) => (await sh('docker', ['exec', primary, 'sh', '-c', script])).stdout.trim();
    const server = await inPrimary('cat /tmp/pgbackrest/server.pid');
    const supervisor = await inPrimary(`cut -d' ' -f4 /proc/${server}/stat`);
    const sets = async () => ((await c.run('/cluster backups')).data as { backups: unknown[] }).backups.length;
    // The server alone killed: its supervisor starts another within 5 s, and a backup asked right then
    // waits for it (the replica's ping tries for about 16 s).
    await inPrimary(`kill -9 ${server}`);
    const during = await step('backup incr (server restarting)', '/cluster backup incr');
    expect(during.failed, during.text).toBeFalsy();
    expect(['standby', 'readonly']).toContain((during.data as BackupData).backup.node);
    const restarted = await inPrimary('cat /tmp/pgbackrest/server.pid');
    expect(restarted).not.toBe(server);
    const before = await sets();
    await inPrimary(`kill -STOP ${supervisor} && kill -9 ${restarted}`);
    try {
      const r = await step('backup incr (no server)', '/cluster backup incr');
      expect(r.failed, r.text).toBe(true);
      expect(r.text).toContain("pgBackRest's TLS server in postgresql-primary's container, port 8432");
      expect(r.text).toContain('BACKUP_FROM=primary');
      expect(await sets()).toBe(before);
    } finally {
      await inPrimary(`kill -CONT ${supervisor}`);
    }
    // A new server process, listening on 8432 (hex 20F0) again.
    await until('a new pgBackRest server listening in the primary\'s container', async () => {
      const pid = await inPrimary('cat /tmp/pgbackrest/server.pid');
      const listening = await inPrimary("grep -Eqs ':20F0 0+:0000 0A' /proc/net/tcp /proc/net/tcp6 && echo yes || true");
      return pid !== restarted && listening === 'yes' ? pid : null;
    }, 60_000);
    const again = await step('backup incr (server back)', '/cluster backup incr');
    expect(again.failed, again.text).toBeFalsy();
    expect(['standby', 'readonly']).toContain((again.data as BackupData).backup.node);
  }, 300_000);

  it('with no replica streaming (both stopped) the backup falls back to the primary\'s container, and restores', async () => {
    await c.compose('stop', 'postgresql-standby', 'postgresql-readonly');
    await until('no streaming replica', async () => {
      const s = await c.app.services.snapshot();
      return s.primary === 'primary' && !s.nodes.some((n) => n.streaming) ? s : null;
    }, 120_000);
    const inc = await step('backup incr (primary)', '/cluster backup incr');
    expect(inc.failed, inc.text).toBeFalsy();
    const d = inc.data as BackupData;
    expect(d.backup).toMatchObject({ kind: 'incr', node: 'primary', verified: true });
    const { begin, text } = lastBackupLog(c.config.backupDir);
    expect(begin).not.toContain('--pg1-host');
    expect(begin).not.toContain('--pg2-');
    expect(text).not.toMatch(/replay on the standby/);
    expect(manifestBackupStandby(c.config.walArchiveDir, d.backup.id)).toBe('false');
    const rc = await step('restore-check (primary)', `/cluster restore-check ${d.backup.id}`);
    expect(rc.failed, rc.text).toBeFalsy();
    expect((rc.data as RestoreData).usuarios).toBe(7);
  }, 300_000);

  // Replicas back, a failover, the old primary restarted, a full backup and a restore: minutes on a busy machine.
  it('after a failover the new primary is the TLS pg host, and the fenced old primary (up, read-only) is never asked', async () => {
    await c.compose('start', 'postgresql-standby', 'postgresql-readonly');
    await until('two streaming replicas again', async () => (await c.app.services.snapshot()).nodes.filter((n) => n.streaming).length === 2, 180_000);
    await dockerKill(c, 'primary');
    const card = await c.run('/cluster failover');
    expect(card.failed, card.text).toBeFalsy();
    const done = await c.press(card.buttons![0].actionId, principal('alice'));
    expect(done.title, done.text).toMatch(/^Failover done — standby is the primary/);
    // The old primary back up, fenced: it runs read-only and would answer pgBackRest as a standby.
    await sh('docker', ['start', await c.container('primary')]);
    await until('readonly streaming from standby, the old primary up and fenced', async () => {
      const s = await c.app.services.snapshot();
      const node = (name: string) => s.nodes.find((n) => n.name === name)!;
      return node('readonly').streaming && node('readonly').upstream === 'standby' && node('primary').up && node('primary').fenced ? s : null;
    }, 180_000);
    const r = await step('backup full (after failover)', '/cluster backup full');
    expect(r.failed, r.text).toBeFalsy();
    const d = r.data as BackupData;
    expect(d.backup).toMatchObject({ kind: 'full', node: 'readonly', timeline: 2, verified: true });
    expectCopiedFromStandby(c.config.backupDir, c.config.walArchiveDir, d.backup.id, 300, 'standby');
    expect(lastBackupLog(c.config.backupDir).text).not.toContain('postgresql-primary');
    const rc = await step('restore-check (after failover)', `/cluster restore-check ${d.backup.id}`);
    expect(rc.failed, rc.text).toBeFalsy();
    expect((rc.data as RestoreData).usuarios).toBe(7);
  }, 600_000);
});
