// Every PromQL query the project ships: the Grafana dashboards' panel and variable
// queries, and the alert rules' expressions, with the metric names each one uses.
// The dashboard and alert tests parse them with promtool; the end-to-end test asks
// a real Prometheus for each one and checks every metric name exists in a scrape.
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'yaml';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DASHBOARDS_DIR = join(REPO_ROOT, 'dashboards');
export const ALERTS_DIR = join(REPO_ROOT, 'alerts');
export const RULES_FILE = join(ALERTS_DIR, 'egress-rules.yml');
/** The generator's input: thresholds, durations, selectors. */
export const ALERTS_CONFIG = join(ALERTS_DIR, 'generator', 'config.yml');
export const ALERT_TESTS_DIR = join(ALERTS_DIR, 'tests');

/** Metrics that Prometheus makes itself, never found in a scrape of the exporter. */
export const SERVER_SIDE_METRICS: ReadonlySet<string> = new Set([
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
  'ALERTS',
  'ALERTS_FOR_STATE',
]);

// --- Grafana ---------------------------------------------------------------------------

export interface GrafanaTarget {
  refId?: string;
  expr?: string;
  datasource?: unknown;
  [key: string]: unknown;
}

export interface GrafanaPanel {
  id?: number;
  type: string;
  title?: string;
  datasource?: unknown;
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
  [key: string]: unknown;
}

export interface GrafanaVariable {
  type: string;
  name: string;
  query?: unknown;
  datasource?: unknown;
  [key: string]: unknown;
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: GrafanaPanel[];
  templating: { list: GrafanaVariable[] };
  [key: string]: unknown;
}

export interface LoadedDashboard {
  file: string;
  dashboard: GrafanaDashboard;
}

export function dashboardFiles(): string[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => join(DASHBOARDS_DIR, name));
}

export function loadDashboards(): LoadedDashboard[] {
  return dashboardFiles().map((file) => ({ file, dashboard: JSON.parse(readFileSync(file, 'utf8')) as GrafanaDashboard }));
}

/** Every panel, rows' nested panels included. */
export function allPanels(dashboard: GrafanaDashboard): GrafanaPanel[] {
  const out: GrafanaPanel[] = [];
  const visit = (panels: readonly GrafanaPanel[]) => {
    for (const panel of panels) {
      out.push(panel);
      if (panel.panels) visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  return out;
}

/** Grafana's interval variables, and what they become outside Grafana. */
const INTERVAL_VARIABLES: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '1m',
  __range: '1h',
  __interval_ms: '60000',
  __range_s: '3600',
  __range_ms: '3600000',
};

/**
 * Replaces Grafana variables with values Prometheus accepts: interval variables with
 * durations, every other variable (`$host`, `${path}`, `${path:regex}`, `[[job]]`) with
 * `values[name]`, or `.*` (every dashboard uses them in `=~` matchers).
 */
export function expandGrafanaVariables(expr: string, values: Readonly<Record<string, string>> = {}): string {
  const value = (name: string): string => INTERVAL_VARIABLES[name] ?? values[name] ?? '.*';
  return expr
    .replace(/\$\{(\w+)(?::[\w-]+)?\}/g, (_m, name: string) => value(name))
    .replace(/\[\[(\w+)(?::[\w-]+)?\]\]/g, (_m, name: string) => value(name))
    .replace(/\$(\w+)/g, (_m, name: string) => value(name));
}

export interface DashboardQuery {
  /** The dashboard's uid. */
  dashboard: string;
  /** `panel`: a panel target's expr; `variable`: the series selector of a `label_values()` variable, or the expression of a `query_result()` one. */
  kind: 'panel' | 'variable';
  /** The panel's title, or the variable's name. */
  title: string;
  refId: string;
  /** As written in the dashboard, Grafana variables and all. */
  raw: string;
  /** With Grafana variables expanded (see expandGrafanaVariables): plain PromQL. */
  expr: string;
}

/** `label_values(selector, label)` -> selector; `query_result(expr)` -> expr; `label_values(label)` -> undefined. */
function variableExpression(query: string): string | undefined {
  const m = /^\s*label_values\(\s*(.+),\s*[a-zA-Z_]\w*\s*\)\s*$/s.exec(query) ?? /^\s*query_result\(\s*(.+)\)\s*$/s.exec(query);
  return m?.[1];
}

function variableQueryText(variable: GrafanaVariable): string | undefined {
  const q = variable.query;
  if (typeof q === 'string') return q;
  if (q !== null && typeof q === 'object' && 'query' in q && typeof q.query === 'string') return q.query;
  return undefined;
}

/** Every PromQL query of every dashboard: panel targets, and query variables' selectors. */
export function dashboardQueries(values: Readonly<Record<string, string>> = {}): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  for (const { dashboard } of loadDashboards()) {
    for (const variable of dashboard.templating.list) {
      if (variable.type !== 'query') continue;
      const text = variableQueryText(variable);
      const selector = text === undefined ? undefined : variableExpression(text);
      if (text === undefined || selector === undefined) {
        throw new Error(`${dashboard.uid}: variable ${variable.name}: expected label_values(selector, label) or query_result(expr), got ${JSON.stringify(variable.query)}`);
      }
      queries.push({ dashboard: dashboard.uid, kind: 'variable', title: variable.name, refId: variable.name, raw: text, expr: expandGrafanaVariables(selector, values) });
    }
    for (const panel of allPanels(dashboard)) {
      for (const target of panel.targets ?? []) {
        if (typeof target.expr !== 'string' || target.expr.trim() === '') continue;
        queries.push({
          dashboard: dashboard.uid,
          kind: 'panel',
          title: panel.title ?? `panel ${panel.id ?? '?'}`,
          refId: target.refId ?? 'A',
          raw: target.expr,
          expr: expandGrafanaVariables(target.expr, values),
        });
      }
    }
  }
  return queries;
}

