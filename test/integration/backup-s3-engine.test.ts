// The chat commands over both repositories: a real local cluster (primary + standby), a real S3 server
// (OpenStack Swift's S3 API over TLS) as repo2, encrypted with aes-256-cbc. /cluster backup full takes
// the backup into repo1 and repo2, /cluster backups and /cluster verify show each repository,
// /cluster restore-check repo2 restores from the bucket alone; with the S3 server killed (kill -9) the
// backup card fails naming repo2 and the next step, and the overdue check names repo2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Reply } from '../../src/chat/reply.js';
import { principal, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { filesUnder, startS3Server, type S3Server } from '../helpers/s3-server.js';
import { eventually } from '../helpers/wait.js';
import { expectFailedInRepo2Only, expectInBothRepos, expectRestoredFromRepo2, type RepoCopy } from '../helpers/s3-replies.js';

interface ListedSet {
  id: string;
  repo: number;
  verified: boolean | null;
}

const MARKER = `s3-engine-marker-${randomBytes(6).toString('hex')}`;
const CIPHER_PASS = randomBytes(24).toString('base64');
const olga = principal('olga');
const victor = principal('victor');

/** Every file under `dir` whose bytes contain `text`. */
const filesContaining = (dir: string, text: string) => filesUnder(dir).filter((f) => readFileSync(f).includes(text));

describe('the backup commands over repo1 and an encrypted S3 repo2', () => {
  let s3: S3Server;
  let c: TestCluster;
  const replies: Reply[] = [];
  const run = async (text: string, who = olga) => {
    const r = await c.run(text, who);
    replies.push(r);
    return r;
  };
  let copies: RepoCopy[] = [];

  beforeAll(async () => {
    s3 = await startS3Server();
    c = await startTestCluster({
      nodeCount: 2,
      nodes: ([a, b]) => `primary:${a},standby:${b}`,
      // lz4 keeps literal strings as they are, so the marker is findable in the unencrypted repo1 and
      // its absence from the bucket proves the encryption (zst's entropy coding would hide it anyway).
      env: { ...s3.env, BACKUP_CIPHER_PASS: CIPHER_PASS, BACKUP_S3_TIMEOUT_SECONDS: '5', BACKUP_COMPRESS_TYPE: 'lz4' },
    });
    await c.sql('primary', 'CREATE TABLE proyecto.s3_marker (id int PRIMARY KEY, note text NOT NULL)');
    await c.sql('primary', `INSERT INTO proyecto.s3_marker SELECT g, '${MARKER}' FROM generate_series(1, 300) g`);
    await c.sql('primary', 'CHECKPOINT');
  }, 600_000);

  afterAll(async () => {
    await c?.destroy();
    await s3?.stop();
  }, 120_000);

  it('/cluster backup full takes the backup into repo1 and the bucket, each verified, and says so per repository', async () => {
    const r = await run('/cluster backup full');
    copies = expectInBothRepos(r);
    expect(copies.every((x) => /^\d{8}-\d{6}F$/.test(x.id ?? ''))).toBe(true);
    expect(copies[0].id).not.toBe(copies[1].id);
    const repo2 = r.fields?.find((f) => f.label.startsWith('repo2 (S3 bucket'));
    expect(repo2?.value).toMatch(new RegExp(`^${copies[1].id}: .+ stored in .+, verified`));
  }, 900_000);

  it('stores the bucket copy encrypted: the marker is in repo1 (not encrypted) but in no object of the bucket', () => {
    expect(filesContaining(`${c.config.walArchiveDir}/backup`, MARKER).length).toBeGreaterThan(0);
    expect(filesUnder(s3.objectsDir).filter((f) => f.endsWith('.data')).length).toBeGreaterThan(10);
    expect(filesContaining(s3.objectsDir, MARKER)).toEqual([]);
  });

  it('/cluster backups lists which repository each backup is in, and /cluster verify checks each repository', async () => {
    const l = await run('/cluster backups', victor);
    expect(l.failed).toBeFalsy();
    const listed = (l.data as { backups: ListedSet[] }).backups.map((b) => [b.id, b.repo, b.verified]);
    expect(listed).toEqual([
      [copies[1].id, 2, true],
      [copies[0].id, 1, true],
    ]);
    expect(l.tables?.[0].rows.map((row) => row[8])).toEqual(['repo2', 'repo1']);

    const v = await run('/cluster verify');
    expect(v.failed, v.text).toBeFalsy();
    expect((v.data as { repos: Array<{ repo: number; backup: string; ok: boolean }> }).repos).toEqual([
      expect.objectContaining({ repo: 1, backup: copies[0].id, ok: true }),
      expect.objectContaining({ repo: 2, backup: copies[1].id, ok: true }),
    ]);
  }, 900_000);

  it('/cluster restore-check repo2 restores the bucket copy (backup and WAL from the bucket) into a fresh scratch instance', async () => {
    expectRestoredFromRepo2(await run('/cluster restore-check repo2'), copies[1].id);
  }, 900_000);

  it('fails the backup card naming repo2 and the next step when the S3 server is killed, keeps repo1, and the overdue check names repo2', async () => {
    await s3.killProxy();
    const r = await run('/cluster backup full');
    expectFailedInRepo2Only(r);
    const line = `pgBackRest backup on repo2 (S3 bucket "${s3.bucket}" at localhost:${s3.port}) failed:`;
    expect(r.text).toContain(line);
    expect(r.text).toContain(`— check that https://localhost:${s3.port} answers from this host`);

    const reason = await eventually(
      'the overdue check naming repo2',
      () => c.app.services.backups!.overdue(),
      (v) => !!v && v.includes(`repo2 (S3 bucket "${s3.bucket}"`),
      { timeoutMs: 300_000, everyMs: 2000 },
    );
    expect(reason).toMatch(/(overdue in|^)repo2 \(S3 bucket .+\)(: the newest backup| cannot be read)/);
    expect(reason).toContain(`check that https://localhost:${s3.port} answers`);
  }, 900_000);

  it('never writes the passphrase or the S3 keys into a log, the audit trail or a chat reply', () => {
    const text = JSON.stringify(replies);
    const files = [`${c.home}/logs/clusterbot.log`, `${c.home}/audit.jsonl`, ...filesUnder(`${c.home}/pgbackrest/log`)].filter((f) => existsSync(f));
    expect(files.length).toBeGreaterThan(2);
    for (const secret of [CIPHER_PASS, s3.secretKey]) {
      expect(text).not.toContain(secret);
      expect(files.filter((f) => readFileSync(f, 'utf8').includes(secret))).toEqual([]);
    }
  });
});
