// Every metric the Prometheus rules and the Grafana dashboard of observability/ name exists: scraped
// from the real /metrics of a running bot (monitor on a real 3-node cluster) and from a real
// postgres_exporter (Debian's) on the primary and on a replica. Names come from the PromQL parse
// tree, so label names, functions and strings are never taken for metrics; recording rules count
// as defined when a rules file records them (their own expressions are checked like any other).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { dashboardQueries, exposition, loadRules, metricNames, selectors } from '../helpers/promql.js';
import { eventually } from '../helpers/wait.js';
import { HttpServer } from '../../src/http/server.js';
import { startMonitoring } from '../../src/monitor/index.js';

const EXPORTER = '/usr/bin/prometheus-postgres-exporter';
/** Series Prometheus makes itself: the scrape's `up` and the rule engine's `ALERTS`. */
const PROMETHEUS_SERIES = new Set(['up', 'ALERTS']);
/** Labels Prometheus adds at scrape time: job and instance; `node` is a target label of the exporters. */
const TARGET_LABELS = { bot: new Set(['job', 'instance']), exporter: new Set(['job', 'instance', 'node']) };

type Scrape = ReturnType<typeof exposition>;

interface Use {
  where: string;
  expr: string;
}

function allUses(): Use[] {
  const rules = loadRules().map((r) => ({ where: `${r.alert ? `alert ${r.alert}` : `record ${r.record}`} (${r.file.split('/').pop()})`, expr: r.expr }));
  return [...rules, ...dashboardQueries().map((q) => ({ where: `dashboard ${q.where}`, expr: q.expr }))];
}

/** "name (where)" for each metric a use names that neither the scrapes, Prometheus nor a recording rule define. */
function missingMetrics(uses: Use[], bot: Scrape, exporter: Scrape): string[] {
  const recorded = new Set(loadRules().flatMap((r) => (r.record ? [r.record] : [])));
  return uses.flatMap((u) =>
    metricNames(u.expr)
      .filter((n) => !recorded.has(n) && !PROMETHEUS_SERIES.has(n) && !bot.names.has(n) && !exporter.names.has(n))
      .map((n) => `${n} (${u.where})`),
  );
}

/** "metric{label} (where)" for each label matcher naming a label that the metric's real samples lack. */
function missingLabels(uses: Use[], bot: Scrape, exporter: Scrape): string[] {
  const out: string[] = [];
  for (const u of uses) {
    for (const s of selectors(u.expr)) {
      if (!s.name) continue;
      const [scrape, target] = bot.labels.has(s.name) ? [bot, TARGET_LABELS.bot] : [exporter, TARGET_LABELS.exporter];
      const real = scrape.labels.get(s.name);
      if (!real) continue;
      for (const m of s.matchers) if (!real.has(m.label) && !target.has(m.label)) out.push(`${s.name}{${m.label}} (${u.where})`);
    }
  }
  return out;
}

describe('metric names in observability/ rules and dashboard exist on a real bot and a real postgres_exporter', () => {
  let c: TestCluster;
  let http: HttpServer;
  let botUrl = '';
  const exporters: ChildProcess[] = [];
  const exporterUrls: Record<string, string> = {};

  const scrape = async (url: string) => {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
    return res.text();
  };

  beforeAll(async () => {
    if (!existsSync(EXPORTER)) throw new Error(`${EXPORTER} is missing: run \`sudo bash scripts/observability-prereqs.sh\` (Debian package prometheus-postgres-exporter)`);
    c = await startTestCluster({ env: { MONITOR_INTERVAL_SECONDS: '0.5' } });
    http = new HttpServer(c.app.services.log);
    await startMonitoring(c.app, { http });
    botUrl = `http://127.0.0.1:${await http.listen(c.config.HTTP_PORT, '127.0.0.1')}/metrics`;
    for (const name of ['primary', 'standby']) {
      const node = c.app.services.node(name);
      const port = await freePort();
      const child = spawn(EXPORTER, [`--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
        env: {
          PATH: process.env.PATH ?? '',
          DATA_SOURCE_URI: `${node.host}:${node.port}/${c.config.PG_DATABASE}?sslmode=verify-full&sslrootcert=${c.config.tlsDir}/ca.crt`,
          DATA_SOURCE_USER: c.config.POSTGRES_ADMIN_USER,
          DATA_SOURCE_PASS: c.config.POSTGRES_ADMIN_PASSWORD,
        },
        stdio: 'ignore',
      });
      exporters.push(child);
      exporterUrls[name] = `http://127.0.0.1:${port}/metrics`;
    }
  });

  afterAll(async () => {
    for (const e of exporters) if (e.exitCode === null) e.kill('SIGKILL');
    await http?.close();
    await c?.destroy();
  });

  it('finds every metric and every label matcher of the rules and the dashboard in the real scrapes', async () => {
    // The monitor has read both replicas streaming; the primary's exporter sees them in pg_stat_replication.
    const botText = await eventually('both replicas streaming in the bot\'s /metrics', () => scrape(botUrl), (t) => (t.match(/^clusterbot_replica_streaming\{node="\w+"\} 1$/gm) ?? []).length === 2, { timeoutMs: 60_000 });
    const primaryText = await eventually('pg_up 1 and two streaming replicas from the primary\'s exporter', () => scrape(exporterUrls.primary), (t) => /^pg_up 1$/m.test(t) && (t.match(/^pg_stat_replication_reply_time\{.*state="streaming"/gm) ?? []).length === 2, { timeoutMs: 60_000 });
    const standbyText = await eventually('pg_up 1 from the standby\'s exporter', () => scrape(exporterUrls.standby), (t) => /^pg_up 1$/m.test(t), { timeoutMs: 60_000 });
    expect(standbyText).toMatch(/^pg_settings_in_hot_standby\{.*\} 1$/m);
    expect(primaryText).toMatch(/^pg_settings_in_hot_standby\{.*\} 0$/m);

    const bot = exposition(botText);
    const exporter = exposition(`${primaryText}\n${standbyText}`);
    const uses = allUses();
    expect(uses.length).toBeGreaterThan(60);
    // The check itself can fail: a misspelt metric and a label the metric does not have are caught.
    expect(missingMetrics([{ where: 'probe', expr: 'clusterbot_node_upp == 0 and pg_upp' }], bot, exporter)).toEqual(['clusterbot_node_upp (probe)', 'pg_upp (probe)']);
    expect(missingLabels([{ where: 'probe', expr: 'clusterbot_writable_nodes{node="x"} + pg_up{datname="y"}' }], bot, exporter)).toEqual(['clusterbot_writable_nodes{node} (probe)', 'pg_up{datname} (probe)']);

    expect(missingMetrics(uses, bot, exporter), 'metrics named in observability/ that no real scrape has').toEqual([]);
    expect(missingLabels(uses, bot, exporter), 'label matchers naming labels the real metrics lack').toEqual([]);
    // Both sources are really used: the bot's metrics and the exporter's.
    const named = new Set(uses.flatMap((u) => metricNames(u.expr)));
    expect([...named].filter((n) => bot.names.has(n)).length).toBeGreaterThanOrEqual(15);
    expect([...named].filter((n) => exporter.names.has(n)).length).toBeGreaterThanOrEqual(10);
  });
});
