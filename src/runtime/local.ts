// The embedded default: every node is a real `postgres` process from the system's binaries,
// data under CLUSTERBOT_HOME, listening on loopback. Nodes are daemons (pg_ctl), so they outlive
// a one-shot `clusterbot run` and are found again by their postmaster.pid.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import type { Config, NodeConfig } from '../config.js';
import type { Logger } from '../core/logger.js';
import { makeHomePrivate, PRIVATE_DIR } from '../core/private-files.js';
import { UserError } from '../errors.js';
import { postgresAsset } from '../paths.js';
import { ensurePgBin } from './pg-binaries.js';
import { chownTo, isZombie, portFree, postgresOsUser, processAlive, runProgram, type OsUser } from './process.js';
import { hbaText, nodeConfText, pgpassText } from './local-config.js';
import { tailLines } from './file-tail.js';
import type { PgTarget } from '../backup/pgbackrest/conf.js';
import { createStanza, hasNodeCertificate, issueNodeCertificate, OwnedFiles, prepareCa, writePgBackRestConfigs } from './local-setup.js';
import { caFile, verifyFullConninfo } from '../db/tls.js';
import { killInstance, processStopped, untilGone } from './local-fence.js';
import { LocalNodeWatcher } from './local-watch.js';
import { PG_TOOLS, type ExecOptions, type ExecResult, type FenceStep, type ForceStopResult, type PgTool, type Runtime, type RuntimeEvent, type StopMode } from './runtime.js';

export interface NodePaths {
  base: string;
  data: string;
  run: string;
  log: string;
}

