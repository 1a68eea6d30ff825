// Issue 24 item 7: the backup engine. On one data set (pgbench -i, about 300 MB) in one run, alternating:
//  - full backup throughput and stored size of pgBackRest (process-max = the machine's cores; lz4, zst level 1
//    and zst level 3, pgBackRest's default level) and of a plain `pg_basebackup -Ft -z` (one gzip stream),
//    from the same primary — goal: pgBackRest ≥ 2×;
//  - an incremental after 5 % of the data changed (new rows worth 5 % of the database, in a table of
//    their own: pgBackRest 2.45 copies whole changed files), its time and stored size beside the full's;
//  - restore-check: pgbackrest restore into a scratch instance + start + a query over every account row.
// Throughput = database size ÷ wall time. pgBackRest runs through src/backup/pgbackrest/ (run.ts).
import { availableParallelism, loadavg } from 'node:os';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { mkdirForPostgres, pgUser } from '../src/backup/files.js';
import { ScratchInstance } from '../src/backup/scratch.js';
import { compressLevel } from '../src/backup/pgbackrest/conf.js';
import { runProgram } from '../src/runtime/process.js';
import { judge, round, stats, type Figure, type Scenario } from './lib.js';
import { benchCluster, pgbenchData, runtime } from './support.js';
import { restoreIntoScratch, setUpStanza, type TestStanza } from '../test/helpers/pgbackrest-stanza.js';
import type { TestCluster } from '../test/helpers/cluster.js';

interface BackupInfo {
  label: string;
  type: string;
  /** delta: bytes of the files this backup copied (before compression); repository.delta: bytes it stored. */
  info: { size: number; delta: number; repository: { delta: number } };
}

const MB = 2 ** 20;

