// The dashboards select and split by the target labels of the config (`targets[].labels`,
// on egress_target_label_info): the `label` and `value` variables narrow the hosts (the
// hidden `targets`, then `host`), and the status matrix shows each host's value. Judged
// by promtool, Prometheus' own engine, on a real scrape of an exporter with labelled
// targets, with the variables expanded as Grafana would expand them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startDnsServer } from './fixtures/dns-server.js';
import type { DnsFixture } from './fixtures/dns-server.js';
import { startTestExporter, tempDir } from './helpers/exporter.js';
import type { TestExporter } from './helpers/exporter.js';
import { dashboardQueries, queriesOnSeriesTest, runPromtool } from './helpers/monitoring-queries.js';
import type { DashboardQuery, SeriesSample } from './helpers/monitoring-queries.js';

const JOB = 'egress';
const HOSTS = ['eu-a.test', 'eu-b.test', 'us.test', 'plain.test'];

/** The query of a dashboard's variable or panel, with the variables set to `values`. */
function query(dashboard: string, kind: DashboardQuery['kind'], title: string, values: Record<string, string>): string {
  const found = dashboardQueries(values).filter((q) => q.dashboard === dashboard && q.kind === kind && q.title.startsWith(title));
  if (found.length !== 1) throw new Error(`${dashboard}: expected one ${kind} ${title}, found ${found.length}`);
  return found[0]!.expr;
}

describe('dashboards: target labels', () => {
  let dns: DnsFixture;
  let exporter: TestExporter;
  let samples: SeriesSample[];
  let instance: string;
  let nowSeconds: number;

  beforeAll(async () => {
    dns = await startDnsServer(Object.fromEntries(HOSTS.map((h) => [h, { a: ['127.0.0.1'], ttl: 600 }])));
    exporter = await startTestExporter(
      stringify({
        catalog: 'none',
        interval: '30s',
        timeout: '2s',
        dns: { servers: [dns.address.name] },
        targets: [
          { host: 'eu-a.test', checks: ['dns'], labels: { egress_zone: 'eu' } },
          // Off 443: its series carry `port`, and the join must still find it.
          { host: 'eu-b.test', port: 8443, checks: ['dns'], labels: { egress_zone: 'eu' } },
          { host: 'us.test', checks: ['dns'], labels: { egress_zone: 'us', team: 'registry' } },
          { host: 'plain.test', checks: ['dns'] },
        ],
      }),
    );
    instance = new URL(exporter.base).host;
    nowSeconds = Date.now() / 1000;
    // As Prometheus stores them: with the scrape's job and instance.
    samples = (await exporter.scrape()).samples.map((s) => ({ ...s, labels: { ...s.labels, job: JOB, instance } }));
  });

  afterAll(async () => {
    await exporter?.stop();
    await dns?.close();
  });

  it('select hosts by a target label and split the status matrix by its value', async () => {
    const resolver = dns.address.name;
    const exporterVars = { job: JOB, instance: instance.replace(/\./g, '\\\\.') };
    const zone = (value: string) => ({ ...exporterVars, label: 'egress_zone', value });
    const hosts = (...names: string[]) => names.map((host) => ({ labels: { host }, value: 1 }));
    const cases = [
      // The label variable lists the config's label names, the value variable that label's values.
      { expr: `count by (name) (${query('egress-overview', 'variable', 'label', exporterVars)})`, expected: [{ labels: { name: 'egress_zone' }, value: 3 }, { labels: { name: 'team' }, value: 1 }] },
      { expr: `count by (value) (${query('egress-overview', 'variable', 'value', zone('.*'))})`, expected: [{ labels: { value: 'eu' }, value: 2 }, { labels: { value: 'us' }, value: 1 }] },
      // The hosts a selection keeps: All keeps every host, a host without the label too;
      // a value keeps only the hosts that have it, whatever their port.
      { expr: query('egress-overview', 'variable', 'targets', zone('.*')), expected: hosts(...HOSTS) },
      { expr: query('egress-overview', 'variable', 'targets', zone('eu')), expected: hosts('eu-a.test', 'eu-b.test') },
      { expr: query('egress-overview', 'variable', 'targets', zone('(eu|us)')), expected: hosts('eu-a.test', 'eu-b.test', 'us.test') },
      { expr: query('egress-host', 'variable', 'targets', { ...exporterVars, label: 'team', value: 'registry' }), expected: hosts('us.test') },
      // The host variable lists the selected hosts only (Grafana expands `$targets` to them).
      { expr: `count by (host) (${query('egress-overview', 'variable', 'host', { ...zone('us'), targets: 'us\\\\.test' })})`, expected: hosts('us.test') },
      // The status matrix: each row is `value · host[:port]`, a host without the label reads as itself.
      {
        expr: query('egress-overview', 'panel', 'Status matrix', zone('.*')),
        expected: [
          ...[['eu', 'eu-a.test'], ['us', 'us.test']].map(([value, host]) => ({
            labels: { host: `${value} · ${host}`, value: value!, check: 'dns', where: resolver, check_where: `dns · ${resolver}`, reason: 'ok' },
            value: 1,
          })),
          // Off 443, the row names the port (two ports of one host are two rows).
          { labels: { host: 'eu · eu-b.test:8443', port: '8443', value: 'eu', check: 'dns', where: resolver, check_where: `dns · ${resolver}`, reason: 'ok' } as Record<string, string>, value: 1 },
          { labels: { host: 'plain.test', check: 'dns', where: resolver, check_where: `dns · ${resolver}`, reason: 'ok' }, value: 1 },
        ],
      },
      {
        expr: query('egress-overview', 'panel', 'Status matrix', zone('us')),
        expected: [{ labels: { host: 'us · us.test', value: 'us', check: 'dns', where: resolver, check_where: `dns · ${resolver}`, reason: 'ok' }, value: 1 }],
      },
    ];
    const dir = await tempDir('egress-target-labels-');
    const file = join(dir, 'queries.yml');
    await writeFile(file, stringify(queriesOnSeriesTest(samples, cases, { nowSeconds }), { lineWidth: 0 }));
    const result = await runPromtool(['test', 'rules', file]);
    expect(result.stdout + result.stderr, file).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });
});
