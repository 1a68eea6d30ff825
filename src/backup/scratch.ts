// A throw-away PostgreSQL instance for restore checks: its own folder under CLUSTERBOT_HOME/scratch,
// a free loopback port, archive_mode off, and no primary_conninfo, so it can never reach or write
// into the running cluster or its archive. The only module of the backup area that spawns
// processes itself (pg_ctl, as the postgres OS user when root);
// destroy() always runs.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Config } from '../config.js';
import { ensurePgBin } from '../runtime/pg-binaries.js';
import { freePort } from '../runtime/ports.js';
import { runProgram } from '../runtime/process.js';
import { chownTreeToPostgres, mkdirForPostgres, pgUser } from './files.js';

/** Settings the restored copy inherited that could point it at the live cluster. */
const INHERITED = /^\s*(primary_conninfo|primary_slot_name|restore_command|archive_command|archive_mode|archive_cleanup_command|recovery_end_command|recovery_target\w*|synchronous_standby_names|port|listen_addresses|unix_socket_directories|hot_standby|cluster_name)\s*=/;

export interface ScratchRecovery {
  /** restore_command reading the repository (read only). */
  restoreCommand: string;
  /** recovery_target_time, or null to replay all available WAL. */
  targetTime: Date | null;
}

export class ScratchInstance {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly config: Config,
    private readonly bin: string,
  ) {}

  get data(): string {
    return `${this.dir}/data`;
  }

  get logFile(): string {
    return `${this.dir}/postgresql.log`;
  }

  static async create(config: Config): Promise<ScratchInstance> {
    const bin = ensurePgBin(config.PG_BIN, () => undefined);
    mkdirForPostgres(`${config.home}/scratch`, 0o755);
    const dir = `${config.home}/scratch/restore-${randomBytes(4).toString('hex')}`;
    mkdirForPostgres(dir, 0o700);
    return new ScratchInstance(dir, await freePort(), config, bin);
  }

  /** Turn a restored data directory into an archive-recovery instance on our port. */
  configureRecovery(r: ScratchRecovery): void {
    const d = this.data;
    for (const f of ['standby.signal', 'recovery.signal', 'postmaster.pid']) rmSync(`${d}/${f}`, { force: true });
    const auto = `${d}/postgresql.auto.conf`;
    if (existsSync(auto)) {
      writeFileSync(auto, readFileSync(auto, 'utf8').split('\n').filter((l) => !INHERITED.test(l)).join('\n'));
    }
    const lines = [
      '# clusterbot restore check: a scratch copy, never part of the cluster.',
      "cluster_name = 'clusterbot_restore_check'",
      "listen_addresses = '127.0.0.1'",
      `port = ${this.port}`,
      `unix_socket_directories = '${this.dir}'`,
      'archive_mode = off',
      // Accept connections only once recovery has finished: pg_ctl -w then means "restored".
      'hot_standby = off',
      "primary_conninfo = ''",
      // The source's certificate paths (Patroni writes them into postgresql.conf) do not exist here; the
      // copy listens on loopback only, for the one sanity query of this check.
      'ssl = off',
      "primary_slot_name = ''",
      // Patroni writes absolute paths into the live member's data directory here: use the copy's own.
      `hba_file = '${d}/pg_hba.conf'`,
      `ident_file = '${d}/pg_ident.conf'`,
      "archive_cleanup_command = ''",
      "recovery_end_command = ''",
      "synchronous_standby_names = ''",
      `restore_command = '${r.restoreCommand}'`,
      "recovery_target_timeline = 'latest'",
    ];
    if (r.targetTime) lines.push(`recovery_target_time = '${r.targetTime.toISOString().replace('T', ' ').replace('Z', '+00')}'`, "recovery_target_action = 'promote'");
    writeFileSync(`${d}/clusterbot.conf`, `${lines.join('\n')}\n`);
    const main = `${d}/postgresql.conf`;
    const text = readFileSync(main, 'utf8');
    if (!text.includes("include_if_exists = 'clusterbot.conf'")) writeFileSync(main, `${text}\ninclude_if_exists = 'clusterbot.conf'\n`);
    // The copy's own access rules: the admin over loopback only. The source node's pg_hba.conf may
    // admit its container network only (RUNTIME=docker), never the host's loopback.
    writeFileSync(`${d}/pg_hba.conf`, '# clusterbot restore check\nlocal all postgres peer\nhost all all 127.0.0.1/32 scram-sha-256\n');
    writeFileSync(`${d}/pg_ident.conf`, '# clusterbot restore check: no user name maps\n');
    writeFileSync(`${d}/recovery.signal`, '');
    chownTreeToPostgres(this.dir);
  }

  /**
   * Start and wait until recovery has finished. With hot_standby off, pg_ctl -w returns as soon as
   * recovery begins, and connections are refused (57P03) until it ends: poll until one is accepted.
   */
  async start(timeoutSeconds = 600): Promise<void> {
    const r = await this.pgCtl(['start', '-D', this.data, '-l', this.logFile, '-w', '-t', String(timeoutSeconds), '-s']);
    if (r.code !== 0) throw new Error(`the restored copy did not start: ${this.logProblems() || r.stderr.trim() || `pg_ctl exit ${r.code}`}`);
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      try {
        await this.query('SELECT 1');
        return;
      } catch (e) {
        const code = (e as { code?: string }).code;
        const alive = existsSync(`${this.data}/postmaster.pid`);
        if (!alive || (code !== '57P03' && code !== 'ECONNREFUSED' && code !== undefined)) {
          throw new Error(`the restored copy did not finish recovery: ${this.logProblems() || (e as Error).message}`);
        }
        if (Date.now() > deadline) throw new Error(`recovery still running after ${timeoutSeconds} s (status unknown; see ${this.logFile})`);
        await new Promise((res) => setTimeout(res, 200));
      }
    }
  }

  /** The server's own FATAL/PANIC lines, and the configuration line it complains about. */
  private logProblems(): string {
    const log = existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
    return log
      .split('\n')
      .filter((l) => /FATAL|PANIC|invalid value|syntax error|line \d+/.test(l))
      .map((l) => l.replace(/^.*?(FATAL|PANIC|LOG|ERROR):\s*/, ''))
      .slice(-3)
      .join(' | ');
  }

  async query<R extends pg.QueryResultRow>(sql: string): Promise<R[]> {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: this.port,
      user: this.config.POSTGRES_ADMIN_USER,
      password: this.config.POSTGRES_ADMIN_PASSWORD,
      database: this.config.PG_DATABASE,
      connectionTimeoutMillis: 5000,
      application_name: 'clusterbot_restore_check',
    });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<R>(sql)).rows;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Stop (immediately: nothing in it is worth a checkpoint) and delete everything. */
  async destroy(): Promise<void> {
    try {
      if (existsSync(`${this.data}/postmaster.pid`)) {
        const r = await this.pgCtl(['stop', '-D', this.data, '-m', 'immediate', '-w', '-t', '30', '-s']);
        if (r.code !== 0) killPostmaster(`${this.data}/postmaster.pid`);
      }
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  private pgCtl(args: string[]) {
    return runProgram(`${this.bin}/pg_ctl`, args, { user: pgUser(), cwd: this.dir, timeoutMs: 15 * 60_000, env: { HOME: this.dir } });
  }
}

function killPostmaster(pidFile: string): void {
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