/**
 * The dashboards' panels about the exporter itself, per replica by nature (`dashboard /
 * panel title`): every other panel merges the replicas of one vantage point, so an HA
 * pair reads as one replica (test/dashboards-replicas.test.ts).
 */
export const PER_REPLICA_PANELS: readonly string[] = [
  'egress-overview / Event-loop stalls',
  'egress-overview / Last config reload',
  'egress-overview / Last reload',
  'egress-overview / Oldest check result',
  'egress-overview / Exporter build',
];

/**
 * PromQL that returns nothing exactly when `a` and `b` return the same series with the
 * same values: the series whose values differ, and those only one side has. Both sides
 * must be free of duplicate label sets (a comparison of vectors fails on them).
 */
export function differences(a: string, b: string): string {
  return `((${a}) != (${b}))\nor ((${a}) unless (${b}))\nor ((${b}) unless (${a}))`;
}

// --- alert rules ---------------------------------------------------------------------

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface RuleFile {
  groups: Array<{ name: string; rules: Array<AlertRule | { record: string; expr: string }> }>;
}

/** Every alerting rule of a rules file (alerts/egress-rules.yml by default). */
export function alertRules(file: string = RULES_FILE): AlertRule[] {
  const doc = parse(readFileSync(file, 'utf8')) as RuleFile;
  return doc.groups.flatMap((group) => group.rules.filter((rule): rule is AlertRule => 'alert' in rule));
}

export interface AlertExpression {
  alert: string;
  severity: string;
  expr: string;
}

/** Every alert expression, one per rule (an alert with two severities appears twice). */
export function alertExpressions(file: string = RULES_FILE): AlertExpression[] {
  return alertRules(file).map((rule) => ({ alert: rule.alert, severity: rule.labels?.severity ?? '', expr: rule.expr }));
}

// --- metric names ----------------------------------------------------------------------

const KEYWORDS = new Set([
  'and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'atan2', 'inf', 'nan',
]);

/**
 * The metric names a PromQL expression selects, in order of first use. Grafana
 * variables are expanded first. Strings, label matchers, ranges, grouping label lists,
 * function and aggregation names, keywords and numbers are not metric names.
 */
export function metricNamesIn(expr: string): string[] {
  let text = expandGrafanaVariables(expr);
  text = text.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  text = text.replace(/\{[^}]*\}/g, ' ');
  text = text.replace(/\[[^\]]*\]/g, ' ');
  text = text.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const m of text.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = m[0];
    const start = m.index;
    const before = start > 0 ? text[start - 1] : '';
    if (before !== undefined && /[0-9.]/.test(before)) continue; // 1e3, 5m, 0x1f
    const after = text.slice(start + name.length).trimStart();
    if (after.startsWith('(')) continue; // a function or an aggregation
    if (KEYWORDS.has(name.toLowerCase())) continue;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/**
 * Every metric name the dashboards and alerts use that the exporter must expose
 * (names Prometheus makes itself, such as `up`, are left out), sorted.
 */
export function exporterMetricNames(): string[] {
  const names = new Set<string>();
  for (const q of dashboardQueries()) for (const name of metricNamesIn(q.expr)) names.add(name);
  for (const a of alertExpressions()) for (const name of metricNamesIn(a.expr)) names.add(name);
  for (const name of SERVER_SIDE_METRICS) names.delete(name);
  return [...names].sort();
}

/** A histogram's family name for one of its series' names (`x_bucket` -> `x`). */
export function histogramFamily(name: string): string {
  return name.replace(/_(bucket|sum|count)$/, '');
}

