// The certificate expiry rule and the status line, on constructed snapshots (the real-engine side is
// test/integration/tls.test.ts: a certificate issued for 5 days raises the warning there).
import { describe, expect, it } from 'vitest';
import { certificateFindings } from '../../src/monitor/tls-rules.js';
import { certificatesLine } from '../../src/cluster/tls-status.js';
import { node, snap } from '../helpers/snapshot.js';

const DAY = 86_400_000;
const now = Date.parse('2026-12-03T10:00:00Z');
const cert = (days: number) => ({ serial: 'ABC123', notAfter: new Date(now + days * DAY).toISOString() });

describe('certificate expiry', () => {
  const s = snap([node('primary', { role: 'primary', certificate: cert(365) }), node('standby', { certificate: cert(10.5) }), node('readonly', { certificate: cert(-1) })]);

  it('warns within the window, is critical once expired, and says nothing of a certificate with a year left', () => {
    const f = certificateFindings(s, 14, now);
    expect(f.map((x) => `${x.rule}:${x.subject}=${x.severity}`)).toEqual(['cert_expiry:standby=warn', 'cert_expiry:readonly=crit']);
    expect(f[0].title).toBe('TLS certificate of standby expires in 10 days');
    expect(f[0].next).toMatch(/\/cluster tls rotate/);
    expect(f[1].title).toBe('TLS certificate of readonly has EXPIRED');
  });

  it('TLS_EXPIRY_WARN_DAYS=0 switches the rule off; a node not seen over TLS yet is skipped', () => {
    expect(certificateFindings(s, 0, now)).toEqual([]);
    expect(certificateFindings(snap([node('standby', { certificate: null })]), 14, now)).toEqual([]);
  });

  it('the status line names each node, its expiry date and the days left', () => {
    expect(certificatesLine(s, now)?.value).toBe('primary 2027-12-03 (365 d), standby 2026-12-13 (10 d), readonly 2026-12-02 (EXPIRED)');
    expect(certificatesLine(snap([node('standby')]), now)).toBeNull();
  });
});
