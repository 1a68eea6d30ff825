// Hostile surroundings on a real cluster: a "PostgreSQL node" that accepts TCP but never answers
// (a net.Server on its port that never writes), and a full disk under the WAL archive (a small
// tmpfs mounted over it). Each time: the command answers with one clear line, nothing runs that
// should not, nothing is lost, and the bot keeps answering.
import { execFileSync } from 'node:child_process';
import { chownSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/wait.js';

interface NodeRow {
  name: string;
  up: boolean;
  role: string;
  error: string | null;
  archiver?: { failing: boolean; lastFailedWal: string | null; lastArchivedWal: string | null; failedCount: number } | null;
}

describe('hostile surroundings (real cluster)', () => {
  let c: TestCluster;
  const nodes = async () => ((await c.run('/cluster status')).data as { nodes: NodeRow[] }).nodes;
  /** Poll `/cluster status` until `ok` holds (deadline); on timeout say what it last showed. */
  const statusUntil = async (what: string, ok: (n: NodeRow[]) => boolean, timeoutMs = 60_000): Promise<NodeRow[]> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = await nodes();
      if (ok(n)) return n;
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}; last status: ${JSON.stringify(n)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };

  beforeAll(async () => {
    c = await startTestCluster();
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('absurd arguments: each refused with one line naming what is accepted; nothing changes, the bot keeps answering', async () => {
    const absurd = [
      '/cluster history -1',
      '/cluster history 99999999999999999999999',
      '/cluster logs primary 1000000000',
      '/cluster lag 500y',
      '/cluster maintenance on 99999999d',
      `/cluster stop ${'x'.repeat(10_000)}`,
      '/cluster stop primary\u0000',
      '/cluster backup everything',
      '/cluster restore-check latest 1970-13-45T99:99',
      '/cluster failover standby standby standby',
    ];
    for (const text of absurd) {
      const r = await c.run(text);
      console.log(`[observed] ${text.slice(0, 60)} → ${r.text?.slice(0, 160)}`);
      expect(r.failed, text.slice(0, 60)).toBe(true);
      expect(r.text!.split('\n'), text.slice(0, 60)).toHaveLength(1);
      expect(r.text!.length, text.slice(0, 60)).toBeLessThan(400);
    }
    // A choice names the choices once, in our words (not zod's "Invalid option: expected one of …").
    expect((await c.run('/cluster backup everything')).text).toBe('kind "everything" is not one of the choices — accepted: full, diff, incr, differential, incremental, prune — usage: /cluster backup full|diff|incr|differential|incremental|prune');
    const rows = await nodes();
    expect(rows.every((n) => n.up)).toBe(true);
    expect((await c.run('/cluster maintenance off')).failed).toBeFalsy();
  });

  it('a node that accepts TCP but never answers: status still answers within the timeouts, names the node down, the rest is intact', async () => {
    const readonly = c.app.services.node('readonly');
    await c.app.services.runtime.stop(readonly, 'fast');
    const accepted: Socket[] = [];
    let released = 0;
    const blackhole = createServer((socket) => {
      accepted.push(socket);
      socket.resume(); // read and discard the startup packet; never write a byte back
      socket.on('close', () => released++);
    });
    await new Promise<void>((r) => blackhole.listen(readonly.port, '127.0.0.1', () => r()));
    try {
      const t0 = performance.now();
      const r = await c.run('/cluster status');
      const ms = performance.now() - t0;
      const { PG_CONNECT_TIMEOUT_MS, PG_QUERY_TIMEOUT_MS } = c.config;
      console.log(`[timing] /cluster status with a silent node: ${Math.round(ms)} ms (connect timeout ${PG_CONNECT_TIMEOUT_MS} ms)`);
      expect(accepted.length, 'the bot did try the silent node').toBeGreaterThan(0);
      // Bounded by the per-node timeouts (generous for a loaded machine), not by the silent peer.
      expect(ms).toBeLessThan(3 * (PG_CONNECT_TIMEOUT_MS + PG_QUERY_TIMEOUT_MS));
      const rows = (r.data as { nodes: NodeRow[] }).nodes;
      expect(rows.find((n) => n.name === 'readonly')).toMatchObject({ up: false });
      expect(rows.find((n) => n.name === 'readonly')!.error).toBeTruthy();
      expect(rows.filter((n) => n.up).map((n) => n.name)).toEqual(['primary', 'standby']);
      // The bot gave the connection up (no leak) and keeps answering.
      // Watched without asking status again: each status opens a fresh attempt, and the round ends at its
      // deadline a moment before the pool drops the attempt it gave up on.
      await eventually('the silent connection to be released', () => ({ accepted: accepted.length, released }), (x) => x.released >= 1 && x.released === x.accepted);
      expect((await c.run('/cluster nodes')).failed).toBeFalsy();
    } finally {
      for (const s of accepted) s.destroy();
      await new Promise<void>((r) => blackhole.close(() => r()));
      await c.app.services.runtime.start(readonly);
    }
  });

  it('a full disk under the WAL archive: the archiver failure is shown, a full backup refuses with one line, nothing is lost once space is back', async () => {
    // A 40 MB tmpfs over the backup folder with the pgBackRest repository copied onto it, filled up
    // (a compressed segment of a quiet cluster takes a few kB).
    const dir = c.config.walArchiveDir;
    const backups = c.config.backupDir;
    const backupsOwner = statSync(backups);
    const saved = `${c.home}/repo-before-tmpfs`;
    execFileSync('cp', ['-a', dir, saved]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=40m,mode=${(backupsOwner.mode & 0o7777).toString(8)}`, 'clusterbot-full-archive', backups]);
    const filler = join(backups, 'filler');
    try {
      chownSync(backups, backupsOwner.uid, backupsOwner.gid);
      execFileSync('cp', ['-a', saved, dir]);
      const free = Number(execFileSync('df', ['--output=avail', '-B1', backups]).toString().split('\n')[1]);
      writeFileSync(filler, Buffer.alloc(free));
      await c.sql('primary', 'CREATE TABLE IF NOT EXISTS hostile_disk (x int)');
      await c.sql('primary', 'INSERT INTO hostile_disk SELECT generate_series(1, 1000)');
      await c.sql('primary', 'SELECT pg_switch_wal()');
      const failing = await statusUntil('the archiver to report the failure', (n) => n.find((x) => x.name === 'primary')?.archiver?.failing === true);
      const failedWal = failing.find((x) => x.name === 'primary')!.archiver!.lastFailedWal!;
      expect(failedWal).toMatch(/^[0-9A-F]{24}$/);
      const card = await c.run('/cluster status');
      expect(JSON.stringify(card.fields)).toMatch(new RegExp(`FAILING since .* on ${failedWal}`));

      const backup = await c.run('/cluster backup full');
      console.log(`[observed] backup full on a full disk: ${backup.text}`);
      expect(backup.failed).toBe(true);
      expect(backup.text!.split('\n')).toHaveLength(1);
      expect(backup.text).toMatch(/space/i);
      expect((await c.run('/cluster backups')).text ?? '').not.toMatch(/verified/i);

      // Space is back: the archiver catches up, and the segment that failed is in the archive.
      unlinkSync(filler);
      await c.sql('primary', 'INSERT INTO hostile_disk SELECT generate_series(1, 1000)');
      await c.sql('primary', 'SELECT pg_switch_wal()');
      await statusUntil('the archiver to catch up past the failed segment', (n) => {
        const a = n.find((x) => x.name === 'primary')?.archiver;
        return !!a && !a.failing && (a.lastArchivedWal ?? '') >= failedWal;
      }, 120_000);
      const sub = join(dir, 'archive', 'clusterbot', '15-1', failedWal.slice(0, 16));
      expect(readdirSync(sub).some((f) => f.startsWith(`${failedWal}-`))).toBe(true);
      const rows = await c.sql<{ n: number }>('primary', 'SELECT count(*)::int AS n FROM hostile_disk');
      expect(rows[0].n).toBe(2000);
    } finally {
      try {
        execFileSync('umount', [backups]);
      } catch {
        execFileSync('umount', ['-l', backups]);
      }
    }
  }, 180_000);
});
