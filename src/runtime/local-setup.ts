// What the local runtime sets up beside the nodes: files owned by the postgres OS user, the cluster
// CA and each node's server certificate, and each node's pgBackRest configuration and stanza.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Config, NodeConfig } from '../config.js';
import { nodeConfFile, nodeConfText as pgbackrestNodeConf, pgbackrestPaths, restoreGuardFile, type PgTarget } from '../backup/pgbackrest/conf.js';
import { postgresAsset } from '../paths.js';
import { ensureCa, issueServerCertificate } from './certificates.js';
import { chownTo, type OsUser } from './process.js';
import type { ExecResult } from './runtime.js';

/** Files and folders that belong to the OS user PostgreSQL runs as (null: the bot's own user). */
export class OwnedFiles {
  constructor(private readonly user: () => OsUser | null) {}

  write(path: string, content: string, mode: number): void {
    writeFileSync(path, content, { mode });
    chmodSync(path, mode);
    chownTo(path, this.user());
  }

  mkdir(path: string, mode: number): void {
    mkdirSync(path, { recursive: true, mode });
    chmodSync(path, mode);
    chownTo(path, this.user());
  }
}

/** The cluster CA: ca.crt readable by the postgres OS user (replication verifies with it), ca.key 0600. */
export async function prepareCa(config: Config): Promise<void> {
  mkdirSync(config.tlsDir, { recursive: true, mode: 0o755 });
  chmodSync(config.tlsDir, 0o755);
  await ensureCa(config);
}

/** A new server certificate for the node (its host, loopback), owned by the postgres OS user; the caller reloads. */
export async function issueNodeCertificate(config: Config, node: NodeConfig, user: OsUser | null): Promise<void> {
  await issueServerCertificate(config, node.name, [node.host, '127.0.0.1', 'localhost'], user);
}

/** The node's certificate, issued once (clusterbot.conf points ssl_cert_file/ssl_key_file at it). */
export function hasNodeCertificate(config: Config, node: NodeConfig): boolean {
  return existsSync(`${config.tlsDir}/${node.name}.key`);
}

/** Each node's pgBackRest configuration (its archive commands) and the folders, owned by postgres; the bot's own is site.ts's. */
export function writePgBackRestConfigs(config: Config, files: OwnedFiles, targetOf: (node: NodeConfig) => PgTarget): void {
  const p = pgbackrestPaths(config);
  for (const dir of [p.dir, `${p.dir}/lock`, `${p.dir}/log`, `${p.dir}/spool`]) files.mkdir(dir, 0o750);
  for (const n of config.nodes) files.write(nodeConfFile(config, n.name), pgbackrestNodeConf(config, targetOf(n)), 0o600);
  // Written before any clusterbot.conf names it: a restore_command the shell cannot find ends recovery.
  files.write(restoreGuardFile(config), readFileSync(postgresAsset('restore-if-archived.sh'), 'utf8'), 0o750);
}

type RunTool = (args: string[]) => Promise<ExecResult>;

/**
 * The stanza exists from the first minute: archive-push refuses WAL until it does. In a repository
 * that already holds an older database of this stanza (after a reset), the new one joins it with
 * stanza-upgrade, and the old backups stay listed and restorable. `run` runs pgBackRest on the node;
 * `must` does too and throws on failure.
 */
export async function createStanza(config: Config, node: NodeConfig, run: RunTool, must: RunTool): Promise<void> {
  const args = [`--config=${nodeConfFile(config, node.name)}`, `--stanza=${config.BACKUP_STANZA}`];
  const created = await run([...args, 'stanza-create']);
  if (created.code === 0) return;
  if (!/do not match the database/.test(`${created.stderr}${created.stdout}`)) {
    await must([...args, 'stanza-create']);
  }
  await must([...args, 'stanza-upgrade']);
}
