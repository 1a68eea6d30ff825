// The files the local runtime writes for each node, as text: settings, client authentication,
// the passfile. Pure functions of the configuration, so they read (and test) on their own.
import { readFileSync } from 'node:fs';
import type { Config, NodeConfig } from '../config.js';
import { postgresAsset } from '../paths.js';
import { archiveCommands, nodeConfFile, pgbackrestPaths, restoreGuardFile } from '../backup/pgbackrest/conf.js';
import { s3Enabled } from '../backup/pgbackrest/repos.js';

/** The seed's 10 WAL senders suit 3 nodes; larger clusters need one per replica plus clones and backups. */
export const walSenders = (nodes: number) => Math.max(10, 2 * nodes + 2);

/** clusterbot.conf: the shared settings plus this node's port, sockets, archive and restore commands. */
export function nodeConfText(config: Config, node: NodeConfig, socketDir: string): string {
  // repo1 alone: restore_command asks pgBackRest only for a file it holds (postgres/restore-if-archived.sh).
  const guard = s3Enabled(config) ? undefined : { script: restoreGuardFile(config), repo: pgbackrestPaths(config).repo };
  const pgbackrest = archiveCommands(config.BACKUP_STANZA, nodeConfFile(config, node.name), guard);
  const shared = readFileSync(postgresAsset('postgresql.conf'), 'utf8');
  return [
    '# Written by clusterbot for this node; edits are overwritten on re-clone.',
    shared.trim(),
    '',
    // Equal on every node, as hot standby requires.
    `max_wal_senders = ${walSenders(config.nodes.length)}`,
    `max_replication_slots = ${walSenders(config.nodes.length)}`,
    `cluster_name = '${node.name}'`,
    `listen_addresses = '${node.host}'`,
    `port = ${node.port}`,
    `unix_socket_directories = '${socketDir}'`,
    'unix_socket_permissions = 0700',
    // pgBackRest: checksummed, compressed, asynchronous push into the repository; get for catch-up.
    `archive_command = '${pgbackrest.archive}'`,
    `restore_command = '${pgbackrest.restore}'`,
    // TLS with the node's certificate from the cluster CA (pg_hba.conf admits hostssl only).
    'ssl = on',
    `ssl_cert_file = '${config.tlsDir}/${node.name}.crt'`,
    `ssl_key_file = '${config.tlsDir}/${node.name}.key'`,
    '',
  ].join('\n');
}

/** pg_hba.conf from the shared template, for loopback. */
export function hbaText(config: Config, bootstrap: boolean): string {
  const cidr = config.nodes.some((n) => n.host.includes(':')) ? '::1/128' : '127.0.0.1/32';
  const body = readFileSync(postgresAsset('pg_hba.conf'), 'utf8')
    .replaceAll('@ALLOWED_CIDR@', cidr)
    .replaceAll('@ADMIN_USER@', config.POSTGRES_ADMIN_USER)
    .replaceAll('@DATABASE@', config.PG_DATABASE);
  // During bootstrap only the postgres OS user can reach the 0700 socket directory.
  return bootstrap ? `local all postgres trust\n${body}` : body;
}

/** The passfile replication and tools use, so no password is written into postgresql.auto.conf. */
export function pgpassText(config: Config): string {
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
  return [
    `*:*:*:replicator:${esc(config.POSTGRES_REPLICATOR_PASSWORD)}`,
    `*:*:*:${config.POSTGRES_ADMIN_USER}:${esc(config.POSTGRES_ADMIN_PASSWORD)}`,
    '',
  ].join('\n');
}