export const backupEngine: Scenario = async ({ quick, log }) => {
  const reps = quick ? 1 : 5;
  const scale = quick ? 2 : 20;
  const cores = availableParallelism();
  const c = await benchCluster(1, { env: { BACKUP_SCHEDULES: 'false', HEALTH_REPORT_CRON: 'off', BACKUP_RETENTION_FULL: '99', PG_QUERY_TIMEOUT_MS: '600000' } });
  try {
    log(`backup engine: pgbench -i -s ${scale} on n1`);
    const size = await pgbenchData(c, scale);
    const stanza = await setUpStanza(c, { 'process-max': String(cores) });
    await stanza.exec(['stanza-create']);
    const mb = size / MB;
    log(`  data set: ${round(mb, 0)} MB (all databases), ${cores} cores, load ${loadAverage()}`);

    // Each codec's full backup, in turn with the plain reference: lz4 (pgBackRest's level 1), zst at level 1 and at pgBackRest's default 3.
    const codecs: Codec[] = [codec('lz4', 1), codec('zst', 1), codec('zst', 3)];
    const speed = new Map<string, number[]>(codecs.map((k) => [k.name, []]));
    const stored = new Map<string, number[]>(codecs.map((k) => [k.name, []]));
    const plain: number[] = [];
    const plainStored: number[] = [];
    const fullSeconds: number[] = [];
    const incrSeconds: number[] = [];
    const incrStored: number[] = [];
    const incrCopied: number[] = [];
    // The incremental is taken with the bot's configured compression, on top of that codec's full.
    const bot = botCodec(c);
    const mine = codecs.find((k) => k.name === bot.name) ?? (codecs.push(bot), bot);
    const loads: string[] = [];
    for (let i = 0; i < reps; i++) {
      const p = await plainBaseBackup(c, i, i === reps - 1);
      plain.push(mb / p.seconds);
      plainStored.push(p.bytes / MB);
      const line: string[] = [];
      // The bot's codec last, so the incremental follows its own full.
      for (const k of [...codecs.filter((x) => x !== mine), mine]) {
        const t = await timed(() => stanza.exec(['--type=full', ...k.args, 'backup']));
        speed.get(k.name)!.push(mb / t);
        stored.get(k.name)!.push((await newest(stanza)).info.repository.delta / MB);
        line.push(`${k.name} ${round(t)} s (${round(mb / t)} MB/s, ${round(stored.get(k.name)!.at(-1)!)} MB)`);
        if (k === mine) fullSeconds.push(t);
      }
      // 5 % of the database as new rows in a table of their own, then an incremental on top of the bot's codec's full.
      // Hex digests of distinct numbers: about as compressible as real text, unlike one repeated string.
      await c.sql('n1', `CREATE TABLE bench_changes AS SELECT g AS id, (SELECT string_agg(md5((g * 8 + k)::text), '') FROM generate_series(1, 8) k) AS payload FROM generate_series(1, ${Math.round((0.05 * size) / 300)}) g`);
      const incr = await timed(() => stanza.exec(['--type=incr', ...mine.args, 'backup']));
      incrSeconds.push(incr);
      const incrInfo = (await newest(stanza)).info;
      incrStored.push(incrInfo.repository.delta / MB);
      incrCopied.push(incrInfo.delta / MB);
      await c.sql('n1', 'DROP TABLE bench_changes');
      loads.push(loadavg()[0].toFixed(1));
      log(`  #${i + 1}: pgBackRest ${line.join(', ')}; pg_basebackup -z ${round(p.seconds)} s (${round(mb / p.seconds)} MB/s, ${round(p.bytes / MB)} MB); incr (${mine.name}) ${round(incr)} s, ${round(incrStored.at(-1)!)} MB stored; load ${loadAverage()}`);
    }
    const fullStored = stored.get(mine.name)!;

    const restore: number[] = [];
    const plainRestore: number[] = [];
    const accounts = async (scratch: ScratchInstance) => {
      const rows = await scratch.query<{ n: string }>('SELECT count(*) AS n FROM pgbench_accounts');
      if (Number(rows[0].n) !== scale * 100_000) throw new Error(`the restored copy has ${rows[0].n} accounts, expected ${scale * 100_000}`);
    };
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      const scratch = await restoreIntoScratch(c, stanza, [`--set=${(await newest(stanza)).label}`]);
      await accounts(scratch).finally(() => scratch.destroy());
      restore.push((performance.now() - t) / 1000);
      const t2 = performance.now();
      const plainCopy = await extractPlain(c, `${c.config.backupDir}/plain-${reps - 1}`);
      await accounts(plainCopy).finally(() => plainCopy.destroy());
      plainRestore.push((performance.now() - t2) / 1000);
      log(`  restore-check #${i + 1}: pgBackRest ${round(restore.at(-1)!)} s, plain tar -xzf ${round(plainRestore.at(-1)!)} s`);
    }

    const plainRef = { label: 'plain pg_basebackup -Ft -z (gzip)', values: plain };
    const twice = { goal: { on: 'ratio', op: '>=', value: 2 } } as const;
    const figures: Figure[] = [
      ...codecs.map((k) =>
        figure(`full backup throughput, pgBackRest ${k.name}${k === mine ? ' (the bot\'s default)' : ''}`, 'MB/s', speed.get(k.name)!, plainRef, {
          ...twice,
          note: `${round(mb, 0)} MB (pgbench scale ${scale}), process-max ${cores}, from the primary, alternating with the reference; stored ${round(stats(stored.get(k.name)!).median)} MB vs plain gzip ${round(stats(plainStored).median)} MB; 1-min load per repetition ${loads.join(', ')}`,
          breakdown: [
            { part: `${k.name} stored`, unit: 'MB', stats: stats(stored.get(k.name)!) },
            { part: 'plain gzip stored', unit: 'MB', stats: stats(plainStored) },
          ],
        }),
      ),
      figure('incremental after 5 % changed', 's', incrSeconds, { label: `pgBackRest ${mine.name} full`, values: fullSeconds }, {
        note: `copied ${round(stats(incrCopied).median)} MB of changed files, stored ${round(stats(incrStored).median)} MB vs the full's ${round(stats(fullStored).median)} MB`,
        breakdown: [
          { part: 'incremental copied (uncompressed)', unit: 'MB', stats: stats(incrCopied) },
          { part: 'incremental stored', unit: 'MB', stats: stats(incrStored) },
          { part: 'full stored', unit: 'MB', stats: stats(fullStored) },
        ],
      }),
      figure('restore-check (restore + start + query)', 's', restore, { label: 'plain: tar -xzf of the pg_basebackup -z backup + start + query', values: plainRestore }, {
        note: `${round(mb, 0)} MB, process-max ${cores}, newest backup (incremental on a full)`,
      }),
    ];
    return figures;
  } finally {
    await c.destroy();
  }
};

