// The nodes' restore_command (pgBackRest archive-get) on a real cluster: synchronous. A promotion
// waits for every restore_command the standby runs (the next segment, the timeline history files);
// asynchronously, each one for a file not in the spool sleeps 100 ms, 200 ms, 400 ms… for its helper,
// which delayed confirmed failovers by up to a second under load.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgbackrestPaths } from '../../src/backup/pgbackrest/conf.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';

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
});
