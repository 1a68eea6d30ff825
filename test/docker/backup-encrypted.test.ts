// Repository encryption (BACKUP_ENCRYPT_LOCAL) with RUNTIME=docker: the nodes get the passphrase from a
// 0600 file in TLS_DIR (/tls), copied into their pgBackRest conf.d by the entrypoint, never through the
// container environment. Archived WAL and backups are encrypted; a backup from the replica verifies and
// restore-checks on the host; the passphrase is in no `docker inspect`, container log, card or bot log.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principal } from '../helpers/cluster.js';
import { NODE_NAMES, newDockerCluster, sh, twoStreamingReplicas, until, type DockerCluster } from '../helpers/docker.js';

const olga = principal('olga');
/** pgBackRest's encrypted files start with OpenSSL's salt header. */
const encrypted = (file: string) => readFileSync(file).subarray(0, 8).toString('latin1') === 'Salted__';

describe('an encrypted repository with RUNTIME=docker (compose stack, bot on the host)', () => {
  let c: DockerCluster;
  const pass = `cipher-${randomBytes(24).toString('hex')}`;
  const replies: string[] = [];

  beforeAll(async () => {
    c = await newDockerCluster('enc', { env: { BACKUP_ENCRYPT_LOCAL: 'true', BACKUP_CIPHER_PASS: pass } });
    await c.compose('up', '-d');
    await twoStreamingReplicas(c, 180_000);
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('the nodes archive WAL encrypted with the passphrase from their 0600 conf.d file', async () => {
    const [{ seg }] = await c.sql<{ seg: string }>('primary', 'SELECT pg_walfile_name(pg_switch_wal()) AS seg');
    const dir = join(c.config.walArchiveDir, 'archive', 'clusterbot', '15-1', seg.slice(0, 16));
    const file = await until(`${seg} in ${dir}`, async () => (existsSync(dir) ? readdirSync(dir).find((f) => f.startsWith(`${seg}-`)) : undefined), 60_000, 200);
    expect(encrypted(join(dir, file))).toBe(true);
    expect(statSync(join(c.config.tlsDir, 'pgbackrest-cipher.conf')).mode & 0o777).toBe(0o600);
    for (const node of NODE_NAMES) {
      const { stdout } = await sh('docker', ['exec', await c.container(node), 'stat', '-c', '%a %U', '/etc/pgbackrest/conf.d/cipher.conf']);
      expect(stdout.trim(), node).toBe('600 postgres');
    }
  });

  it('a full backup from the replica is encrypted, verified, and restore-checked on the host', async () => {
    const r = await c.run('/cluster backup full', olga);
    replies.push(JSON.stringify(r));
    expect(r.failed, r.text).toBeFalsy();
    const d = r.data as { backup: { id: string; node: string; verified: boolean } };
    expect(['standby', 'readonly']).toContain(d.backup.node);
    expect(d.backup.verified).toBe(true);
    expect(encrypted(join(c.config.walArchiveDir, 'backup', 'clusterbot', d.backup.id, 'backup.manifest'))).toBe(true);
    const rc = await c.run(`/cluster restore-check ${d.backup.id}`, olga);
    replies.push(JSON.stringify(rc));
    expect(rc.failed, rc.text).toBeFalsy();
    expect((rc.data as { usuarios: number }).usuarios).toBe(5);
  }, 300_000);

  it('the passphrase is in no container environment or log, no card, no bot log', async () => {
    for (const node of NODE_NAMES) {
      const id = await c.container(node);
      expect((await sh('docker', ['inspect', id])).stdout, `docker inspect ${node}`).not.toContain(pass);
      const logs = await sh('docker', ['logs', id]);
      expect(`${logs.stdout}${logs.stderr}`, `docker logs ${node}`).not.toContain(pass);
    }
    expect(replies.length).toBe(2);
    for (const r of replies) expect(r).not.toContain(pass);
    const botLog = join(c.home, 'logs', 'clusterbot.log');
    expect(existsSync(botLog)).toBe(true);
    expect(readFileSync(botLog, 'utf8')).not.toContain(pass);
    expect(readFileSync(join(c.config.backupDir, 'pgbackrest-log', 'clusterbot-backup.log'), 'utf8')).not.toContain(pass);
  });
});
