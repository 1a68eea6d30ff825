import { describe, expect, it } from 'vitest';
import { SecretMasker } from '../../src/core/secrets.js';

describe('secret masking', () => {
  const m = new SecretMasker(['s3cr3t-admin-pass', 'repl1cat0r-pass']);

  it('masks configured secret values anywhere in a string', () => {
    expect(m.mask('FATAL: password s3cr3t-admin-pass rejected')).not.toContain('s3cr3t-admin-pass');
  });

  it('masks password=, URLs, PGPASSWORD and Slack/Discord token shapes', () => {
    const out = m.mask("primary_conninfo = 'password=hunter22 host=x' postgresql://admin:pw123@h/db PGPASSWORD=zz xoxb-123-abc xapp-1-A1 SCRAM-SHA-256$4096:abc");
    for (const secret of ['hunter22', 'pw123', 'zz ', '123-abc', '1-A1', '4096:abc']) expect(out).not.toContain(secret);
    expect(out).toContain('postgresql://admin:****@h/db');
  });

  it('masks deeply inside objects without touching other values', () => {
    const out = m.maskDeep({ a: ['repl1cat0r-pass'], b: { c: 'ok', n: 3 } });
    expect(out).toEqual({ a: ['****'], b: { c: 'ok', n: 3 } });
  });
});
