// The S3 repository and encryption with CLUSTER_BACKEND=patroni: accepted for members on this machine,
// refused with RUNTIME=docker; a member that is not on this machine is named in one line (real files).
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { memberHere } from '../../src/backup/pgbackrest/member-here.js';
import { describeRepos } from '../../src/backup/pgbackrest/repos.js';
import { pgBackRestFailure } from '../../src/backup/pgbackrest/run.js';
import { baseEnv, s3Env } from '../helpers/s3-settings.js';

const patroni = { ...baseEnv, CLUSTER_BACKEND: 'patroni', PATRONI_URLS: 'http://127.0.0.1:8008' };

describe('the S3 repository with the Patroni backend', () => {
  it('takes repo2 and encryption with Patroni members on this machine; refuses them with RUNTIME=docker in one line', () => {
    expect(loadConfig({ ...patroni, ...s3Env }).BACKUP_S3_BUCKET).toBe('acme-pg-backups');
    expect(loadConfig({ ...patroni, BACKUP_ENCRYPT_LOCAL: 'true', BACKUP_CIPHER_PASS: s3Env.BACKUP_CIPHER_PASS }).BACKUP_ENCRYPT_LOCAL).toBe(true);
    expect(() => loadConfig({ ...patroni, ...s3Env, RUNTIME: 'docker' })).toThrow(
      /BACKUP_S3_BUCKET: the S3 repository works with RUNTIME=local for now \(native nodes, or Patroni members on this machine\), not with CLUSTER_BACKEND=patroni and RUNTIME=docker — unset them, or see docs\/backups-s3\.md/,
    );
    const encrypted = { BACKUP_ENCRYPT_LOCAL: 'true', BACKUP_CIPHER_PASS: s3Env.BACKUP_CIPHER_PASS, RUNTIME: 'docker' };
    expect(() => loadConfig({ ...patroni, ...encrypted })).toThrow(
      /BACKUP_ENCRYPT_LOCAL: repository encryption works with RUNTIME=local for now \(native nodes, or Patroni members on this machine\) and with native RUNTIME=docker, not with CLUSTER_BACKEND=patroni and RUNTIME=docker — unset it, or see docs\/backups-s3\.md/,
    );
    expect(loadConfig({ ...baseEnv, ...encrypted }).BACKUP_ENCRYPT_LOCAL).toBe(true);
  });

  it('names a member whose data directory is not on this machine, and passes one that is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-member-'));
    try {
      chmodSync(dir, 0o755);
      writeFileSync(join(dir, 'PG_VERSION'), '15\n');
      chmodSync(join(dir, 'PG_VERSION'), 0o644);
      const here = { name: 'primary', data: dir, socket: '/tmp', port: 5432 };
      await expect(memberHere(here)).resolves.toEqual(here);
      await expect(memberHere({ ...here, data: '/var/lib/postgresql/patroni/data' })).rejects.toThrow(
        "Patroni member primary's data directory /var/lib/postgresql/patroni/data is not on this machine: the bot backs up Patroni members on its own machine only",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the nodes\' pgBackRest configuration when WAL never reached a repository or it has no stanza', () => {
    const repos = describeRepos(loadConfig({ ...patroni, ...s3Env }), { repo1: '/b/pgbackrest' });
    const args = ['--repo=2', '--type=full', 'backup'];
    const timeout = "ERROR: [082]: WAL segment 000000010000000000000007 was not archived before the 108000ms timeout\n       HINT: check the archive_command to ensure that all options are correct (especially --stanza).\n";
    expect(pgBackRestFailure(args, { code: 82, stdout: '', stderr: timeout }, repos).line).toBe(
      'pgBackRest backup on repo2 (S3 bucket "acme-pg-backups" at minio.example.net:9000) failed: WAL segment 000000010000000000000007 was not archived before the 108000ms timeout — the primary\'s archive_command did not deliver WAL to repo2: every node\'s pgBackRest configuration must carry the bot\'s repositories and cipher (repo1-*, repo2-*, repoN-cipher-*; Patroni members: docs/patroni-backups.md), and the WAL archiver must work (/cluster status), then run it again',
    );
    const missing = "ERROR: [055]: unable to load info file '/clusterbot/backup/clusterbot/backup.info' or '/clusterbot/backup/clusterbot/backup.info.copy':\n       FileMissingError: unable to open missing file\n       HINT: backup.info cannot be opened and is required to perform a backup.\n       HINT: has a stanza-create been performed?\n";
    expect(pgBackRestFailure(args, { code: 55, stdout: '', stderr: missing }, repos).line).toMatch(/ — repo2 has no stanza: every node's pgBackRest configuration must carry .*; then run pgbackrest --stanza=<stanza> stanza-create once on the primary/);
    // An unreachable bucket prints the same hint: the next step stays the bucket's.
    const down = "ERROR: [055]: unable to load info file '/clusterbot/backup/clusterbot/backup.info' or '/clusterbot/backup/clusterbot/backup.info.copy':\n       HostConnectError: unable to connect to 'minio.example.net:9000 (127.0.0.1)': [111] Connection refused\n       HostConnectError: unable to connect to 'minio.example.net:9000 (127.0.0.1)': [111] Connection refused\n       HINT: backup.info cannot be opened and is required to perform a backup.\n       HINT: has a stanza-create been performed?\n";
    expect(pgBackRestFailure(args, { code: 55, stdout: '', stderr: down }, repos).line).toMatch(/ — check that https:\/\/minio\.example\.net:9000 answers from this host/);
  });
});
