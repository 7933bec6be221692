// Egress / Host: everything about one host, per path and resolver.
import { dashboard, heatmap, layout, row, table, target, timeseries } from './grafana.js';
import type { JsonObject } from './grafana.js';
import {
  PATH,
  RESOLVER,
  addressAge,
  addressChanges,
  blockedHistory,
  blockedTable,
  certExpiry,
  downgradeTimeline,
  httpHeatmap,
  httpPhases,
  httpTable,
  merged,
  named,
  pullSteps,
  pullTable,
  q,
  statusHistory,
  statusMatrix,
  tcpHeatmap,
  tlsHeatmap,
  tlsRequirementMatrix,
  tlsWireTable,
  ttlPanel,
} from './panels.js';
import { variables } from './variables.js';

export function host(): JsonObject {
  return dashboard({
    uid: 'egress-host',
    title: 'Egress / Host',
    description: 'Everything the egress exporter knows about one host, per path and resolver.',
    variables: variables({ singleHost: true }),
    panels: layout([
      [
        table('Target', 'Where the host comes from and what it is for: a row per port and vantage point.', [target(merged(q('targetInfo')), { format: 'table', instant: true })], {
          transformations: [{ id: 'organize', options: { excludeByName: { Time: true, Value: true, __name__: true, job: true }, indexByName: {}, renameByName: {} } }],
        }),
        24,
        3,
      ],

      [row('Status')],
      [
        statusMatrix(
          'check_where',
          'host',
          'Checks (check · path or resolver × target)',
          'The latest run of every check on every path (dns: through every resolver): "ok", or the reason it failed. A column per port of the host and vantage point.',
        ),
        12,
        7,
      ],
      [statusHistory('{{host}} · {{check}} · {{where}}', 'Every check that must work over time: green OK, red FAIL.'), 12, 7],
      [blockedTable(), 12, 4],
      [blockedHistory('{{host}} · {{path}}'), 12, 4],

      [row('DNS')],
      [ttlPanel([target(named(merged(q('dnsTtl', RESOLVER))), { legend: 'TTL now {{host}} {{type}} via {{resolver}}', refId: 'C' })]), 12, 8],
      [timeseries('Addresses', 'Addresses in the latest answer, per family and resolver.', [target(named(merged(q('dnsAddresses', RESOLVER))), { legend: '{{host}} {{family}} via {{resolver}}' })]), 12, 8],
      [addressChanges('{{host}} {{family}}'), 8, 8],
      [addressAge('{{host}} {{family}}'), 8, 8],
      [
        timeseries('TTL drift and CNAME chain', 'Changes of the estimated TTL (bars), and CNAME hops to the addresses.', [
          target(named(`sum without (resolver) (${merged(`increase(${q('dnsTtlChanges', RESOLVER)}[$__rate_interval])`)})`), { legend: 'TTL changes {{host}} {{type}}' }),
          target(named(merged(q('dnsCnameLength', RESOLVER))), { legend: 'CNAME hops {{host}} via {{resolver}}', refId: 'B' }),
        ]),
        8,
        8,
      ],
      [
        heatmap('DNS check time', 'egress_probe_duration_seconds{check="dns"}: the A and AAAA lookups of each round, per resolver.', merged(q('duration', 'check="dns"', RESOLVER))),
        24,
        7,
      ],

      [row('TCP')],
      [
        timeseries(
          'Reachable addresses',
          'Addresses that accepted a connection (solid) out of those tried (dashed), per family and path. A gap between them is a stale IP rule.',
          [
            target(named(merged(q('tcpReachable', PATH), 'min')), { legend: 'reachable {{host}} {{family}} {{path}}' }),
            target(named(merged(q('tcpProbed', PATH))), { legend: 'probed {{host}} {{family}} {{path}}', refId: 'B' }),
          ],
          { overrides: [{ matcher: { id: 'byFrameRefID', options: 'B' }, properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }] }] },
        ),
        12,
        8,
      ],
      [
        timeseries(
          'TCP connect time (p50, p90)',
          'From egress_tcp_connect_duration_seconds, per path.',
          [
            target(named(merged(`quantile_over_time(0.5, ${q('tcpConnect', PATH)}[$__rate_interval])`, 'max', 'family')), { legend: 'p50 {{host}} {{path}}' }),
            target(named(merged(`quantile_over_time(0.9, ${q('tcpConnect', PATH)}[$__rate_interval])`, 'max', 'family')), { legend: 'p90 {{host}} {{path}}', refId: 'B' }),
          ],
          { unit: 's' },
        ),
        12,
        8,
      ],
      [tcpHeatmap(), 24, 7],

      [row('TLS')],
      [tlsRequirementMatrix(), 24, 5],
      [tlsWireTable(), 16, 5],
      [certExpiry('{{host}} via {{path}}'), 8, 5],
      [tlsHeatmap(), 24, 7],

      [row('HTTP')],
      [httpTable(), 12, 5],
      [downgradeTimeline('{{host}} via {{path}}'), 12, 5],
      [httpPhases('path, phase', '{{phase}} {{path}}'), 12, 8],
      [httpHeatmap(), 12, 8],

      [row('Registry pull')],
      [pullTable(), 12, 6],
      [pullSteps('{{host}} {{path}} {{step}}'), 12, 6],
    ]),
  });
}
