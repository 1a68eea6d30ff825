// Proof of integrity: extract and run pg_verifybackup (full), compare checksums (incremental),
// and check that the WAL archive has every segment needed to restore past the backup's end.
// Extraction and the checking tools run where the bot runs (like the restore check), on any runtime.
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { walDirOf, type BackupEntry } from './catalog.js';
import { chownTreeToPostgres, extractTar, mkdirForPostgres, sha256File } from './files.js';
import type { BackupDeps } from './full.js';
import { archiveListing } from './incremental.js';
import { hostTool } from './scratch.js';
import { checkContinuity, parseSegment, segmentsOf } from './wal.js';

export interface VerifyResult {
  ok: boolean;
  /** One line per problem, each naming the file or segment. */
  problems: string[];
  /** What was checked, for the card. */
  checks: string[];
  ms: number;
}

export async function verifyBackup(deps: BackupDeps, entry: BackupEntry, onStep: (step: string) => void): Promise<VerifyResult> {
  const t0 = performance.now();
  const work = `${deps.config.home}/scratch/verify-${entry.id}-${randomBytes(3).toString('hex')}`;
  const problems: string[] = [];
  const checks: string[] = [];
  try {
    mkdirForPostgres(`${deps.config.home}/scratch`, 0o755);
    if (!existsSync(entry.path)) {
      problems.push(`the backup folder ${entry.path} is gone`);
    } else if (entry.kind === 'full') {
      await verifyFull(deps, entry, work, problems, checks, onStep);
    } else {
      await verifyIncremental(deps, entry, work, problems, checks, onStep);
    }
    onStep('checking WAL continuity in the archive');
    problems.push(...archiveContinuity(deps, entry, checks));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { ok: problems.length === 0, problems, checks, ms: Math.round(performance.now() - t0) };
}

async function verifyFull(deps: BackupDeps, entry: BackupEntry, work: string, problems: string[], checks: string[], onStep: (s: string) => void): Promise<void> {
  const data = `${work}/data`;
  for (const [tarName, into] of [['base.tar.gz', data], ['pg_wal.tar.gz', `${data}/pg_wal`]] as const) {
    const file = `${entry.path}/${tarName}`;
    if (!existsSync(file)) {
      problems.push(`${tarName} is missing from ${entry.id}`);
      return;
    }
    onStep(`extracting ${tarName}`);
    try {
      await extractTar(file, into);
    } catch (e) {
      problems.push((e as Error).message);
      return;
    }
  }
  if (!existsSync(`${entry.path}/backup_manifest`)) {
    problems.push(`backup_manifest is missing from ${entry.id}`);
    return;
  }
  copyFileSync(`${entry.path}/backup_manifest`, `${data}/backup_manifest`);
  chownTreeToPostgres(work);
  onStep('running pg_verifybackup');
  const r = await hostTool(deps.config, 'pg_verifybackup', [data], { timeoutMs: 3600_000 });
  checks.push('pg_verifybackup (every file against the manifest checksums, and the WAL from start to end LSN)');
  if (r.code !== 0) {
    const errors = `${r.stderr}\n${r.stdout}`
      .split('\n')
      .filter((l) => /error:/.test(l))
      .map((l) => l.replace(/^pg_verifybackup: error: /, '').replace(`${data}/`, ''));
    problems.push(...(errors.length ? errors.slice(0, 5) : [`pg_verifybackup failed (exit ${r.code})`]));
  }
}

async function verifyIncremental(deps: BackupDeps, entry: BackupEntry, work: string, problems: string[], checks: string[], onStep: (s: string) => void): Promise<void> {
  onStep('extracting wal.tar.gz');
  try {
    await extractTar(`${entry.path}/wal.tar.gz`, work);
  } catch (e) {
    problems.push((e as Error).message);
    return;
  }
  checks.push(`sha256 of ${entry.wal?.length ?? 0} bundled files`);
  for (const f of entry.wal ?? []) {
    const path = `${work}/${f.name}`;
    if (!existsSync(path)) problems.push(`WAL segment ${f.name} is missing from the bundle`);
    else if ((await sha256File(path)) !== f.sha256) problems.push(`WAL segment ${f.name} in the bundle does not match its checksum`);
  }
  const bundled = segmentsOf((entry.wal ?? []).map((f) => f.name));
  const first = parseSegment(entry.firstWal)!;
  const last = parseSegment(entry.lastWal)!;
  const c = checkContinuity(bundled, first.position, last.position, first.timeline);
  checks.push(`bundle continuity ${entry.firstWal} → ${entry.lastWal}`);
  if (!c.ok) problems.push(`WAL segment ${c.firstMissing} is missing from the bundle`);
  if (problems.length) return;
  // Parse every record of the newest timeline's segments (they end with our pg_switch_wal).
  // Earlier timelines end mid-segment at a promotion, where pg_waldump would report a false error.
  const newest = c.segments.filter((x) => x.timeline === last.timeline);
  if (!newest.length) return;
  onStep('reading the bundled WAL with pg_waldump');
  const r = await hostTool(deps.config, 'pg_waldump', ['--quiet', '-p', work, '-t', String(last.timeline), newest[0].name, newest[newest.length - 1].name], { timeoutMs: 3600_000 });
  checks.push(`pg_waldump over ${newest[0].name} → ${newest[newest.length - 1].name}`);
  if (r.code !== 0) problems.push(`pg_waldump: ${(r.stderr || r.stdout).trim().split('\n')[0].replace(/^pg_waldump: (error|fatal): /, '')}`);
}

/** Every segment from the backup's first one to the newest archived must be in the archive. */
function archiveContinuity(deps: BackupDeps, entry: BackupEntry, checks: string[]): string[] {
  const segments = segmentsOf(archiveListing(walDirOf(entry, deps.config.walArchiveDir)));
  const first = parseSegment(entry.firstWal)!;
  // A full backup carries its WAL up to its end; the archive takes over from its last (then partial) segment.
  const from = parseSegment(entry.kind === 'full' ? entry.lastWal : entry.firstWal)!.position;
  const to = segments.length ? segments[segments.length - 1].position : -1;
  if (to < from) {
    checks.push('WAL archive: nothing archived after the backup yet');
    return [];
  }
  const c = checkContinuity(segments, from, to, first.timeline);
  checks.push(`WAL archive continuity ${c.segments[0]?.name ?? '?'} → ${segments[segments.length - 1].name}`);
  return c.ok ? [] : [`WAL segment ${c.firstMissing} is missing from the archive (${c.missingCount} missing): restoring ${entry.id} past it is impossible`];
}
