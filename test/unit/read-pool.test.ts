// Read endpoint decisions on constructed snapshots: who is in the pool and why not, what happens with no
// writable primary, the fallback; and the configuration written for them, checked by the real `haproxy -c`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ClusterSnapshot, NodeStatus } from '../../src/cluster/inspect.js';
import { haproxyConfig, parseShowProc, poolOfConfig } from '../../src/cluster/read-endpoint/haproxy.js';
import { outSummary, poolSummary, readPoolFor, samePool, type ReadLimits } from '../../src/cluster/read-endpoint/pool.js';
import { readPoolFindings } from '../../src/monitor/read-pool-rule.js';
import { runProgram } from '../../src/runtime/process.js';

function node(name: string, over: Partial<NodeStatus>): NodeStatus {
  return {
    name, host: '127.0.0.1', port: 1, failover: true, role: 'replica', up: true, running: true, error: null, timeline: 1,
    lsn: null, receiveLsn: null, replayLsn: null, lagBytes: 0, lagSeconds: 0, replayPaused: false, streaming: true, upstream: 'primary',
    syncState: null, fenced: false, archiver: null, replication: [], version: 150000, startedAt: null, ...over,
  };
}
const snap = (nodes: NodeStatus[]): ClusterSnapshot => {
  const writable = nodes.filter((n) => n.role === 'primary').map((n) => n.name);
  return { takenAt: '', durationMs: 0, nodes, primary: writable.length === 1 ? writable[0] : null, writable };
};
const primary = node('primary', { role: 'primary', streaming: false, upstream: null });
const limits: ReadLimits = { maxLagBytes: 16 * 1024 * 1024, maxLagSeconds: 30, fallbackToPrimary: true };

describe('the read pool', () => {
  it('takes the streaming replicas within both limits, the primary as fallback', () => {
    const p = readPoolFor(snap([primary, node('standby', {}), node('readonly', { lagBytes: 1024, lagSeconds: 2 })]), limits);
    expect(p).toEqual({ members: ['standby', 'readonly'], fallback: 'primary', out: [] });
    expect(poolSummary(p)).toBe('standby, readonly (fallback: primary)');
  });

  it('leaves out a replica past the byte limit, past the time limit, not streaming, down or fenced, and says why', () => {
    const p = readPoolFor(snap([
      primary,
      node('a', { lagBytes: 20 * 1024 * 1024 }),
      node('b', { lagSeconds: 31 }),
      node('c', { streaming: false }),
      node('d', { role: 'down', up: false, error: 'stopped' }),
      node('e', { fenced: true }),
      node('f', {}),
    ]), limits);
    expect(p.members).toEqual(['f']);
    expect(outSummary(p)).toBe('a out: lag 20 MB > 16 MB; b out: lag 31.0 s > 30 s; c out: not streaming; d out: down (stopped); e out: fenced');
  });

  it('a limit of 0 is no limit', () => {
    const p = readPoolFor(snap([primary, node('a', { lagBytes: 1e12, lagSeconds: 1e6 })]), { ...limits, maxLagBytes: 0, maxLagSeconds: 0 });
    expect(p.members).toEqual(['a']);
  });

  it('with no writable primary the members keep serving (nothing can stream) and nothing new joins; no fallback', () => {
    const nodes = [node('primary', { role: 'down', up: false, error: 'stopped' }), node('standby', { streaming: false }), node('readonly', { streaming: false })];
    const p = readPoolFor(snap(nodes), limits, ['standby']);
    expect(p.members).toEqual(['standby']);
    expect(p.fallback).toBeNull();
    expect(outSummary(p)).toBe('primary out: down (stopped); readonly out: not streaming (no writable primary)');
  });

  it('with no qualifying replica the fallback decides: reads go to the primary, or are refused', () => {
    const nodes = [primary, node('standby', { streaming: false })];
    expect(poolSummary(readPoolFor(snap(nodes), limits))).toBe('NO replica qualifies — reads go to primary');
    expect(poolSummary(readPoolFor(snap(nodes), { ...limits, fallbackToPrimary: false }))).toBe('NO replica qualifies — reads are refused');
  });

  it('with no qualifying replica and the fallback off, the monitor alerts with each reason and its next step', () => {
    const settings = { READ_ENDPOINT_HOST: '127.0.0.1', READ_ENDPOINT_PORT: 6433, READ_MAX_LAG_BYTES: 16 * 1024 * 1024, READ_MAX_LAG_SECONDS: 30, READ_FALLBACK_TO_PRIMARY: false };
    const strict = { ...limits, fallbackToPrimary: false };
    const nodes = [primary, node('a', { lagBytes: 20 * 1024 * 1024 }), node('b', { role: 'down', up: false, error: 'stopped' }), node('c', { fenced: true }), node('d', { streaming: false })];
    const [f, ...more] = readPoolFindings(readPoolFor(snap(nodes), strict), settings);
    expect(more).toEqual([]);
    expect(f).toMatchObject({ rule: 'read_pool_empty', subject: 'cluster', severity: 'crit', title: 'No replica qualifies for the read endpoint' });
    expect(f.value).toBe('a out: lag 20 MB > 16 MB; b out: down (stopped); c out: fenced; d out: not streaming');
    expect(f.threshold).toBe('at least 1 replica streaming with lag ≤ 16 MB and lag ≤ 30 s');
    expect(f.next).toBe('let a catch up (/cluster lag), /cluster start b, /cluster rejoin c, /cluster follow d (see /cluster logs d); to send reads to the primary meanwhile, set READ_FALLBACK_TO_PRIMARY=true and restart clusterbot');
    // One replica qualifies, or the fallback is on, or no endpoint: nothing to say.
    expect(readPoolFindings(readPoolFor(snap([...nodes, node('e', {})]), strict), settings)).toEqual([]);
    expect(readPoolFindings(readPoolFor(snap(nodes), limits), { ...settings, READ_FALLBACK_TO_PRIMARY: true })).toEqual([]);
    expect(readPoolFindings(null, settings)).toEqual([]);
  });

  it('two pools are the same for HAProxy when servers and fallback match, whatever the reasons', () => {
    const a = { members: ['x'], fallback: 'p', out: [{ node: 'y', reason: 'lag 1' }] };
    expect(samePool(a, { ...a, out: [{ node: 'y', reason: 'lag 2' }] })).toBe(true);
    expect(samePool(a, { ...a, fallback: null })).toBe(false);
    expect(samePool(a, null)).toBe(false);
  });
});

