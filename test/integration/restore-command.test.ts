// The nodes' restore_command (pgBackRest archive-get) on a real cluster: synchronous. A promotion
// waits for every restore_command the standby runs (the next segment, the timeline history files);
// asynchronously, each one for a file not in the spool sleeps 100 ms, 200 ms, 400 ms… for its helper,
// which delayed confirmed failovers by up to a second under load.
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgbackrestPaths } from '../../src/backup/pgbackrest/conf.js';
import { pgUser } from '../../src/backup/files.js';
import { runProgram } from '../../src/runtime/process.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/wait.js';

describe('restore_command during a promotion', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startTestCluster({ nodes: (p) => `primary:${p[0]},standby:${p[1]}`, nodeCount: 2 });
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('runs archive-get synchronously: a failover leaves no asynchronous queue its promotion would wait on', async () => {
    await c.app.services.runtime.kill(c.app.services.node('primary'));
    const card = await c.run('/cluster failover standby');
    expect(card.buttons?.length, card.text).toBeTruthy();
    const r = await c.press(card.buttons![0].actionId);
    expect(r.failed, r.text).toBeFalsy();
    // The standby ran restore_command for the segment after the last one it had (after the kill, and
    // again once promoted): asynchronously, pgBackRest's helper leaves its queue in the spool.
    const queue = join(pgbackrestPaths(c.config).dir, 'spool', 'standby', 'archive', c.config.BACKUP_STANZA, 'in');
    expect(existsSync(queue) ? `queue ${queue}: ${readdirSync(queue).join(', ') || 'empty'}` : 'no queue').toBe('no queue');
    const [{ command }] = await c.sql<{ command: string }>('standby', "SELECT current_setting('restore_command') AS command");
    expect(readFileSync(command.match(/--config=(\S+)/)![1], 'utf8')).toMatch(/\[global:archive-get\]\narchive-async=n\n/);
  });

  it('asks pgBackRest only for a file the repository holds: a missing one is answered "not there" at once; a held one is restored', async () => {
    const [{ command }] = await c.sql<{ command: string }>('standby', "SELECT current_setting('restore_command') AS command");
    const stanzaDir = join(pgbackrestPaths(c.config).repo, 'archive', c.config.BACKUP_STANZA);
    const archiveId = readdirSync(stanzaDir).find((d) => /^\d+-\d+$/.test(d))!;
    // The new timeline's history file reaches the repository through the asynchronous archive-push.
    const held = await eventually('00000002.history archived', () => readdirSync(join(stanzaDir, archiveId)).sort(), (fs) => fs.includes('00000002.history'));
    const history = held.find((f) => f.endsWith('.history'));
    const folder = held.find((f) => /^[0-9A-F]{16}$/.test(f))!;
    const segment = readdirSync(join(stanzaDir, archiveId, folder)).map((f) => f.slice(0, 24)).find((f) => /^[0-9A-F]{24}$/.test(f))!;
    expect({ history, segment }, `the repository holds ${held.join(', ')}`).toMatchObject({ history: expect.any(String), segment: expect.any(String) });
    const dir = mkdtempSync(join(tmpdir(), 'cb-restore-'));
    const user = pgUser() ?? undefined;
    if (user) chownSync(dir, user.uid, user.gid);
    const restore = (file: string) =>
      runProgram('sh', ['-c', command.replaceAll('%f', file).replaceAll('%p', join(dir, file))], {
        user,
        cwd: dir,
        // pgBackRest says on stderr when it starts (a synchronous archive-get logs to no file).
        env: { HOME: c.config.home, PGBACKREST_LOG_LEVEL_STDERR: 'info' },
      });
    try {
      for (const missing of ['000000FF.history', '000000FF00000000000000FF', `${segment.slice(0, 16)}000000FE`]) {
        const r = await restore(missing);
        expect(r.code, `${missing}: ${r.stderr}`).toBe(1);
        expect(existsSync(join(dir, missing))).toBe(false);
        expect(r.stderr, `pgBackRest was started for ${missing}`).not.toContain('archive-get command begin');
      }
      for (const file of [history!, segment]) {
        const r = await restore(file);
        expect(r.code, `${file}: ${r.stderr}`).toBe(0);
        expect(statSync(join(dir, file)).size).toBeGreaterThan(0);
        expect(r.stderr).toContain('archive-get command begin');
        expect(r.stderr).toContain(`[${file}, `);
      }
      expect(statSync(join(dir, segment)).size).toBe(16 * 1024 * 1024);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
