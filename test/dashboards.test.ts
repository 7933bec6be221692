// The Grafana dashboards: valid JSON with stable uids, a datasource variable and no
// hard-coded datasource, the job/instance/host/path variables, every query parsing as
// PromQL (judged by promtool), and the panels the overview promises.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../alerts/config.js';
import { REPLICA_LABELS } from '../dashboards/replica-labels.js';
import {
  ALERTS_CONFIG,
  allPanels,
  dashboardFiles,
  dashboardQueries,
  expandGrafanaVariables,
  exporterMetricNames,
  histogramFamily,
  loadDashboards,
  metricNamesIn,
  runNode,
  runPromtool,
} from './helpers/monitoring-queries.js';
import type { DashboardQuery, GrafanaDashboard, GrafanaPanel } from './helpers/monitoring-queries.js';

const EXPECTED_UIDS = ['egress-host', 'egress-overview'];
const DATASOURCE_REF = '${datasource}';

function byUid(uid: string): GrafanaDashboard {
  const found = loadDashboards().find((d) => d.dashboard.uid === uid);
  if (!found) throw new Error(`no dashboard with uid ${uid}`);
  return found.dashboard;
}

/** Every `datasource` value anywhere in the JSON, with where it is. */
function datasourceRefs(node: unknown, where: string, out: Array<{ where: string; value: unknown }> = []): Array<{ where: string; value: unknown }> {
  if (Array.isArray(node)) node.forEach((child, i) => datasourceRefs(child, `${where}[${i}]`, out));
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'datasource') out.push({ where: `${where}.datasource`, value });
      datasourceRefs(value, `${where}.${key}`, out);
    }
  }
  return out;
}

/** The options of a panel's transformation with this id. */
function transformation(panel: GrafanaPanel, id: string): Record<string, unknown> | undefined {
  const list = (panel.transformations ?? []) as Array<{ id: string; options: Record<string, unknown> }>;
  return list.find((t) => t.id === id)?.options;
}

const queriesOf = (panel: GrafanaPanel): string[] => (panel.targets ?? []).map((t) => t.expr ?? '');
const panelsUsing = (dashboard: GrafanaDashboard, metric: string, type?: string): GrafanaPanel[] =>
  allPanels(dashboard).filter((p) => (type === undefined || p.type === type) && queriesOf(p).some((q) => metricNamesIn(q).includes(metric)));

/**
 * Parses every query with promtool, as recording rules of one temporary file. When
 * that fails, each query is checked alone, so the failure names the culprits.
 */
