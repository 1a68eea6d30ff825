// The S3 repository (repo2, encrypted with aes-256-cbc) with CLUSTER_BACKEND=patroni, on real etcd +
// Patroni + PostgreSQL on loopback and a real S3 server (OpenStack Swift's S3 API over TLS). The members'
// pgBackRest configuration carries the bot's repositories and cipher (as docs/patroni-backups.md tells
// an operator); their archive_command pushes WAL into repo1 and the bucket, the bot's /cluster backup
// writes both, /cluster restore-check repo2 restores from the bucket alone, and a member configuration
// without repo2 fails the backup with one line naming the members' configuration.
import { readFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/reply.js';
import { loadConfig } from '../../src/config.js';
import { pgbackrestPaths } from '../../src/backup/pgbackrest/conf.js';
import { repoOptions } from '../../src/backup/pgbackrest/repos.js';
import { pgUser } from '../../src/backup/files.js';
import { runProgram } from '../../src/runtime/process.js';
import { filesUnder, startS3Server, type S3Server } from '../helpers/s3-server.js';
import { within as until } from '../helpers/wait.js';
import { expectFailedInRepo2Only, expectInBothRepos, expectRestoredFromRepo2, type RepoCopy } from '../helpers/s3-replies.js';
import { startPatroniBot, type PatroniBot } from './app.js';
import { startPatroniCluster, type PatroniHarness } from './harness.js';

const MARKER = randomBytes(18).toString('base64url');
const CIPHER_PASS = randomBytes(24).toString('base64');
const filesContaining = (files: string[], text: string) => files.filter((f) => readFileSync(f).includes(text));

describe('the encrypted S3 repository with the Patroni backend', () => {
  let s3: S3Server;
  let h: PatroniHarness;
  let bot: PatroniBot;
  let copies: RepoCopy[] = [];
  const replies: Reply[] = [];
  const run = async (text: string) => {
    const r = await bot.run(text);
    replies.push(r);
    return r;
  };
  /** `pgbackrest repo-ls` of a path in one repository, with the bot's own configuration. */
  const repoLs = async (repo: number, path: string) => {
    const r = await runProgram('pgbackrest', [`--config=${pgbackrestPaths(bot.config).conf}`, `--repo=${repo}`, 'repo-ls', path], { user: pgUser(), cwd: '/tmp', timeoutMs: 60_000 });
    return r.code === 0 ? r.stdout : `exit ${r.code}: ${r.stderr.trim()}`;
  };

  beforeAll(async () => {
    const t0 = Date.now();
    s3 = await startS3Server();
    // lz4 keeps most literal strings as they are, so the marker's absence from the bucket's backup files
    // says more than it would with zst (whose entropy coding hides text anyway).
    const env = { ...s3.env, BACKUP_CIPHER_PASS: CIPHER_PASS, BACKUP_S3_TIMEOUT_SECONDS: '3', BACKUP_COMPRESS_TYPE: 'lz4' };
    const repos = loadConfig({ POSTGRES_ADMIN_PASSWORD: 'unused-here', POSTGRES_REPLICATOR_PASSWORD: 'unused-here', ...env });
    h = await startPatroniCluster({
      ttl: 10,
      loopWait: 2,
      retryTimeout: 4,
      // What the operator adds to each member's [global]: the bot's repositories and cipher. Their WAL
      // is pushed uncompressed here, so each of the 300 copies of the marker is literal in plain WAL
      // (lz4 stores only the first copy literally, and that one is split when 4 of its bytes match
      // something before it or it crosses a WAL page header: once in a CI run).
      memberPgBackRest: (repo1) => ({ ...repoOptions(repos, { repo1 }), 'compress-type': 'none', 'io-timeout': '3' }),
    });
    bot = await startPatroniBot(h, env);
    console.log(`[patroni-s3] Swift + etcd + 3 Patroni members up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 600_000);

  afterAll(async () => {
    await bot?.close().catch(() => undefined);
    await h?.destroy();
    await s3?.stop();
  }, 120_000);

  it('the members archive WAL into repo1 and the bucket; the bucket\'s copy is encrypted', async () => {
    await bot.sql('primary', 'CREATE TABLE proyecto.s3_marker (id int PRIMARY KEY, note text NOT NULL)');
    await bot.sql('primary', `INSERT INTO proyecto.s3_marker SELECT g, '${MARKER}' FROM generate_series(1, 300) g`);
    const [{ seg }] = await bot.sql<{ seg: string }>('primary', 'SELECT pg_walfile_name(pg_switch_wal()) AS seg');
    const folder = `archive/${bot.config.BACKUP_STANZA}/15-1/${seg.slice(0, 16)}`;
    // The bot writes its configuration (repositories and cipher) before its first pgBackRest command.
    await bot.app.services.backups.info();
    let seen = '';
    for (const repo of [1, 2]) {
      await until(`${seg} in repo${repo}`, 120_000, async () => (seen = await repoLs(repo, folder)).includes(seg), () => seen);
    }
    // The switched segment holds the marker's WAL (the rows may begin in the one before it).
    const repo1 = filesUnder(`${bot.config.walArchiveDir}/archive`);
    const holding = filesContaining(repo1, MARKER).map((f) => f.split('/').pop());
    expect(holding, repo1.join(', ')).toContainEqual(expect.stringMatching(new RegExp(`^${seg}-`)));
    // Uncompressed, an unencrypted copy would hold the marker in plain text (pgBackRest uploads the
    // segments in 5 MB parts, so only a part's first bytes could show the cipher's header).
    const objects = filesUnder(s3.objectsDir).filter((f) => f.endsWith('.data'));
    expect(objects.length).toBeGreaterThan(3);
    expect(filesContaining(objects, MARKER)).toEqual([]);
  }, 300_000);

  it('/cluster backup full takes the backup from a replica into repo1 and the bucket, each verified; no object holds the marker', async () => {
    await bot.sql('primary', 'CHECKPOINT');
    const r = await run('/cluster backup full');
    copies = expectInBothRepos(r);
    expect((r.data as { backup: { node: string } }).backup.node).not.toBe('primary');
    expect(filesUnder(s3.objectsDir).filter((f) => f.endsWith('.data')).length).toBeGreaterThan(10);
    expect(filesContaining(filesUnder(s3.objectsDir), MARKER)).toEqual([]);
  }, 900_000);

  it('/cluster restore-check repo2 restores the bucket copy (backup and WAL from the bucket) into a fresh scratch instance', async () => {
    expectRestoredFromRepo2(await run('/cluster restore-check repo2'), copies[1].id);
  }, 900_000);

  it('members whose configuration lacks repo2 fail the backup in repo2 with one line naming their configuration; repo1 still takes it', async () => {
    h.setMemberPgBackRest({ 'compress-type': 'lz4' });
    const r = await run('/cluster backup full');
    expectFailedInRepo2Only(r);
    expect(r.text).toContain(`pgBackRest backup on repo2 (S3 bucket "${s3.bucket}"`);
    expect(r.text).toContain('the primary\'s archive_command did not deliver WAL to repo2');
    expect(r.text).toContain('Patroni members: docs/patroni-backups.md');
  }, 900_000);

  it('never writes the passphrase or the S3 keys into a log, the audit trail or a chat reply', () => {
    const text = JSON.stringify(replies);
    const logs = filesUnder(h.dir).filter((f) => /\.log$|audit\.jsonl$|\/log\//.test(f));
    expect(logs.some((f) => f.endsWith('audit.jsonl'))).toBe(true);
    expect(logs.some((f) => f.endsWith('clusterbot.log'))).toBe(true);
    expect(logs.filter((f) => /patroni-\w+\.log$/.test(f))).toHaveLength(3);
    for (const secret of [CIPHER_PASS, s3.secretKey]) {
      expect(text).not.toContain(secret);
      expect(filesContaining(logs, secret)).toEqual([]);
    }
    // The members' configuration holds them, readable by its owner only.
    for (const m of h.members) expect(statSync(`${h.dir}/${m.name}/pgbackrest.conf`).mode & 0o777).toBe(0o600);
  });
});
