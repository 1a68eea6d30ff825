// pgbackrest verify of one backup set in its own repository: every file of every backup and every
// archived WAL segment against its checksum. The verdict is written into the backup's annotations
// (verified=ok|failed: …), so /cluster backups shows it; a backup verify finds broken is marked failed, never good.
import { parseVerify, type BackupSet } from './pgbackrest/info.js';
import type { RepoDescription } from './pgbackrest/repos.js';
import { pgbackrestError, type PgBackRestSite } from './pgbackrest/site.js';

export interface VerifyResult {
  ok: boolean;
  /** One line per problem, each naming the file or segment pgBackRest named. */
  problems: string[];
  /** What was checked, for the card. */
  checks: string[];
  ms: number;
}

/** Verify the repository holding `target`, judge `target`, and annotate it (and any other set found invalid). */
export async function verifyInRepo(site: PgBackRestSite, target: BackupSet, onStep: (s: string) => void): Promise<VerifyResult> {
  const t0 = performance.now();
  onStep(`pgbackrest verify of repo${target.repo}: checksums of every backup file and archived WAL segment`);
  const r = await site.repo(['--log-level-stderr=info', `--repo=${target.repo}`, 'verify', '--output=text', '--verbose'], { timeoutMs: 6 * 3600_000 });
  if (r.code !== 0) throw new Error(`pgbackrest verify failed to run: ${pgbackrestError(r)}`);
  const report = parseVerify(r.stdout, r.stderr);
  const labels = Object.keys(report.backups);
  const mine = report.problems.filter((p) => p.includes(target.id) || !labels.some((l) => p.includes(l)));
  const status = report.backups[target.id] ?? 'not checked';
  const problems = status === 'valid' ? mine : [`pgbackrest verify: ${target.id} is ${status}`, ...mine];
  const result: VerifyResult = {
    ok: problems.length === 0,
    problems,
    checks: [`pgbackrest verify of repo${target.repo}: ${labels.length} backups, ${report.walValid}/${report.walChecked} WAL segments valid`, `${target.id}: ${status}`],
    ms: Math.round(performance.now() - t0),
  };
  await annotate(site, target.repo, target.id, result.ok ? 'ok' : `failed: ${problems.join('; ').slice(0, 300)}`);
  for (const [label, st] of Object.entries(report.backups)) {
    if (label !== target.id && st === 'invalid') await annotate(site, target.repo, label, `failed: pgbackrest verify found ${label} invalid`);
  }
  return result;
}

/** The newest set of each configured repository (a repository without one is left out). */
export function newestPerRepo(sets: BackupSet[], repos: RepoDescription[]): BackupSet[] {
  return repos.map((r) => sets.filter((x) => x.repo === r.index).at(-1)).filter((x): x is BackupSet => !!x);
}

async function annotate(site: PgBackRestSite, repo: number, label: string, verified: string): Promise<void> {
  const r = await site.repo([`--repo=${repo}`, `--set=${label}`, `--annotation=verified=${verified}`, `--annotation=verified-at=${new Date().toISOString()}`, 'annotate'], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`pgbackrest annotate ${label} failed: ${pgbackrestError(r)}`);
}