async function unparseable(queries: readonly DashboardQuery[]): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'egress-dashboards-'));
  try {
    const write = (name: string, qs: readonly DashboardQuery[]) => {
      const file = join(dir, name);
      const rules = qs.map((q, i) => ({ record: `dashboard_query_${i}`, expr: q.expr }));
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard-queries', rules }] }));
      return file;
    };
    const all = await runPromtool(['check', 'rules', write('all.yml', queries)]);
    if (all.code === 0) return [];
    const bad: string[] = [];
    for (const [i, q] of queries.entries()) {
      const one = await runPromtool(['check', 'rules', write(`q${i}.yml`, [q])]);
      if (one.code !== 0) bad.push(`${q.dashboard} / ${q.title} / ${q.refId}: ${q.raw}\n${one.stdout}${one.stderr}`);
    }
    return bad.length > 0 ? bad : [`promtool failed on the batch but on no single query:\n${all.stdout}${all.stderr}`];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('dashboards', () => {
  it('are valid JSON, with unique stable uids and a recent schema', () => {
    const files = dashboardFiles();
    expect(files.length).toBe(EXPECTED_UIDS.length);
    const uids: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const dashboard = JSON.parse(text) as GrafanaDashboard;
      expect(dashboard.uid, file).toMatch(/^[a-z0-9-]{1,40}$/);
      expect(dashboard.title, file).not.toBe('');
      expect(dashboard.schemaVersion, file).toBeGreaterThanOrEqual(38);
      expect(dashboard, `${file}: an exported id would clash on import`).not.toHaveProperty('id');
      uids.push(dashboard.uid);
    }
    expect(uids.sort()).toEqual(EXPECTED_UIDS);
  });

  it('are what dashboards/generate.ts writes', async () => {
    const result = await runNode(['dashboards/generate.ts', '--check']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('have a datasource variable and never a hard-coded datasource', () => {
    for (const { file, dashboard } of loadDashboards()) {
      const ds = dashboard.templating.list.find((v) => v.name === 'datasource');
      expect(ds, file).toMatchObject({ type: 'datasource', query: 'prometheus' });
      const refs = datasourceRefs(dashboard, dashboard.uid);
      expect(refs.length).toBeGreaterThan(0);
      for (const { where, value } of refs) {
        const uid = typeof value === 'string' ? value : (value as { uid?: unknown } | null)?.uid;
        expect(uid, `${where} must use the datasource variable`).toBe(DATASOURCE_REF);
      }
      for (const panel of allPanels(dashboard).filter((p) => p.type !== 'row')) {
        expect(panel.datasource, `${dashboard.uid} / ${panel.title}`).toEqual({ type: 'prometheus', uid: DATASOURCE_REF });
        expect(panel.targets?.length ?? 0, `${dashboard.uid} / ${panel.title} has no query`).toBeGreaterThan(0);
        for (const t of panel.targets ?? []) expect(t.datasource, `${dashboard.uid} / ${panel.title} / ${t.refId}`).toEqual({ type: 'prometheus', uid: DATASOURCE_REF });
      }
    }
  });

  it('have job, instance, host and path variables from label_values queries', () => {
    for (const { file, dashboard } of loadDashboards()) {
      for (const name of ['job', 'instance', 'host', 'path']) {
        const variable = dashboard.templating.list.find((v) => v.name === name);
        expect(variable, `${file}: variable ${name}`).toMatchObject({ type: 'query', datasource: { uid: DATASOURCE_REF } });
        expect(JSON.stringify(variable?.query), `${file}: variable ${name}`).toContain(`label_values(`);
      }
    }
    const host = byUid('egress-host').templating.list.find((v) => v.name === 'host');
    expect(host).toMatchObject({ multi: false, includeAll: false });
  });

  it('filter every query on the job and instance variables, and panel queries of hosts on $host', () => {
    for (const q of dashboardQueries().filter((q) => q.kind === 'panel')) {
      const where = `${q.dashboard} / ${q.title} / ${q.refId}`;
      expect(q.raw, where).toContain('job=~"$job"');
      expect(q.raw, where).toContain('instance=~"$instance"');
    }
    // On the drill-down, everything that has a host label is narrowed to $host.
    for (const q of dashboardQueries().filter((q) => q.dashboard === 'egress-host' && q.kind === 'panel')) {
      const hostless = metricNamesIn(q.expr).every((m) => m === 'egress_dns_firewall_refresh_interval_seconds');
      if (!hostless) expect(q.raw, `${q.title} / ${q.refId}`).toContain('host=~"$host"');
    }
  });

  it('have unique panel ids and a grid position for every panel', () => {
    for (const { dashboard } of loadDashboards()) {
      const panels = allPanels(dashboard);
      expect(new Set(panels.map((p) => p.id)).size, dashboard.uid).toBe(panels.length);
      for (const panel of panels) {
        const grid = panel.gridPos as { x?: unknown; y?: unknown; w?: unknown; h?: unknown } | undefined;
        for (const key of ['x', 'y', 'w', 'h'] as const) expect(typeof grid?.[key], `${dashboard.uid} / ${panel.title} gridPos.${key}`).toBe('number');
        expect((grid?.x as number) + (grid?.w as number), `${dashboard.uid} / ${panel.title} fits 24 columns`).toBeLessThanOrEqual(24);
      }
    }
  });

  it('parse as PromQL, every panel query and variable selector (promtool)', async () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(40);
    for (const q of queries) expect(q.expr, `${q.dashboard} / ${q.title}: unexpanded variable`).not.toMatch(/\$|\[\[/);
    expect(await unparseable(queries)).toEqual([]);
  });

  it('promtool rejects a broken query (the parse check can fail)', async () => {
    const broken: DashboardQuery = { dashboard: 'x', kind: 'panel', title: 'broken', refId: 'A', raw: 'sum(rate(x[5m])', expr: 'sum(rate(x[5m])' };
    const bad = await unparseable([broken]);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toContain('broken');
  });

  describe('the overview', () => {
    const overview = () => byUid('egress-overview');

    it('has a status matrix host × check with the current failure reason', () => {
      const [matrix] = panelsUsing(overview(), 'egress_probe_failure_reason', 'table');
      expect(matrix).toBeDefined();
      expect(queriesOf(matrix!).join('\n')).toContain('egress_probe_success');
      expect(transformation(matrix!, 'groupingToMatrix')).toMatchObject({ rowField: 'host', valueField: 'reason' });
      expect(panelsUsing(overview(), 'egress_probe_success', 'status-history')).toHaveLength(1);
    });

    it('has the TLS requirement matrix host × requirement, untested shown as such', () => {
      const [matrix] = panelsUsing(overview(), 'egress_tls_requirement_met', 'table');
      expect(transformation(matrix!, 'groupingToMatrix')).toMatchObject({ columnField: 'requirement', emptyValue: 'null' });
      expect(JSON.stringify(matrix!.fieldConfig)).toContain('untested');
    });

    it('has the HTTP version per host and path with downgrades marked', () => {
      const [http] = panelsUsing(overview(), 'egress_http_version', 'table');
      expect(queriesOf(http!).some((q) => q.includes('egress_http2_downgraded'))).toBe(true);
      expect(JSON.stringify(http!.fieldConfig)).toContain('DOWNGRADED');
    });

    it('has heatmaps of the connect, handshake and HTTP-phase times, bucketed by Grafana from the gauges', () => {
      for (const metric of ['egress_tcp_connect_duration_seconds', 'egress_tls_handshake_duration_seconds', 'egress_http_duration_seconds']) {
        const [panel] = panelsUsing(overview(), metric, 'heatmap');
        expect(panel, metric).toBeDefined();
        expect(panel!.options).toMatchObject({ calculate: true, calculation: { yBuckets: { scale: { type: 'log' } } } });
        // Replicas merged first: an HA pair puts one sample of each round in the heatmap, not two.
        expect(panel!.targets![0]!.expr).toMatch(new RegExp(`^max without \\(${REPLICA_LABELS.join(', ')}\\) \\(${metric}\\{`));
      }
    });

    it('has TTLs and address-set changes against the firewall refresh interval', () => {
      const ttl = panelsUsing(overview(), 'egress_dns_ttl_max_seconds', 'timeseries');
      expect(ttl).toHaveLength(1);
      expect(queriesOf(ttl[0]!).some((q) => q.includes('egress_dns_firewall_refresh_interval_seconds'))).toBe(true);
      expect(panelsUsing(overview(), 'egress_dns_address_changes_total', 'timeseries')).toHaveLength(1);
      const age = panelsUsing(overview(), 'egress_dns_address_set_changed_timestamp_seconds', 'timeseries');
      expect(queriesOf(age[0]!).some((q) => q.includes('egress_dns_firewall_refresh_interval_seconds'))).toBe(true);
    });

    it("has the exporter's health: event-loop stalls, rounds and failures, last reload, overruns", () => {
      for (const metric of [
        'nodejs_eventloop_lag_p99_seconds',
        'egress_exporter_event_loop_stall_max_seconds',
        'egress_exporter_rounds_total',
        'egress_probe_failures_total',
        'egress_exporter_config_last_reload_success_timestamp_seconds',
        'egress_exporter_config_last_reload_successful',
        'egress_exporter_round_overruns_total',
      ]) {
        expect(panelsUsing(overview(), metric).length, metric).toBeGreaterThan(0);
      }
    });
  });

  it("merge the replicas the alerts merge: replica_labels of the alerts generator's config", () => {
    const fromAlerts = loadConfig(readFileSync(ALERTS_CONFIG, 'utf8')).replica_labels;
    expect(REPLICA_LABELS).toEqual(fromAlerts);
    // The committed JSON says the same (and "are what dashboards/generate.ts writes" ties it
    // to the generator): a change of replica_labels fails until the dashboards are regenerated.
    const merging = `without (${fromAlerts.join(', ')})`;
    // The overview's counts (the downgrade timeline shares a title with its count).
    const counts = dashboardQueries().filter((q) => q.dashboard === 'egress-overview' && q.raw.startsWith('count(') && /^(Checks failing|TLS requirements not met|HTTP\/2 downgrades|Intercepted paths)$/.test(q.title));
    expect(counts).toHaveLength(4);
    for (const q of counts) expect(q.raw, q.title).toContain(merging);
    expect(dashboardQueries().filter((q) => q.raw.includes(merging)).length).toBeGreaterThan(40);
  });

  it('the drill-down shows one host across DNS, TCP, TLS and HTTP', () => {
    const host = byUid('egress-host');
    for (const metric of [
      'egress_target_info',
      'egress_probe_failure_reason',
      'egress_dns_ttl_max_seconds',
      'egress_dns_addresses',
      'egress_tcp_addresses_reachable',
      'egress_tcp_connect_duration_seconds',
      'egress_tls_requirement_met',
      'egress_tls_intercepted',
      'egress_tls_chain_earliest_not_after_timestamp_seconds',
      'egress_http_version',
      'egress_http2_downgraded',
      'egress_http_duration_seconds',
    ]) {
      expect(panelsUsing(host, metric).length, metric).toBeGreaterThan(0);
    }
  });
});

describe('monitoring query helpers', () => {
  it('expand Grafana variables into plain PromQL', () => {
    expect(expandGrafanaVariables('rate(x{host=~"$host", path=~"${path:regex}|[[resolver]]"}[$__rate_interval])')).toBe('rate(x{host=~".*", path=~".*|.*"}[1m])');
    expect(expandGrafanaVariables('x{host=~"$host"}', { host: 'cgr\\.dev' })).toBe('x{host=~"cgr\\.dev"}');
  });

  it('find the metric names of an expression, and nothing else', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.9, sum by (job, le) (rate(egress_tcp_connect_duration_seconds_bucket{host=~"$host"}[10m]))) > 0.5 and on (job) up{job="a"} == 1',
      ),
    ).toEqual(['egress_tcp_connect_duration_seconds_bucket', 'up']);
    expect(metricNamesIn('label_replace(egress_probe_failure_reason{check="dns"}, "resolver", "$1", "path", "(.*)") unless ignoring(x) b offset 5m')).toEqual([
      'egress_probe_failure_reason',
      'b',
    ]);
    expect(metricNamesIn('count(a == 0) or vector(0) - time() < 14 * 86400 + 1e3')).toEqual(['a']);
    expect(metricNamesIn('max by (host) (x) * on (host) group_left (purpose) y')).toEqual(['x', 'y']);
  });

  it('list the exporter metrics the dashboards and alerts use, without server-side ones', () => {
    const names = exporterMetricNames();
    expect(names).not.toContain('up');
    expect(names).toContain('egress_probe_success');
    expect(names).toContain('egress_tls_requirement_met');
    for (const name of names) expect(name).toMatch(/^(egress|nodejs)_[a-z0-9_]+$/);
    expect(histogramFamily('egress_tcp_connect_duration_seconds_bucket')).toBe('egress_tcp_connect_duration_seconds');
  });
});
