// How many transactions a discarded WAL range held: pg_waldump over the range, on segments from the
// pgBackRest repository (archive-get) or read over SQL from a member that still has them in its
// pg_wal (pg_read_binary_file, as the superuser the bot logs in as). Patroni rewinds or re-clones
// the member that held them soon after, so this is tried at once, and says why when it cannot.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NodeConfig } from '../config.js';
import type { Services } from '../core/context.js';
import { parseLsn } from '../cluster/lsn.js';
import { findPgBin } from '../runtime/pg-binaries.js';
import { runProgram } from '../runtime/process.js';
import { chownTreeToPostgres, pgUser } from '../backup/files.js';
import { commandLineOptions } from '../backup/pgbackrest/conf.js';
import { pgbackrestError } from '../backup/pgbackrest/site.js';
import type { DiscardedRange } from './timelines.js';

const run = promisify(execFile);
const SEGMENT = 16n * 1024n * 1024n;
const hex8 = (n: bigint | number) => n.toString(16).toUpperCase().padStart(8, '0');

export type Count = { ok: true; transactions: number; source: string } | { ok: false; why: string };

/** WAL file names covering [from, to] on a timeline (16 MB segments, PostgreSQL's default). */
export function segmentsFor(timeline: number, from: string, to: string): string[] {
  const a = (parseLsn(from) ?? 0n) / SEGMENT;
  const b = (parseLsn(to) ?? 0n) / SEGMENT;
  const names: string[] = [];
  for (let s = a; s <= b && names.length < 64; s++) names.push(`${hex8(timeline)}${hex8(s / 256n)}${hex8(s % 256n)}`);
  return names;
}

/** Count COMMIT records in the range; `holders` are asked in order (the demoted leader first). */
export async function countDiscarded(services: Services, r: DiscardedRange, holders: NodeConfig[]): Promise<Count> {
  const pgBin = findPgBin(services.config.PG_BIN);
  if (!pgBin) return { ok: false, why: 'pg_waldump is not installed where the bot runs' };
  const names = segmentsFor(r.timeline, r.from, r.to);
  const dir = mkdtempSync(join(tmpdir(), 'cb-discarded-'));
  const misses: string[] = [];
  try {
    const archived = await fromArchive(services, holders, names, dir);
    if (archived === true) return await waldump(pgBin, dir, r, 'the WAL archive');
    misses.push(`the WAL archive has no timeline-${r.timeline} segment ${names[0]}${archived ? ` (${archived})` : ''}`);
    for (const node of holders) {
      const got = await fromMember(services, node, names, dir);
      if (got === true) return await waldump(pgBin, dir, r, `${node.name}'s pg_wal`);
      misses.push(`${node.name}: ${got}`);
    }
    return { ok: false, why: misses.join('; ') };
  } catch (e) {
    return { ok: false, why: (e as Error).message.split('\n')[0] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The segments from the repository with pgbackrest archive-get (decompressed, checked). archive-get
 * reads pg_control under pg1-path to match the database: a member's copy, read over SQL, serves.
 */
async function fromArchive(services: Services, holders: NodeConfig[], names: string[], dir: string): Promise<true | string | null> {
  const { config } = services;
  const control = await controlFile(services, holders);
  if (!control) return null;
  const pg1 = join(dir, 'pg1');
  mkdirSync(join(pg1, 'global'), { recursive: true });
  writeFileSync(join(pg1, 'global', 'pg_control'), control);
  chownTreeToPostgres(dir);
  const options = commandLineOptions(config, config.walArchiveDir, 'archive-get');
  for (const n of names) {
    const r = await runProgram('pgbackrest', ['--config=/dev/null', ...options, `--stanza=${config.BACKUP_STANZA}`, `--pg1-path=${pg1}`, `--lock-path=${dir}`, `--log-path=${dir}`, 'archive-get', n, join(dir, n)], { user: pgUser(), cwd: dir, timeoutMs: 60_000 });
    // Exit 1: not in the repository; anything else is pgBackRest's own error.
    if (r.code !== 0) return r.code === 1 ? null : pgbackrestError(r);
  }
  return true;
}

async function controlFile(services: Services, holders: NodeConfig[]): Promise<Buffer | null> {
  for (const node of [...services.config.nodes.filter((n) => !holders.includes(n)), ...holders]) {
    try {
      const r = await services.pools.query<{ data: Buffer }>(node, "SELECT pg_read_binary_file('global/pg_control') AS data");
      return r.rows[0].data;
    } catch {
      // the next member
    }
  }
  return null;
}

async function fromMember(services: Services, node: NodeConfig, names: string[], dir: string): Promise<true | string> {
  try {
    for (const n of names) {
      const r = await services.pools.query<{ data: Buffer }>(node, `SELECT pg_read_binary_file('pg_wal/' || $1) AS data`, [n]);
      writeFileSync(join(dir, n), r.rows[0].data);
    }
    return true;
  } catch (e) {
    await services.pools.reset(node);
    return (e as Error).message;
  }
}

async function waldump(pgBin: string, dir: string, r: DiscardedRange, source: string): Promise<Count> {
  const args = ['--path', dir, '--timeline', String(r.timeline), '--start', r.from, '--end', r.to, '--rmgr', 'Transaction'];
  // pg_waldump exits non-zero when the range ends inside a record the segment does not finish; what it printed before counts.
  const out = await run(`${pgBin}/pg_waldump`, args, { maxBuffer: 64 * 1024 * 1024 }).then(
    (x) => x.stdout,
    (e: { stdout?: string; stderr?: string }) => {
      if (!e.stdout) throw new Error(`pg_waldump: ${e.stderr?.trim() ?? 'failed'}`);
      return e.stdout;
    },
  );
  const transactions = out.split('\n').filter((l) => /desc: COMMIT/.test(l)).length;
  return { ok: true, transactions, source };
}
