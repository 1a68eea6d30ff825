// Scenario 6: full backup throughput vs plain pg_basebackup of the same data set. pgbench -i
// generates a few hundred MB on the primary; the bot's full backup (BackupService.take('full'):
// source choice, pgbackrest backup from the replica) is timed beside a plain pg_basebackup (tar +
// gzip:6 + streamed WAL) from the same replica into a scratch folder. Throughput = database size ÷
// wall time; ratio = bot ÷ plain. (Verification is a separate step and not part of this figure.)
import { rmSync } from 'node:fs';
import { mkdirForPostgres } from '../src/backup/files.js';
import { compressLevel } from '../src/backup/pgbackrest/conf.js';
import { judge, round, stats, type Scenario } from './lib.js';
import { benchCluster, pgbenchData, runtime, settled } from './support.js';

export const backupThroughput: Scenario = async ({ quick, log }) => {
  const reps = quick ? 1 : 8;
  const scale = quick ? 1 : 20;
  const c = await benchCluster(2, { env: { BACKUP_SCHEDULES: 'false', HEALTH_REPORT_CRON: 'off' } });
  try {
    const s = c.app.services;
    log(`backup throughput: pgbench -i -s ${scale} on n1`);
    const size = await pgbenchData(c, scale, 600_000);
    await settled(c, 300_000);
    const mb = size / 2 ** 20;
    log(`  data set: ${round(mb, 0)} MB (all databases)`);
    const service = s.backups;
    const level = 6;
    const bot: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      const { set: entry } = await service.take('full');
      const botS = (performance.now() - t0) / 1000;
      const source = s.node(entry.node ?? 'n1');
      const dir = `${c.config.backupDir}/plain-${i}`;
      mkdirForPostgres(dir);
      const conninfo = `host=${source.host} port=${source.port} user=replicator passfile=${c.home}/pgpass`;
      const t1 = performance.now();
      const r = await s.runtime.exec(source, 'pg_basebackup', ['-D', dir, '-d', conninfo, '-F', 't', `--compress=gzip:${level}`, '--wal-method=stream', '--checkpoint=fast', '--no-password'], { timeoutMs: 3_600_000 });
      const plainS = (performance.now() - t1) / 1000;
      rmSync(dir, { recursive: true, force: true });
      if (r.code !== 0) throw new Error(`plain pg_basebackup failed: ${r.stderr.trim().split('\n').at(-1)}`);
      bot.push(mb / botS);
      plain.push(mb / plainS);
      log(`  #${i + 1}: bot ${round(botS)} s (${round(mb / botS)} MB/s), plain pg_basebackup ${round(plainS)} s (${round(mb / plainS)} MB/s) from ${entry.node}`);
    }
    const st = stats(bot);
    const ref = stats(plain);
    return [
      judge({
        scenario: 'backup-throughput',
        figure: 'full backup throughput',
        unit: 'MB/s',
        runtime: runtime(),
        stats: st,
        reference: { label: 'plain pg_basebackup, same flags', stats: ref },
        ratio: round(st.median / ref.median),
        goal: { on: 'ratio', op: '>=', value: 0.9 },
        note: `${round(mb, 0)} MB (pgbench scale ${scale}), pgBackRest ${c.config.BACKUP_COMPRESS_TYPE} level ${compressLevel(c.config)} beside tar + gzip:${level} + --wal-method=stream, from the replica, alternating bot/plain`,
      }),
    ];
  } finally {
    await c.destroy();
  }
};
