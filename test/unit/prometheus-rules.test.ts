// observability/: the Prometheus rules pass `promtool check rules`, every alert is unit-tested by
// `promtool test rules` (observability/tests/), and the Grafana dashboard is importable JSON whose
// every query is valid PromQL for Prometheus itself and uses only recording rules that exist.
// (That each metric name exists on a real bot and a real postgres_exporter is
// test/integration/prometheus-metrics.test.ts.)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { dashboardQueries, files, loadDashboard, loadRules, metricNames, OBSERVABILITY, promtool, RULE_TESTS_DIR, RULES_DIR } from '../helpers/promql.js';

interface RuleTestFile {
  rule_files: string[];
  tests: Array<{ name?: string; alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
}

describe('Prometheus rules (observability/rules)', () => {
  it('pass promtool check rules', async () => {
    const r = await promtool(['check', 'rules', ...files(RULES_DIR, '.rules.yml')]);
    expect(r.out).not.toMatch(/FAILED/);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/clusterbot\.rules\.yml\s+SUCCESS: \d+ rules found/);
    expect(r.out).toMatch(/postgres\.rules\.yml\s+SUCCESS: \d+ rules found/);
  });

  it('pass their unit tests (promtool test rules with synthetic series)', async () => {
    const r = await promtool(['test', 'rules', ...files(RULE_TESTS_DIR, '.test.yml')], RULE_TESTS_DIR);
    expect(r.code, r.out).toBe(0);
    expect(r.out.match(/SUCCESS/g)?.length).toBe(files(RULE_TESTS_DIR, '.test.yml').length);
  });

  it('have a unit test for every alert: silent before it fires, and firing with exact labels and texts', () => {
    const fired = new Set<string>();
    const silent = new Set<string>();
    const tested = new Set<string>();
    for (const file of files(RULE_TESTS_DIR, '.test.yml')) {
      const doc = parseYaml(readFileSync(file, 'utf8')) as RuleTestFile;
      for (const f of doc.rule_files) tested.add(join(RULE_TESTS_DIR, f));
      for (const t of doc.tests) {
        for (const a of t.alert_rule_test ?? []) (a.exp_alerts?.length ? fired : silent).add(a.alertname);
      }
    }
    const rules = loadRules();
    expect([...new Set(rules.map((r) => r.file))].filter((f) => !tested.has(f))).toEqual([]);
    const alerts = [...new Set(rules.flatMap((r) => (r.alert ? [r.alert] : [])))];
    expect(alerts.length).toBeGreaterThanOrEqual(20);
    expect(alerts.filter((a) => !fired.has(a)), 'alerts never seen firing in a unit test').toEqual([]);
    expect(alerts.filter((a) => !silent.has(a)), 'alerts never checked silent in a unit test').toEqual([]);
  });

  it('name no certificate metric: none exists yet (TLS is its own part)', () => {
    for (const r of loadRules()) expect(metricNames(r.expr).filter((n) => /cert|tls|ssl/i.test(n))).toEqual([]);
  });
});

describe('the compose profile\'s configuration (observability/)', () => {
  it('prometheus.yml, as prometheus-start.sh renders it, passes promtool check config and finds both rules files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clusterbot-prometheus-'));
    try {
      const file = join(dir, 'prometheus.yml');
      const text = readFileSync(join(OBSERVABILITY, 'prometheus.yml'), 'utf8');
      expect(text).toContain('bot:@BOT_PORT@');
      // In the container observability/ is mounted at /etc/clusterbot/observability.
      writeFileSync(file, text.replace('@BOT_PORT@', '8080').replaceAll('/etc/clusterbot/observability/', `${OBSERVABILITY}/`));
      const r = await promtool(['check', 'config', file]);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain('SUCCESS: 2 rule files found');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('alertmanager.yml passes amtool check-config, with its inhibit rules', async () => {
    const r = await promtool(['check-config', join(OBSERVABILITY, 'alertmanager.yml')], undefined, 'amtool');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/SUCCESS[\s\S]*3 inhibit rules/);
  });
});

describe('Grafana dashboard (observability/grafana/clusterbot.json)', () => {
  it('is importable: a dashboard with a uid, unique panel ids on a 24-column grid, and a Prometheus datasource variable', () => {
    const d = loadDashboard();
    expect(d.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(d.title).toBeTruthy();
    const raw = JSON.parse(readFileSync(join(RULES_DIR, '..', 'grafana', 'clusterbot.json'), 'utf8')) as { id?: unknown; schemaVersion: number };
    // An exported dashboard carries no database id (import would then overwrite another dashboard).
    expect(raw.id ?? null).toBeNull();
    expect(raw.schemaVersion).toBeGreaterThanOrEqual(30);
    const ds = d.templating.list.find((v) => v.type === 'datasource');
    expect(ds).toMatchObject({ name: 'datasource', query: 'prometheus' });
    const ids = new Set<number>();
    for (const p of d.panels as Array<{ id: number; type: string; title: string; datasource?: { uid: string }; gridPos: { x: number; y: number; w: number; h: number }; targets?: unknown[] }>) {
      expect(ids.has(p.id), `panel id ${p.id} twice`).toBe(false);
      ids.add(p.id);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
    expect(ids.size).toBeGreaterThanOrEqual(20);
  });

  it('has only queries Prometheus itself parses (promtool check rules on each one as a recording rule)', async () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThanOrEqual(30);
    const dir = mkdtempSync(join(tmpdir(), 'clusterbot-dashboard-'));
    try {
      const file = join(dir, 'dashboard.rules.yml');
      const rules = queries.map((q, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(q.expr)}`);
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
      const r = await promtool(['check', 'rules', file]);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain(`SUCCESS: ${queries.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses only recording rules that the rules files define', () => {
    const recorded = new Set(loadRules().flatMap((r) => (r.record ? [r.record] : [])));
    const used = dashboardQueries().flatMap((q) => metricNames(q.expr).filter((n) => n.includes(':')).map((n) => `${n} (${q.where})`));
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((u) => !recorded.has(u.split(' ')[0]))).toEqual([]);
  });
});
