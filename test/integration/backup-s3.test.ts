// The off-machine repository: the real pgbackrest against a real S3 server (OpenStack Swift's S3 API,
// over TLS with its own CA) and a real local PostgreSQL node. repo1 is the local folder, repo2 the
// bucket, encrypted with aes-256-cbc. This file drives pgbackrest through src/backup/pgbackrest/
// (repoOptions, writePgBackRestConf, runPgBackRest); backup-s3-engine.test.ts drives the chat commands.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { filesUnder, startS3Server, type S3Server } from '../helpers/s3-server.js';
import { restoreIntoScratch, setUpStanza, type TestStanza } from '../helpers/pgbackrest-stanza.js';
import { LocalRuntime } from '../../src/runtime/local.js';
import { isUserError } from '../../src/errors.js';

const MARKER = `s3-plaintext-marker-${randomBytes(6).toString('hex')}`;
const ROWS = 300;
const CIPHER_PASS = randomBytes(24).toString('base64');

let s3: S3Server;
let c: TestCluster;
let stanza: TestStanza;

/** Every file under `dir` whose bytes contain `text`. */
const filesContaining = (dir: string, text: string) => filesUnder(dir).filter((f) => readFileSync(f).includes(text));

describe('backups to an encrypted S3 repository (pgBackRest repo2 on a real S3 server)', () => {
  beforeAll(async () => {
    s3 = await startS3Server();
    c = await startTestCluster({ nodeCount: 1, nodes: ([p]) => `primary:${p}`, env: { ...s3.env, BACKUP_CIPHER_PASS: CIPHER_PASS } });
    // No compression: what keeps the marker out of the bucket must be the encryption alone.
    stanza = await setUpStanza(c, { 'compress-type': 'none', 'process-max': '2' });
    await c.sql('primary', 'CREATE TABLE proyecto.s3_marker (id int PRIMARY KEY, note text NOT NULL)');
    await c.sql('primary', `INSERT INTO proyecto.s3_marker SELECT g, '${MARKER}' FROM generate_series(1, ${ROWS}) g`);
    await c.sql('primary', 'CHECKPOINT');
  }, 600_000);

  afterAll(async () => {
    await c?.destroy();
    await s3?.stop();
  }, 120_000);

  it('keeps the passphrase and the S3 keys in a configuration file only its owner can read', () => {
    expect(statSync(stanza.run.configFile).mode & 0o777).toBe(0o600);
    const text = readFileSync(stanza.run.configFile, 'utf8');
    expect(text).toContain(`repo2-cipher-pass=${CIPHER_PASS}`);
    expect(text).toContain('repo2-cipher-type=aes-256-cbc');
    expect(text).toContain('repo2-s3-uri-style=path');
  });

  it('creates the stanza on both repositories and takes an encrypted full backup into the bucket', async () => {
    await stanza.exec(['stanza-create']);
    await stanza.exec(['check']);
    await stanza.exec(['--repo=2', '--type=full', 'backup']);

    const info = JSON.parse((await stanza.exec(['--output=json', 'info'])).stdout) as Array<{
      repo: Array<{ key: number; cipher: string; status: { code: number; message: string } }>;
      backup: Array<{ type: string; database: { 'repo-key': number } }>;
    }>;
    const repos = info[0].repo.map((r) => ({ key: r.key, cipher: r.cipher, status: r.status.message }));
    expect(repos).toEqual([
      { key: 1, cipher: 'none', status: 'no valid backups' },
      { key: 2, cipher: 'aes-256-cbc', status: 'ok' },
    ]);
    expect(info[0].backup.map((b) => [b.type, b.database['repo-key']])).toEqual([['full', 2]]);
  }, 600_000);

  it('stores no plaintext in the bucket: the marker in the table is in the data directory, never in the stored objects', () => {
    const runtime = c.app.services.runtime as LocalRuntime;
    // The search finds plaintext where there is some: the table's heap file in the node's data directory.
    expect(filesContaining(`${runtime.paths(c.config.nodes[0]).data}/base`, MARKER).length).toBeGreaterThan(0);
    const stored = filesUnder(s3.objectsDir).filter((f) => f.endsWith('.data'));
    const bytes = stored.reduce((sum, f) => sum + statSync(f).size, 0);
    expect(bytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(filesContaining(s3.objectsDir, MARKER)).toEqual([]);
  });

  it('restores the backup from the bucket alone into a fresh scratch instance that starts and returns the rows', async () => {
    // pgBackRest writes a restore_command that reads repo2 too: the bucket is the only source.
    const scratch = await restoreIntoScratch(c, stanza, ['--repo=2'], 300);
    try {
      expect(readFileSync(`${scratch.data}/clusterbot.conf`, 'utf8')).toMatch(/^restore_command = .*--repo=2.* archive-get/m);
      const rows = await scratch.query<{ n: string; marked: string }>(`SELECT count(*) AS n, count(*) FILTER (WHERE note = '${MARKER}') AS marked FROM proyecto.s3_marker`);
      expect(rows[0]).toEqual({ n: String(ROWS), marked: String(ROWS) });
      const users = await scratch.query<{ n: string }>('SELECT count(*) AS n FROM proyecto.usuarios');
      expect(users[0].n).toBe('5');
    } finally {
      await scratch.destroy();
    }
  }, 600_000);

  it('never writes the passphrase or the S3 keys into a log, the audit trail or a chat reply', async () => {
    // The bot's own /cluster backup full over both repositories (and its secrets) is backup-s3-engine.test.ts:
    // here the bot's configuration would replace this file's stanza, and archive-push with it.
    const replies = [await c.run('/cluster status'), await c.run('/cluster backups')];
    const text = JSON.stringify(replies);
    const files = [`${c.home}/logs/clusterbot.log`, `${c.home}/audit.jsonl`, ...filesUnder(`${c.home}/pgbackrest/log`)].filter((f) => existsSync(f));
    expect(files.length).toBeGreaterThan(2);
    for (const secret of [CIPHER_PASS, s3.secretKey]) {
      expect(text).not.toContain(secret);
      expect(files.filter((f) => readFileSync(f, 'utf8').includes(secret))).toEqual([]);
    }
  }, 600_000);

  it('fails a backup to an unreachable S3 repository with one line naming repo2 and the next step', async () => {
    await s3.killProxy();
    // pgBackRest retries a refused connection for 4 × io-timeout (60 s by default) before it gives up.
    const error = await stanza.exec(['--repo=2', '--io-timeout=5', '--type=full', 'backup']).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isUserError(error)).toBe(true);
    if (!isUserError(error)) return;
    expect(error.line).not.toContain('\n');
    expect(error.line).toMatch(new RegExp(`^pgBackRest backup on repo2 \\(S3 bucket "${s3.bucket}" at localhost:${s3.port}\\) failed: .*${s3.port}`));
    expect(error.line).toContain(`— check that https://localhost:${s3.port} answers from this host`);
    expect(error.line).not.toContain(s3.secretKey);
  }, 600_000);
});
