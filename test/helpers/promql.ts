// The Prometheus rules and the Grafana dashboard of observability/, read as data, and the metric
// names their PromQL expressions select, parsed with the Prometheus project's own PromQL grammar
// (@prometheus-io/lezer-promql) — so label names, functions, keywords and strings are never taken
// for metric names.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';
const REPO = resolve(import.meta.dirname, '../..');
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

export const OBSERVABILITY = join(REPO, 'observability');
export const RULES_DIR = join(OBSERVABILITY, 'rules');
export const RULE_TESTS_DIR = join(OBSERVABILITY, 'tests');
export const DASHBOARD = join(OBSERVABILITY, 'grafana', 'clusterbot.json');

export interface Rule {
  file: string;
  group: string;
  alert?: string;
  record?: string;
  expr: string;
}

export const files = (dir: string, suffix: string) => readdirSync(dir).filter((f) => f.endsWith(suffix)).sort().map((f) => join(dir, f));

export function loadRules(): Rule[] {
  const rules: Rule[] = [];
  for (const file of files(RULES_DIR, '.rules.yml')) {
    const doc = parseYaml(readFileSync(file, 'utf8')) as { groups: Array<{ name: string; rules: Array<Omit<Rule, 'file' | 'group'>> }> };
    for (const g of doc.groups) for (const r of g.rules) rules.push({ file, group: g.name, ...r });
  }
  return rules;
}

export interface DashboardQuery {
  where: string;
  expr: string;
}

interface Panel {
  id: number;
  title: string;
  type: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: string | { query: string } }> };
}

export const loadDashboard = (): Dashboard => JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;

/** Every PromQL expression of the dashboard: panel targets and `label_values(metric, label)` variables. */
export function dashboardQueries(d: Dashboard = loadDashboard()): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `panel "${p.title}"`, expr: grafanaToPromql(t.expr) });
      walk(p.panels ?? []);
    }
  };
  walk(d.panels);
  for (const v of d.templating.list) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    if (v.type !== 'query' || !q) continue;
    const m = /^label_values\((.+),\s*\w+\)$/.exec(q.trim());
    if (!m) throw new Error(`variable $${v.name}: only label_values(<expr>, <label>) is understood, got ${q}`);
    out.push({ where: `variable $${v.name}`, expr: m[1] });
  }
  return out;
}

/** Grafana's interval macros as a plain duration; `$node`-style variables only appear inside strings. */
export const grafanaToPromql = (expr: string) => expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m');

/** Metric names an expression selects; throws on a syntax error or a selector whose name cannot be known. */
export function metricNames(expr: string): string[] {
  const tree = parser.parse(expr);
  const names = new Set<string>();
  const text = (n: SyntaxNode) => expr.slice(n.from, n.to);
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) throw new Error(`PromQL syntax error at ${ref.from} in: ${expr}`);
      if (ref.name !== 'VectorSelector') return;
      const id = ref.node.getChild('Identifier');
      if (id) {
        names.add(text(id));
        return;
      }
      for (const m of selectorMatchers(ref.node, text)) {
        if (m.label !== '__name__') continue;
        if (m.op !== '=') throw new Error(`a __name__${m.op} matcher cannot be checked against real metrics: ${expr}`);
        names.add(m.value);
      }
    },
  });
  return [...names];
}

export interface Matcher {
  label: string;
  op: string;
  value: string;
}

/** `metric{label op "value", …}`: each selector with its label matchers. */
export function selectors(expr: string): Array<{ name: string | null; matchers: Matcher[] }> {
  const tree = parser.parse(expr);
  const text = (n: SyntaxNode) => expr.slice(n.from, n.to);
  const out: Array<{ name: string | null; matchers: Matcher[] }> = [];
  tree.iterate({
    enter(ref) {
      if (ref.name !== 'VectorSelector') return;
      const id = ref.node.getChild('Identifier');
      out.push({ name: id ? text(id) : null, matchers: selectorMatchers(ref.node, text) });
    },
  });
  return out;
}

function selectorMatchers(sel: SyntaxNode, text: (n: SyntaxNode) => string): Matcher[] {
  const list = sel.getChild('LabelMatchers');
  if (!list) return [];
  const out: Matcher[] = [];
  for (let m = list.firstChild; m; m = m.nextSibling) {
    const label = m.getChild('LabelName');
    const op = m.getChild('MatchOp');
    const value = m.getChild('StringLiteral');
    if (label && op && value) out.push({ label: text(label), op: text(op), value: JSON.parse(text(value).replace(/^'|'$/g, '"')) as string });
  }
  return out;
}

/** Metric families a /metrics text declares (`# TYPE`), with their sample series names, and the labels each sample carries. */
export function exposition(text: string): { names: Set<string>; labels: Map<string, Set<string>> } {
  const names = new Set<string>();
  const labels = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/.exec(line);
    if (type) {
      const [, name, kind] = type;
      names.add(name);
      if (kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
      if (kind === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (!sample) continue;
    const set = labels.get(sample[1]) ?? new Set<string>();
    for (const l of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) set.add(l[1]);
    labels.set(sample[1], set);
  }
  return { names, labels };
}

const run = promisify(execFile);

const PACKAGE = { promtool: 'prometheus', amtool: 'prometheus-alertmanager' } as const;

/** promtool or amtool: exit code and output, or a failure that says how to install it (the suites never skip). */
export async function promtool(args: string[], cwd = REPO, tool: keyof typeof PACKAGE = 'promtool'): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(tool, args, { cwd, timeout: 120_000 });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { code?: number | string; stdout?: string; stderr?: string };
    if (err.code === 'ENOENT') throw new Error(`${tool} is not installed: run \`sudo bash scripts/observability-prereqs.sh\` (Debian package ${PACKAGE[tool]})`);
    return { code: typeof err.code === 'number' ? err.code : 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}