describe('the HAProxy configuration', () => {
  const servers = { primary: 5432, standby: 5433, readonly: 5434 } as Record<string, number>;
  const shape = (pool: Parameters<typeof haproxyConfig>[0]['pool'], dockerDns = false) => ({
    bind: '127.0.0.1:6433',
    pool,
    server: (name: string) => (dockerDns ? { name, host: `postgresql-${name}`, port: 5432 } : { name, host: '127.0.0.1', port: servers[name] }),
    dockerDns,
  });

  it('names the members as servers and the fallback as a backup server, and carries its pool for status', () => {
    const pool = { members: ['standby', 'readonly'], fallback: 'primary', out: [] };
    const text = haproxyConfig(shape(pool));
    expect(text).toMatch(/^ {2}server standby 127\.0\.0\.1:5433 check$/m);
    expect(text).toMatch(/^ {2}server readonly 127\.0\.0\.1:5434 check$/m);
    expect(text).toMatch(/^ {2}server primary 127\.0\.0\.1:5432 check backup$/m);
    expect(poolOfConfig(text)).toEqual(pool);
    expect(poolOfConfig('global\n')).toBeNull();
  });

  it.each([
    ['local, two replicas and a fallback', { members: ['standby', 'readonly'], fallback: 'primary', out: [] }, false],
    ['local, no server at all (reads refused)', { members: [], fallback: null, out: [] }, false],
    ['Docker, service names through the engine DNS', { members: ['standby'], fallback: 'primary', out: [] }, true],
  ])('haproxy -c accepts it: %s', async (_what, pool, dockerDns) => {
    const dir = mkdtempSync(join(tmpdir(), 'clusterbot-haproxy-'));
    try {
      // haproxy -c resolves user/group: the Debian package creates the haproxy account the Docker image uses.
      writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(shape(pool, dockerDns)));
      const r = await runProgram('haproxy', ['-c', '-f', join(dir, 'haproxy.cfg')], { timeoutMs: 10_000 });
      expect(r.code, r.stderr || r.stdout).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads the master CLI's show proc: reloads, failed reloads, current workers", () => {
    const text = [
      '#<PID>          <type>          <reloads>       <uptime>        <version>',
      '2844            master          3 [failed: 1]   0d00h10m10s     2.6.12',
      '# workers',
      '5917            worker          0               0d00h00m01s     2.6.12',
      '# old workers',
      '5000            worker          1               0d00h01m01s     2.6.12',
      '# programs',
      '',
    ].join('\n');
    expect(parseShowProc(text)).toEqual({ reloads: 3, failed: 1, workers: [5917] });
    expect(parseShowProc('Unknown command')).toBeNull();
  });
});