export class LocalRuntime implements Runtime {
  readonly kind = 'local' as const;
  private pgBin = '';
  private user: OsUser | null = null;
  private prepared = false;
  private readonly watcher: LocalNodeWatcher;
  private readonly files = new OwnedFiles(() => this.user);

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    this.watcher = new LocalNodeWatcher(config.nodes, (n) => this.pid(n), log);
  }

  get pgpassFile(): string {
    return `${this.config.home}/pgpass`;
  }

  get binDir(): string {
    return this.pgBin;
  }

  paths(node: NodeConfig): NodePaths {
    const base = `${this.config.home}/nodes/${node.name}`;
    return { base, data: `${base}/data`, run: `${base}/run`, log: `${base}/postgresql.log` };
  }

  async prepare(): Promise<void> {
    if (this.prepared) return;
    if (/['"\\\s]/.test(this.config.home)) {
      throw new UserError(`CLUSTERBOT_HOME "${this.config.home}" contains quotes, backslashes or spaces`, 'choose a plain path', 'config');
    }
    this.pgBin = ensurePgBin(this.config.PG_BIN, (m) => this.log.warn(m));
    this.user = postgresOsUser();
    const { home, backupDir, walArchiveDir } = this.config;
    makeHomePrivate(home, this.user?.gid ?? null, this.log);
    for (const dir of [`${home}/nodes`, backupDir, walArchiveDir]) {
      mkdirSync(dir, { recursive: true });
    }
    // The nodes' folders belong to the OS user PostgreSQL runs as, and to it alone.
    chmodSync(`${home}/nodes`, PRIVATE_DIR);
    chownTo(`${home}/nodes`, this.user);
    for (const dir of [backupDir, walArchiveDir]) {
      chmodSync(dir, 0o750);
      chownTo(dir, this.user);
    }
    await prepareCa(this.config);
    writePgBackRestConfigs(this.config, this.files, (n) => this.pgTarget(n));
    this.files.write(this.pgpassFile, pgpassText(this.config), 0o600);
    await this.checkReachable(`${home}/nodes`);
    this.prepared = true;
  }

  /** pgBackRest reaches each node through its socket folder; every node is listed for the bot's commands. */
  pgTarget(node: NodeConfig): PgTarget {
    const p = this.paths(node);
    return { name: node.name, data: p.data, socket: p.run, port: node.port };
  }

  private async checkReachable(dir: string): Promise<void> {
    if (!this.user) return;
    const r = await runProgram('test', ['-w', dir, '-a', '-x', dir], { user: this.user });
    if (r.code !== 0) {
      throw new UserError(
        `the postgres OS user cannot reach ${dir}`,
        'a parent folder is private (e.g. /root): set CLUSTERBOT_HOME to a path such as /var/lib/clusterbot',
        'config',
      );
    }
  }

  async isProvisioned(node: NodeConfig): Promise<boolean> {
    return existsSync(`${this.paths(node).data}/PG_VERSION`);
  }

  /** A new server certificate for the node (its host, loopback), owned by the postgres OS user; the caller reloads. */
  async renewCertificate(node: NodeConfig): Promise<void> {
    await this.prepare();
    await issueNodeCertificate(this.config, node, this.user);
  }

  /** The node's certificate, issued once (clusterbot.conf points ssl_cert_file/ssl_key_file at it). */
  private async ensureCertificate(node: NodeConfig): Promise<void> {
    if (!hasNodeCertificate(this.config, node)) await this.renewCertificate(node);
  }

  /**
   * A node made before TLS: its certificate, ssl = on, and the hostssl-only pg_hba.conf, so that
   * the clients (which all verify) can reach it again after this start.
   */
  private async upgradeToTls(node: NodeConfig): Promise<void> {
    await this.ensureCertificate(node);
    const p = this.paths(node);
    const conf = `${p.data}/clusterbot.conf`;
    if (existsSync(conf) && !/^ssl = on$/m.test(readFileSync(conf, 'utf8'))) this.writeNodeConfig(node);
    const hba = `${p.data}/pg_hba.conf`;
    if (existsSync(hba) && /^host\s/m.test(readFileSync(hba, 'utf8'))) this.files.write(hba, hbaText(this.config, false), 0o600);
  }

  /** Write this node's own settings (port, sockets, archive) and the include line. */
  writeNodeConfig(node: NodeConfig): void {
    const p = this.paths(node);
    this.files.write(`${p.data}/clusterbot.conf`, nodeConfText(this.config, node, p.run), 0o600);
    const main = `${p.data}/postgresql.conf`;
    const text = readFileSync(main, 'utf8');
    if (!text.includes("include_if_exists = 'clusterbot.conf'")) {
      this.files.write(main, `${text}\n# clusterbot\ninclude_if_exists = 'clusterbot.conf'\n`, 0o600);
    }
  }

  private prepareNodeDirs(node: NodeConfig): NodePaths {
    const p = this.paths(node);
    if (existsSync(`${p.data}/PG_VERSION`)) {
      throw new UserError(`node ${node.name} already has data in ${p.data}`, 'use /cluster start, or destroy it first', 'precondition');
    }
    rmSync(p.data, { recursive: true, force: true });
    this.files.mkdir(p.base, PRIVATE_DIR);
    this.files.mkdir(p.data, 0o700);
    this.files.mkdir(p.run, 0o700);
    return p;
  }

  async initPrimary(node: NodeConfig): Promise<void> {
    await this.prepare();
    const p = this.prepareNodeDirs(node);
    await this.ensureCertificate(node);
    await this.must(node, 'initdb', ['-D', p.data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '--encoding=UTF8', '--locale=C']);
    this.writeNodeConfig(node);
    this.files.write(`${p.data}/pg_hba.conf`, hbaText(this.config, true), 0o600);
    await this.start(node);
    const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    const vars = [
      `\\set admin_user ${q(this.config.POSTGRES_ADMIN_USER)}`,
      `\\set admin_password ${q(this.config.POSTGRES_ADMIN_PASSWORD)}`,
      `\\set replicator_password ${q(this.config.POSTGRES_REPLICATOR_PASSWORD)}`,
      `\\set database ${q(this.config.PG_DATABASE)}`,
    ].join('\n');
    const sql = `${vars}\n${readFileSync(postgresAsset('init/01-bootstrap.sql'), 'utf8')}`;
    await this.must(node, 'psql', ['-X', '-q', '-h', p.run, '-p', String(node.port), '-U', 'postgres', '-d', 'postgres', '-f', '-'], { stdin: sql });
    this.files.write(`${p.data}/pg_hba.conf`, hbaText(this.config, false), 0o600);
    await this.must(node, 'pg_ctl', ['reload', '-D', p.data, '-s']);
    await createStanza(this.config, node, (args) => this.exec(node, 'pgbackrest', args), (args) => this.must(node, 'pgbackrest', args));
  }

  async cloneReplica(node: NodeConfig, source: NodeConfig, opts: ExecOptions = {}): Promise<void> {
    await this.prepare();
    const p = this.prepareNodeDirs(node);
    await this.ensureCertificate(node);
    const conninfo = this.replicationConninfo(source, node);
    await this.must(node, 'pg_basebackup', ['-D', p.data, '-d', conninfo, '-R', '--wal-method=stream', '--checkpoint=fast', '--no-password'], opts);
    this.writeNodeConfig(node);
    await this.start(node);
  }

  replicationConninfo(source: NodeConfig, replica: NodeConfig): string {
    return `host=${source.host} port=${source.port} user=replicator passfile=${this.pgpassFile} application_name=${replica.name} ${verifyFullConninfo(caFile(this.config))}`;
  }

  async rewind(node: NodeConfig, source: NodeConfig, opts: ExecOptions = {}): Promise<void> {
    await this.prepare();
    if (await this.isRunning(node)) throw new Error(`${node.name} is running; pg_rewind needs it stopped`);
    await this.untilReaped(node);
    const p = this.paths(node);
    // An uncleanly stopped target gets crash recovery in single-user mode first, which refuses standby
    // mode; nothing else can start it meanwhile (single-user mode does not listen).
    for (const f of ['standby.signal', 'recovery.signal']) rmSync(`${p.data}/${f}`, { force: true });
    const src = `host=${source.host} port=${source.port} user=${this.config.POSTGRES_ADMIN_USER} dbname=${this.config.PG_DATABASE} passfile=${this.pgpassFile} ${verifyFullConninfo(caFile(this.config))}`;
    try {
      await this.must(node, 'pg_rewind', ['--target-pgdata', p.data, '--source-server', src, '--progress'], opts);
    } finally {
      if (await this.isProvisioned(node)) this.configureReplica(node, source);
    }
  }

  /** standby.signal + primary_conninfo; our own settings again (pg_rewind copies the source's config files). */
  private configureReplica(node: NodeConfig, source: NodeConfig): void {
    const p = this.paths(node);
    this.writeNodeConfig(node);
    const auto = `${p.data}/postgresql.auto.conf`;
    const kept = existsSync(auto) ? readFileSync(auto, 'utf8').split('\n').filter((l) => l && !/^\s*primary_(conninfo|slot_name)\s*=/.test(l)) : [];
    const conninfo = this.replicationConninfo(source, node).replace(/'/g, "''");
    this.files.write(auto, [...kept, `primary_conninfo = '${conninfo}'`, ''].join('\n'), 0o600);
    this.files.write(`${p.data}/standby.signal`, '', 0o600);
  }

  private async must(node: NodeConfig, tool: PgTool, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.exec(node, tool, args, opts);
    if (r.code !== 0) {
      const detail = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ');
      throw new Error(`${tool} failed on ${node.name} (exit ${r.code}): ${detail}`);
    }
    return r;
  }

  /**
   * A SIGKILLed postmaster stays a zombie until init reaps it, and PostgreSQL (postmaster and
   * pg_rewind's single-user run alike) takes the pid in postmaster.pid for a live one.
   */
  private async untilReaped(node: NodeConfig): Promise<void> {
    const old = this.postmasterPid(node);
    for (let i = 0; old !== null && i < 150 && isZombie(old); i++) await sleep(100);
  }

  private postmasterPid(node: NodeConfig): number | null {
    try {
      const pid = Number(readFileSync(`${this.paths(node).data}/postmaster.pid`, 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  pid(node: NodeConfig): number | null {
    const pid = this.postmasterPid(node);
    return pid !== null && processAlive(pid) ? pid : null;
  }

  async isRunning(node: NodeConfig): Promise<boolean> {
    return this.pid(node) !== null;
  }

  async start(node: NodeConfig): Promise<void> {
    await this.prepare();
    const p = this.paths(node);
    if (!(await this.isProvisioned(node))) {
      throw new UserError(`node ${node.name} has no data yet`, 'run /cluster up to create it', 'precondition');
    }
    if (await this.isRunning(node)) return;
    await this.upgradeToTls(node);
    if (!(await portFree(node.host, node.port))) {
      throw new UserError(
        `port ${node.port} on ${node.host} is already in use by another program, so ${node.name} cannot start`,
        `stop that program (\`ss -ltnp 'sport = :${node.port}'\` shows it) or give ${node.name} another port in CLUSTER_NODES`,
        'precondition',
      );
    }
    if (await this.isFenced(node)) this.files.write(`${p.data}/standby.signal`, '', 0o600);
    await this.untilReaped(node);
    this.watcher.starting(node);
    const r = await this.exec(node, 'pg_ctl', ['start', '-D', p.data, '-l', p.log, '-w', '-t', '60', '-s'], {}, true);
    if (r.code !== 0) {
      const tail = (await this.logs(node, 5)).trim().split('\n').slice(-2).join(' | ');
      throw new Error(`${node.name} did not start (pg_ctl exit ${r.code}): ${tail || r.stderr.trim()}`);
    }
    this.watcher.started(node);
  }

  async stop(node: NodeConfig, mode: StopMode = 'fast'): Promise<void> {
    if (!(await this.isRunning(node))) return;
    this.watcher.expectExit(node);
    const r = await this.exec(node, 'pg_ctl', ['stop', '-D', this.paths(node).data, '-m', mode, '-w', '-t', '60', '-s']);
    if (r.code !== 0 && (await this.isRunning(node))) {
      throw new Error(`${node.name} did not stop: ${r.stderr.trim()}`);
    }
  }

  async frozen(node: NodeConfig): Promise<string | null> {
    const pid = this.pid(node);
    return pid !== null && processStopped(pid) ? `its postmaster ${pid} is stopped (SIGSTOP)` : null;
  }

  async forceStop(node: NodeConfig, opts: { answers: boolean }): Promise<ForceStopResult> {
    const data = this.paths(node).data;
    const steps: FenceStep[] = [];
    const postmaster = this.pid(node);
    if (postmaster !== null) this.watcher.expectExit(node);
    if (opts.answers && postmaster !== null) {
      // SIGINT is PostgreSQL's fast shutdown (what pg_ctl -m fast sends), awaited here in 5 ms steps.
      const bound = this.config.FENCE_STOP_MS;
      const t = performance.now();
      try {
        process.kill(postmaster, 'SIGINT');
      } catch {
        // gone meanwhile, or not ours to signal: the kill below decides
      }
      const clean = await untilGone([postmaster], bound);
      steps.push({ how: clean ? 'fast stop' : `fast stop (no exit within ${bound} ms)`, ms: Math.round(performance.now() - t) });
    }
    const t = performance.now();
    const { killed, left } = await killInstance(data, postmaster);
    if (killed > 0) steps.push({ how: `SIGKILL of ${killed} process${killed === 1 ? '' : 'es'}`, ms: Math.round(performance.now() - t) });
    // The proof, before anyone may promote: no process on the data directory (killInstance's last
    // look), the postmaster gone, nothing on the port.
    const pids = [...new Set([...left, ...(postmaster !== null && processAlive(postmaster) ? [postmaster] : [])])];
    if (pids.length > 0) {
      throw new Error(`${node.name} is not fenced: process${pids.length === 1 ? '' : 'es'} ${pids.join(', ')} still run on ${data} after SIGKILL — kill ${pids.length === 1 ? 'it' : 'them'} by hand (kill -9 ${pids.join(' ')}), then confirm again`);
    }
    if (!(await portFree(node.host, node.port))) {
      throw new Error(`${node.name} is not fenced: something still listens on ${node.host}:${node.port} — find it with \`ss -ltnp 'sport = :${node.port}'\`, stop it, then confirm again`);
    }
    // Proven gone, so its lock files are stale: PostgreSQL takes any live pid of its user named in
    // postmaster.pid or in its socket's lock file (a zombie not yet reaped, a pid recycled by another
    // program) for a running postmaster and refuses to start — whoever starts it next: a rejoin, or
    // someone by hand.
    rmSync(`${data}/postmaster.pid`, { force: true });
    rmSync(`${this.paths(node).run}/.s.PGSQL.${node.port}.lock`, { force: true });
    return { steps, proof: `nothing left on its data directory or port ${node.port}` };
  }

  async kill(node: NodeConfig): Promise<void> {
    const pid = this.pid(node);
    if (pid === null) return;
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && processAlive(pid); i++) await sleep(20);
  }

  async restart(node: NodeConfig): Promise<void> {
    await this.stop(node, 'fast');
    await this.start(node);
  }

  async exec(node: NodeConfig, tool: PgTool, args: string[], opts: ExecOptions = {}, detached = false): Promise<ExecResult> {
    if (!PG_TOOLS.includes(tool)) throw new Error(`refusing to run ${tool}`);
    await this.prepare();
    const base = this.paths(node).base;
    return runProgram(tool === 'pgbackrest' ? 'pgbackrest' : `${this.pgBin}/${tool}`, args, {
      ...opts,
      user: this.user,
      cwd: existsSync(base) ? base : this.config.home,
      env: { PGPASSFILE: this.pgpassFile, PGCONNECT_TIMEOUT: '5', HOME: this.config.home, PGDATA: this.paths(node).data },
      detached,
    });
  }

  async logs(node: NodeConfig, lines: number): Promise<string> {
    return tailLines(this.paths(node).log, lines);
  }

  private fenceFile(node: NodeConfig): string {
    return `${this.paths(node).base}/FENCED`;
  }

  /**
   * standby.signal in the data directory makes PostgreSQL start in recovery (read-only), whoever
   * starts it — us, pg_ctl by hand, or a reboot script. The FENCED marker outside the data
   * directory records why, and start() re-creates the signal if someone deleted it.
   */
  async fence(node: NodeConfig, reason: string): Promise<void> {
    await this.prepare();
    const p = this.paths(node);
    // Even a node whose data is gone (a lost disk) is marked, so a failover is never blocked on it
    // and whatever is restored there later starts read-only until it is rejoined.
    if (existsSync(`${p.data}/PG_VERSION`)) this.files.write(`${p.data}/standby.signal`, '', 0o600);
    this.files.mkdir(p.base, PRIVATE_DIR);
    this.files.write(this.fenceFile(node), `${JSON.stringify({ at: new Date().toISOString(), reason })}\n`, 0o644);
  }

  async unfence(node: NodeConfig): Promise<void> {
    rmSync(this.fenceFile(node), { force: true });
  }

  async isFenced(node: NodeConfig): Promise<boolean> {
    return existsSync(this.fenceFile(node));
  }

  async destroy(node: NodeConfig): Promise<void> {
    await this.stop(node, 'immediate');
    rmSync(this.paths(node).base, { recursive: true, force: true });
  }

  watch(listener: (e: RuntimeEvent) => void): () => void {
    return this.watcher.watch(listener);
  }

  async close(): Promise<void> {
    this.watcher.close();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
