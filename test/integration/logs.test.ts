import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principal, startTestCluster, type TestCluster } from '../helpers/cluster.js';

describe('/cluster logs on the local runtime', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startTestCluster({ nodeCount: 1, nodes: (p) => `primary:${p[0]}` });
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('returns the tail of the node log with secrets masked', async () => {
    const secret = c.config.POSTGRES_ADMIN_PASSWORD;
    // The leading x: a password that starts with ten digits would overflow ("out of range") instead.
    await c.sql('primary', `SELECT 'x${secret}'::int`).catch(() => undefined);
    const raw = await c.app.services.runtime.logs(c.app.services.node('primary'), 20);
    expect(raw).toContain(secret);
    const reply = await c.run('/cluster logs primary 20', principal('olga'));
    expect(reply.failed).toBeFalsy();
    const data = reply.data as { node: string; lines: number; log: string[] };
    expect(data.lines).toBeGreaterThan(0);
    expect(data.lines).toBeLessThanOrEqual(20);
    expect(data.log.join('\n')).toMatch(/invalid input syntax for type integer: "x\*\*\*\*"/);
    expect(reply.text).toMatch(/^```\n[\s\S]*\n```$/);
    expect(JSON.stringify(reply)).not.toContain(secret);
  });

  it('refuses a viewer and bad line counts with one line', async () => {
    const viewer = await c.run('/cluster logs primary', principal('victor'));
    expect(viewer.failed).toBe(true);
    expect(viewer.text).toMatch(/needs operator/);
    for (const [text, pattern] of [
      ['/cluster logs primary 0', /must be at least 1/],
      ['/cluster logs primary lots', /must be a whole number/],
      ['/cluster logs nosuch', /unknown node "nosuch"/],
    ] as const) {
      const r = await c.run(text);
      expect(r.failed, text).toBe(true);
      expect(r.text, text).toMatch(pattern);
      expect(r.text!.split('\n'), text).toHaveLength(1);
    }
  });
});
