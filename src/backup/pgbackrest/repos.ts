// The repository options of the pgBackRest configuration: repo1 is posix under the backups folder,
// repo2 the off-machine S3-compatible repository when BACKUP_S3_BUCKET is set. One function, so every
// place that writes a configuration (the bot's, each node's, a container's) gets the same repositories.
// The secure options (cipher passphrase, S3 keys) are part of the result: they belong in a
// configuration file written with mode 0600 (writePgBackRestConf), never on a command line.
import { resolve } from 'node:path';
import type { Config } from '../../config.js';

export interface RepoPaths {
  /** repo1-path as seen where pgBackRest runs (the bot's host, or /backups/pgbackrest in a node container). */
  repo1: string;
  /** BACKUP_S3_CA_FILE as seen where pgBackRest runs; default: the configured path. */
  s3CaFile?: string;
}

/** A repository as people read it in errors and cards: "repo2 (S3 bucket "b" at host:port)". */
export interface RepoDescription {
  index: number;
  kind: 'posix' | 's3';
  label: string;
  /** Its folder, or host:port, as pgBackRest's errors name it. */
  address: string;
  /** What to check when it cannot be reached. */
  check: string;
}

/** pgBackRest's options that hold secrets; pgBackRest itself refuses them on a command line. */
export const SECURE_OPTION = /^repo\d+-(cipher-pass|s3-key|s3-key-secret|s3-token)$/;

export const CIPHER_TYPE = 'aes-256-cbc';

export function s3Enabled(config: Config): boolean {
  return config.BACKUP_S3_BUCKET !== undefined;
}

/** host and port of BACKUP_S3_ENDPOINT (443 unless given). */
export function s3Endpoint(config: Config): { host: string; port: number } {
  const [host, port] = (config.BACKUP_S3_ENDPOINT ?? '').split(':');
  return { host, port: port ? Number(port) : 443 };
}

export function repoOptions(config: Config, paths: RepoPaths): Record<string, string> {
  const options: Record<string, string> = {
    'repo1-path': paths.repo1,
    'repo1-retention-full-type': 'count',
    'repo1-retention-full': String(config.BACKUP_RETENTION_FULL),
    ...(config.BACKUP_ENCRYPT_LOCAL ? cipher(config, 1) : {}),
  };
  if (!s3Enabled(config)) return options;
  const { host, port } = s3Endpoint(config);
  const caFile = paths.s3CaFile ?? (config.BACKUP_S3_CA_FILE ? resolve(config.BACKUP_S3_CA_FILE) : undefined);
  return {
    ...options,
    'repo2-type': 's3',
    'repo2-path': config.BACKUP_S3_PATH,
    'repo2-s3-bucket': config.BACKUP_S3_BUCKET!,
    'repo2-s3-endpoint': host,
    'repo2-s3-port': String(port),
    'repo2-s3-region': config.BACKUP_S3_REGION,
    'repo2-s3-uri-style': config.BACKUP_S3_URI_STYLE,
    'repo2-s3-key': config.BACKUP_S3_ACCESS_KEY!,
    'repo2-s3-key-secret': config.BACKUP_S3_SECRET_KEY!,
    ...(caFile ? { 'repo2-storage-ca-file': caFile } : {}),
    'repo2-retention-full-type': 'count',
    'repo2-retention-full': String(config.BACKUP_S3_RETENTION_FULL ?? config.BACKUP_RETENTION_FULL),
    ...cipher(config, 2),
  };
}

function cipher(config: Config, repo: number): Record<string, string> {
  // loadConfig refuses S3 or BACKUP_ENCRYPT_LOCAL without a passphrase.
  return { [`repo${repo}-cipher-type`]: CIPHER_TYPE, [`repo${repo}-cipher-pass`]: config.BACKUP_CIPHER_PASS! };
}

/** The configured repositories, for messages: which one failed and what to check. */
export function describeRepos(config: Config, paths: RepoPaths): RepoDescription[] {
  const repos: RepoDescription[] = [
    {
      index: 1,
      kind: 'posix',
      label: `repo1 (folder ${paths.repo1})`,
      address: paths.repo1,
      check: `check that ${paths.repo1} exists, is writable by the postgres OS user and has free space`,
    },
  ];
  if (s3Enabled(config)) {
    const { host, port } = s3Endpoint(config);
    repos.push({
      index: 2,
      kind: 's3',
      label: `repo2 (S3 bucket "${config.BACKUP_S3_BUCKET}" at ${host}:${port})`,
      address: host,
      check: `check that https://${host}:${port} answers from this host, that the bucket exists and that BACKUP_S3_ACCESS_KEY/BACKUP_S3_SECRET_KEY may write to it (docs/backups-s3.md)`,
    });
  }
  return repos;
}
