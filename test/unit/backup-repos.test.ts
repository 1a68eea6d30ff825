// The off-machine repository's settings: all-or-nothing validation, the pgBackRest options they become,
// and the secrets they hold kept out of every masked string.
import { describe, expect, it } from 'vitest';
import { baseEnv, s3Env } from '../helpers/s3-settings.js';
import { loadConfig } from '../../src/config.js';
import { describeRepos, repoOptions } from '../../src/backup/pgbackrest/repos.js';
import { SecretMasker } from '../../src/core/secrets.js';
import { pgBackRestFailure } from '../../src/backup/pgbackrest/run.js';

const base = baseEnv;
const s3 = s3Env;

describe('the S3 repository settings', () => {
  it('refuses a bucket without its endpoint, keys and passphrase, naming every missing key in one line', () => {
    expect(() => loadConfig({ ...base, BACKUP_S3_BUCKET: 'acme-pg-backups' })).toThrow(
      /BACKUP_S3_ENDPOINT: required.*BACKUP_S3_ACCESS_KEY: required.*BACKUP_S3_SECRET_KEY: required.*BACKUP_CIPHER_PASS: required with the S3 repository/,
    );
    expect(() => loadConfig({ ...base, BACKUP_ENCRYPT_LOCAL: 'true' })).toThrow(/BACKUP_CIPHER_PASS: required with BACKUP_ENCRYPT_LOCAL=true/);
    expect(() => loadConfig({ ...base, ...s3, BACKUP_CIPHER_PASS: 'short' })).toThrow(/BACKUP_CIPHER_PASS: must be at least 20 characters/);
    expect(() => loadConfig({ ...base, ...s3, BACKUP_S3_ENDPOINT: 'https://s3.example.net' })).toThrow(/BACKUP_S3_ENDPOINT: must be host or host:port/);
  });

  it('becomes repo2 (s3, path style, encrypted) beside the posix repo1; no S3 settings, no repo2', () => {
    const config = loadConfig({ ...base, ...s3, BACKUP_S3_CA_FILE: '/etc/hosts' });
    expect(repoOptions(config, { repo1: '/b/pgbackrest' })).toEqual({
      'repo1-path': '/b/pgbackrest',
      'repo1-retention-full-type': 'count',
      'repo1-retention-full': '2',
      'repo2-type': 's3',
      'repo2-path': '/clusterbot',
      'repo2-s3-bucket': 'acme-pg-backups',
      'repo2-s3-endpoint': 'minio.example.net',
      'repo2-s3-port': '9000',
      'repo2-s3-region': 'us-east-1',
      'repo2-s3-uri-style': 'path',
      'repo2-s3-key': 'AKIAEXAMPLEKEY',
      'repo2-s3-key-secret': 'wJalrXUtnFEMI-secret-key',
      'repo2-storage-ca-file': '/etc/hosts',
      'repo2-retention-full-type': 'count',
      'repo2-retention-full': '2',
      'repo2-cipher-type': 'aes-256-cbc',
      'repo2-cipher-pass': 'a-long-enough-passphrase-0123456789',
    });
    const plain = repoOptions(loadConfig(base), { repo1: '/b/pgbackrest' });
    expect(Object.keys(plain).filter((k) => !k.startsWith('repo1-'))).toEqual([]);
    expect(plain['repo1-cipher-type']).toBeUndefined();
    const local = repoOptions(loadConfig({ ...base, BACKUP_ENCRYPT_LOCAL: 'true', BACKUP_CIPHER_PASS: s3.BACKUP_CIPHER_PASS }), { repo1: '/b' });
    expect([local['repo1-cipher-type'], local['repo1-cipher-pass']]).toEqual(['aes-256-cbc', s3.BACKUP_CIPHER_PASS]);
  });

  it('masks the passphrase and both keys wherever they appear', () => {
    const config = loadConfig({ ...base, ...s3 });
    const m = new SecretMasker(config.secrets);
    const text = m.mask(`key ${s3.BACKUP_S3_ACCESS_KEY} secret ${s3.BACKUP_S3_SECRET_KEY} pass ${s3.BACKUP_CIPHER_PASS}`);
    for (const v of [s3.BACKUP_S3_ACCESS_KEY, s3.BACKUP_S3_SECRET_KEY, s3.BACKUP_CIPHER_PASS]) expect(text).not.toContain(v);
    // Other values of the same shapes, e.g. from a pgBackRest configuration a person pasted.
    const pasted = new SecretMasker([]).mask('repo3-cipher-pass=zzz-unknown repo3-s3-key-secret=yyy-unknown PGBACKREST_REPO2_CIPHER_PASS=xxx-unknown BACKUP_S3_SECRET_KEY=www-unknown');
    for (const v of ['zzz-unknown', 'yyy-unknown', 'xxx-unknown', 'www-unknown']) expect(pasted).not.toContain(v);
    expect(pasted).toContain('repo3-cipher-pass=****');
  });

  it('turns a failed pgBackRest run into one line naming the repository and the next step', () => {
    const config = loadConfig({ ...base, ...s3 });
    const repos = describeRepos(config, { repo1: '/b/pgbackrest' });
    const out = { code: 49, stdout: "ERROR: [049]: unable to connect to 'minio.example.net:9000': [111] Connection refused\n       HINT: is the host up?\n", stderr: '' };
    const e = pgBackRestFailure(['--stanza=clusterbot', 'backup'], out, repos);
    expect(e.line).toBe(
      `pgBackRest backup on repo2 (S3 bucket "acme-pg-backups" at minio.example.net:9000) failed: unable to connect to 'minio.example.net:9000': [111] Connection refused — check that https://minio.example.net:9000 answers from this host, that the bucket exists and that BACKUP_S3_ACCESS_KEY/BACKUP_S3_SECRET_KEY may write to it (docs/backups-s3.md), then run it again`,
    );
    const local = pgBackRestFailure(['--stanza=clusterbot', '--repo=1', 'backup'], { code: 47, stdout: "ERROR: [047]: unable to create path '/b/pgbackrest/backup': [13] Permission denied", stderr: '' }, repos);
    expect(local.line).toMatch(/^pgBackRest backup on repo1 \(folder \/b\/pgbackrest\) failed: unable to create path .* — check that \/b\/pgbackrest exists, is writable/);
  });
});