// --- promtool ------------------------------------------------------------------------

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const PROMTOOL_MISSING = 'promtool is not installed: install the Debian package `prometheus` (apt-get install -y prometheus)';

/**
 * Runs promtool and resolves with its exit code and output. Rejects (never skips)
 * when promtool is not installed, with a message that says which package provides it.
 */
export function runPromtool(args: readonly string[], options: { cwd?: string } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile('promtool', [...args], { cwd: options.cwd ?? REPO_ROOT, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(PROMTOOL_MISSING));
        return;
      }
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `--import` this to run a TypeScript script, from any working directory (what `--import tsx` does in the repository). */
export const TSX_IMPORT = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Runs node on a TypeScript script of this repository (the generators). */
export function runNode(args: readonly string[]): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TSX_IMPORT, ...args], { cwd: REPO_ROOT, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

// --- a scrape as promtool input --------------------------------------------------------

/**
 * `samples` as promtool input series held steady for `minutes`. Timestamps
 * (`*_timestamp_seconds`) are moved so that `nowSeconds` becomes the evaluation time at
 * the end: expiry and staleness read as they did when the scrape was taken. With
 * `risingCounters`, counters (`*_total`) rise by one a minute from their scraped value,
 * so that rate() and increase() over them are not 0.
 */
function steadySeries(samples: readonly SeriesSample[], nowSeconds: number, minutes: number, risingCounters = false): Array<{ series: string; values: string }> {
  return samples.map((s) => {
    const value = s.name.endsWith('_timestamp_seconds') ? s.value - nowSeconds + minutes * 60 : s.value;
    const step = risingCounters && s.name.endsWith('_total') ? 1 : 0;
    return { series: seriesNotation(s.name, s.labels), values: `${value}+${step}x${minutes}` };
  });
}

/**
 * A promtool test file (as an object, for yaml's stringify) that holds `samples` steady
 * and checks, at the end, exactly which series (labels and value) each expression returns.
 * `risingCounters`: counters rise by one a minute instead (see steadySeries).
 */
export function queriesOnSeriesTest(
  samples: readonly SeriesSample[],
  cases: ReadonlyArray<{ expr: string; expected: ReadonlyArray<{ labels: Record<string, string>; value: number }> }>,
  options: { nowSeconds: number; minutes?: number; risingCounters?: boolean },
): Record<string, unknown> {
  const minutes = options.minutes ?? 10;
  return {
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: steadySeries(samples, options.nowSeconds, minutes, options.risingCounters),
        promql_expr_test: cases.map((c) => ({ expr: c.expr, eval_time: `${minutes}m`, exp_samples: c.expected.map((e) => ({ labels: seriesNotation('', e.labels), value: e.value })) })),
      },
    ],
  };
}

export interface SeriesSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** `name{a="x", b="y"}` in the series notation promtool reads (labels sorted). */
export function seriesNotation(name: string, labels: Readonly<Record<string, string>>): string {
  const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escape(labels[k]!)}"`);
  return `${name}{${parts.join(', ')}}`;
}

/**
 * A promtool test file (as an object, for yaml's stringify) that holds `samples` steady
 * for `minutes` and checks, at the end, exactly which series each alert expression of
 * the rules returns: `(EXPR) * 0 + 1` drops the metric name and keeps the alert's labels,
 * and `for:` does not apply, so this says which alerts the series raise.
 *
 * Timestamps (`*_timestamp_seconds`) are moved so that `nowSeconds` becomes the
 * evaluation time: expiry and staleness read as they did when the scrape was taken.
 */
export function alertsOnSeriesTest(
  samples: readonly SeriesSample[],
  expected: ReadonlyArray<{ alert: string; labels: Record<string, string> }>,
  options: { nowSeconds: number; rulesFile?: string; minutes?: number },
): Record<string, unknown> {
  const minutes = options.minutes ?? 10;
  const input_series = steadySeries(samples, options.nowSeconds, minutes);
  const rules = alertExpressions(options.rulesFile);
  const promql_expr_test = rules.map((rule) => ({
    expr: `(${rule.expr}) * 0 + 1`,
    eval_time: `${minutes}m`,
    exp_samples: expected
      .filter((e) => e.alert === rule.alert && (rule.alert !== 'EgressTLSCertificateExpiringSoon' || e.labels.severity === rule.severity))
      .map((e) => {
        const labels = { ...e.labels };
        delete labels.severity;
        return { labels: seriesNotation('', labels), value: 1 };
      }),
  }));
  return {
    rule_files: [options.rulesFile ?? RULES_FILE],
    evaluation_interval: '1m',
    tests: [{ interval: '1m', input_series, promql_expr_test }],
  };
}