/** `pg_basebackup -Ft -z` (gzip at its default level) with the WAL streamed, as a DBA would run it. */
async function plainBaseBackup(c: TestCluster, i: number, keep: boolean): Promise<{ seconds: number; bytes: number }> {
  const s = c.app.services;
  const source = s.node('n1');
  const dir = `${c.config.backupDir}/plain-${i}`;
  mkdirForPostgres(dir);
  const conninfo = `host=${source.host} port=${source.port} user=replicator passfile=${c.home}/pgpass`;
  const t = performance.now();
  const r = await s.runtime.exec(source, 'pg_basebackup', ['-D', dir, '-d', conninfo, '-F', 't', '-z', '--wal-method=stream', '--checkpoint=fast', '--no-password'], { timeoutMs: 3_600_000 });
  const seconds = (performance.now() - t) / 1000;
  if (r.code !== 0) throw new Error(`plain pg_basebackup failed: ${r.stderr.trim().split('\n').at(-1)}`);
  // Two tar.gz files (base and pg_wal) and the manifest.
  const bytes = readdirSync(dir).reduce((sum, f) => sum + statSync(`${dir}/${f}`).size, 0);
  if (!keep) rmSync(dir, { recursive: true, force: true });
  return { seconds, bytes };
}

/** The reference restore: both tar.gz files of a plain backup extracted (as postgres) into a scratch instance, started. */
async function extractPlain(c: TestCluster, dir: string): Promise<ScratchInstance> {
  const scratch = await ScratchInstance.create(c.config);
  try {
    mkdirForPostgres(scratch.data, 0o700);
    for (const [file, into] of [['base.tar.gz', scratch.data], ['pg_wal.tar.gz', `${scratch.data}/pg_wal`]]) {
      const r = await runProgram('tar', ['-xzf', `${dir}/${file}`, '-C', into], { user: pgUser(), timeoutMs: 1_800_000 });
      if (r.code !== 0) throw new Error(`tar -xzf ${file} failed: ${r.stderr.trim()}`);
    }
    // The WAL is in pg_wal already; restore_command finds nothing more and recovery ends there.
    scratch.configureRecovery({ restoreCommand: `cp "${dir}/%f" "%p"`, targetTime: null });
    await scratch.start(600);
    return scratch;
  } catch (e) {
    await scratch.destroy();
    throw e;
  }
}

interface Codec {
  name: string;
  args: string[];
}

const codec = (type: string, level: number): Codec => ({ name: `${type} level ${level}`, args: [`--compress-type=${type}`, `--compress-level=${level}`] });

/** The compression the bot is configured with (BACKUP_COMPRESS_TYPE at BACKUP_COMPRESS_LEVEL). */
const botCodec = (c: TestCluster): Codec => codec(c.config.BACKUP_COMPRESS_TYPE, compressLevel(c.config));

/** A figure of this scenario beside its reference from the same run; ratio = median ÷ reference median. */
function figure(name: string, unit: string, values: number[], ref: { label: string; values: number[] }, extra: Partial<Figure>): Figure {
  const st = stats(values);
  const rs = stats(ref.values);
  return judge({ scenario: 'backup-engine', figure: name, unit, runtime: runtime(), stats: st, reference: { label: ref.label, stats: rs }, ratio: round(st.median / rs.median), goal: null, ...extra });
}

async function newest(s: TestStanza): Promise<BackupInfo> {
  const info = JSON.parse((await s.exec(['--output=json', 'info'])).stdout) as Array<{ backup: BackupInfo[] }>;
  return info[0].backup.at(-1)!;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

/** The machine is shared: each line says how busy it was. */
const loadAverage = () => loadavg().map((l) => l.toFixed(1)).join(' ');
