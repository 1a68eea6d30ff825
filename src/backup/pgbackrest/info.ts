// `pgbackrest info --output=json` as the bot's types: backup sets, the WAL archive range, the
// stanza's status, and a running backup's progress. Pure parsing, no I/O.

export type SetKind = 'full' | 'diff' | 'incr';

export interface BackupSet {
  /** pgBackRest's label: 20261203-093000F, 20261203-093000F_20261203-101500I. */
  id: string;
  kind: SetKind;
  /** The backup it depends on (diff/incr), else null. */
  prior: string | null;
  /** The node it was taken from (our annotation), or null for a backup taken outside the bot. */
  node: string | null;
  /** The bot's run it belongs to (annotation run=…): one run puts one set into each repository. */
  run: string | null;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Size of the database it copied, and of what this backup added to the repository (compressed). */
  sizeBytes: number;
  deltaBytes: number;
  repoBytes: number;
  walStart: string;
  walStop: string;
  timeline: number;
  lsnStart: string;
  lsnStop: string;
  repo: number;
  /** Our verification, from the `verified` annotation: true, false, or null (never verified). */
  verified: boolean | null;
  verifiedAt: string | null;
  verifyError: string | null;
  /** pgBackRest marks a backup whose files had page checksum errors. */
  error: boolean;
  /** Taken of an earlier database of the stanza (before a reset or an upgrade): restorable, not the live one. */
  earlierDatabase: boolean;
}

/** When the cluster last changed timeline (a failover or switchover), for "restores past the switch". */
export interface SwitchPoint {
  timeline: number;
  at: string | null;
}

export interface StanzaInfo {
  sets: BackupSet[];
  archiveMin: string | null;
  archiveMax: string | null;
  /** pgBackRest's own status: "ok", "no valid backups", "missing stanza path"… */
  status: { code: number; message: string };
  /** A backup running now: bytes done of the total. */
  running: { done: number; total: number } | null;
  /** Each configured repository's own status (code 0 "ok"; 99 with pgBackRest's error when it cannot be read). */
  repos: RepoStatus[];
  /** The live database's archived WAL range in each repository, by repo key. */
  archiveByRepo: Record<number, { min: string; max: string }>;
}

export interface RepoStatus {
  key: number;
  code: number;
  message: string;
}

interface RawSet {
  label: string;
  type: SetKind;
  prior: string | null;
  annotation?: Record<string, string>;
  archive: { start: string | null; stop: string | null };
  database: { id: number; 'repo-key': number };
  error?: boolean;
  info: { size: number; delta: number; repository: { size: number; delta: number } };
  lsn?: { start: string; stop: string };
  timestamp: { start: number; stop: number };
}

interface RawStanza {
  name: string;
  backup: RawSet[];
  archive: Array<{ min: string | null; max: string | null; database: { id: number; 'repo-key'?: number } }>;
  db: Array<{ id: number }>;
  repo?: Array<{ key: number; status: { code: number; message: string } }>;
  status: { code: number; message: string; lock?: { backup?: { held: boolean; 'size-cplt'?: number; size?: number } } };
}

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

/** The stanza's entry of `info --output=json`; a missing stanza is an empty list with its status. */
export function parseInfo(json: string, stanza: string): StanzaInfo {
  const all = JSON.parse(json) as RawStanza[];
  const s = all.find((x) => x.name === stanza);
  if (!s) return { sets: [], archiveMin: null, archiveMax: null, status: { code: 1, message: 'missing stanza' }, running: null, repos: [], archiveByRepo: {} };
  const current = Math.max(0, ...s.db.map((d) => d.id));
  const sets = s.backup.map((b) => toSet(b, current));
  // The WAL range of the live database (an earlier one's segment names start over after a reset).
  const archived = s.archive.filter((a) => a.min && a.max && a.database.id === current);
  const lock = s.status.lock?.backup;
  const archiveByRepo: Record<number, { min: string; max: string }> = {};
  for (const a of archived) {
    const key = a.database['repo-key'] ?? 1;
    const had = archiveByRepo[key];
    archiveByRepo[key] = had ? { min: had.min < a.min! ? had.min : a.min!, max: had.max > a.max! ? had.max : a.max! } : { min: a.min!, max: a.max! };
  }
  return {
    sets,
    archiveMin: archived.map((a) => a.min!).sort()[0] ?? null,
    archiveMax: archived.map((a) => a.max!).sort().at(-1) ?? null,
    status: { code: s.status.code, message: s.status.message },
    running: lock?.held && lock.size ? { done: lock['size-cplt'] ?? 0, total: lock.size } : null,
    repos: (s.repo ?? []).map((r) => ({ key: r.key, code: r.status.code, message: r.status.message })),
    archiveByRepo,
  };
}

function toSet(b: RawSet, currentDb: number): BackupSet {
  const a = b.annotation ?? {};
  const verified = a.verified === undefined ? null : a.verified.startsWith('ok');
  const walStart = b.archive.start ?? '';
  return {
    id: b.label,
    kind: b.type,
    prior: b.prior,
    node: a.node ?? null,
    run: a.run ?? null,
    startedAt: iso(b.timestamp.start),
    finishedAt: iso(b.timestamp.stop),
    durationMs: (b.timestamp.stop - b.timestamp.start) * 1000,
    sizeBytes: b.info.size,
    deltaBytes: b.info.delta,
    repoBytes: b.info.repository.delta,
    walStart,
    walStop: b.archive.stop ?? '',
    timeline: walStart ? parseInt(walStart.slice(0, 8), 16) : 0,
    lsnStart: b.lsn?.start ?? '',
    lsnStop: b.lsn?.stop ?? '',
    repo: b.database['repo-key'],
    verified,
    verifiedAt: a['verified-at'] ?? null,
    verifyError: verified === false ? a.verified.replace(/^failed:?\s*/, '') : null,
    error: b.error ?? false,
    earlierDatabase: b.database.id < currentDb,
  };
}

/** pgBackRest's `verify --output=text --verbose`: each backup's status, and the files it named. */
export interface VerifyReport {
  ok: boolean;
  /** label → "valid" | "invalid" | "in-progress"… */
  backups: Record<string, string>;
  /** Problem lines pgBackRest logged ("invalid checksum '20261203-093000F/pg_data/base/5/1255.zst'"). */
  problems: string[];
  walChecked: number;
  walValid: number;
}

export function parseVerify(stdout: string, stderr: string): VerifyReport {
  const backups: Record<string, string> = {};
  for (const m of stdout.matchAll(/backup: (\S+), status: ([\w-]+)/g)) backups[m[1]] = m[2];
  const wal = [...stdout.matchAll(/total WAL checked: (\d+), total valid WAL: (\d+)/g)];
  const problems = stderr
    .split('\n')
    .map((l) => l.replace(/^(INFO|WARN|ERROR|DETAIL): /, '').trim())
    .filter((l) => /'[^']+'/.test(l) && !/command (begin|end)/.test(l))
    .concat(
      [...stdout.matchAll(/missing: (\d+), checksum invalid: (\d+), size invalid: (\d+), other: (\d+)/g)]
        .filter((m) => m.slice(1).some((n) => n !== '0'))
        .map((m) => `missing ${m[1]}, checksum invalid ${m[2]}, size invalid ${m[3]}, other ${m[4]}`),
    );
  const status = /^status: (\w+)/m.exec(stdout)?.[1];
  return {
    ok: status === 'ok' && problems.length === 0,
    backups,
    problems,
    walChecked: wal.reduce((s, m) => s + Number(m[1]), 0),
    walValid: wal.reduce((s, m) => s + Number(m[2]), 0),
  };
}
