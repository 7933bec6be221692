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
        table('Target', 'Where the host comes from and what it is for.', [target(q('targetInfo'), { format: 'table', instant: true })], {
          transformations: [{ id: 'organize', options: { excludeByName: { Time: true, Value: true, __name__: true, job: true }, indexByName: {}, renameByName: {} } }],
        }),
        24,
        3,
      ],

      [row('Status')],
      [
        statusMatrix(
          'check',
          'where',
          'Checks (check × path or resolver)',
          'The latest run of every check on every path (dns: through every resolver): "ok", or the reason it failed.',
        ),
        12,
        7,
      ],
      [statusHistory('{{check}} · {{where}}', 'Every check that must work over time: green OK, red FAIL.'), 12, 7],
      [blockedTable(), 12, 4],
      [blockedHistory('{{path}}'), 12, 4],

      [row('DNS')],
      [ttlPanel([target(`max by (type, resolver) (${q('dnsTtl', RESOLVER)})`, { legend: 'TTL now {{type}} via {{resolver}}', refId: 'C' })]), 12, 8],
      [timeseries('Addresses', 'Addresses in the latest answer, per family and resolver.', [target(`max by (family, resolver) (${q('dnsAddresses', RESOLVER)})`, { legend: '{{family}} via {{resolver}}' })]), 12, 8],
      [addressChanges('{{family}}'), 8, 8],
      [addressAge('{{family}}'), 8, 8],
      [
        timeseries('TTL drift and CNAME chain', 'Changes of the estimated TTL (bars), and CNAME hops to the addresses.', [
          target(`sum by (type) (increase(${q('dnsTtlChanges', RESOLVER)}[$__rate_interval]))`, { legend: 'TTL changes {{type}}' }),
          target(`max by (resolver) (${q('dnsCnameLength', RESOLVER)})`, { legend: 'CNAME hops via {{resolver}}', refId: 'B' }),
        ]),
        8,
        8,
      ],
      [
        heatmap('DNS check time', 'egress_probe_duration_seconds{check="dns"}: the A and AAAA lookups of each round, per resolver.', q('duration', 'check="dns"', RESOLVER)),
        24,
        7,
      ],

      [row('TCP')],
      [
        timeseries(
          'Reachable addresses',
          'Addresses that accepted a connection (solid) out of those tried (dashed), per family and path. A gap between them is a stale IP rule.',
          [
            target(`max by (family, path) (${q('tcpReachable', PATH)})`, { legend: 'reachable {{family}} {{path}}' }),
            target(`max by (family, path) (${q('tcpProbed', PATH)})`, { legend: 'probed {{family}} {{path}}', refId: 'B' }),
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
            target(`max by (path) (quantile_over_time(0.5, ${q('tcpConnect', PATH)}[$__rate_interval]))`, { legend: 'p50 {{path}}' }),
            target(`max by (path) (quantile_over_time(0.9, ${q('tcpConnect', PATH)}[$__rate_interval]))`, { legend: 'p90 {{path}}', refId: 'B' }),
          ],
          { unit: 's' },
        ),
        12,
        8,
      ],
      [tcpHeatmap(), 24, 7],

      [row('TLS')],
      [tlsRequirementMatrix('path'), 24, 5],
      [tlsWireTable(), 16, 5],
      [certExpiry('{{path}}'), 8, 5],
      [tlsHeatmap(), 24, 7],

      [row('HTTP')],
      [httpTable(), 12, 5],
      [downgradeTimeline('{{path}}'), 12, 5],
      [httpPhases('path, phase', '{{phase}} {{path}}'), 12, 8],
      [httpHeatmap(), 12, 8],

      [row('Registry pull')],
      [pullTable(), 12, 6],
      [pullSteps('{{path}} {{step}}'), 12, 6],
    ]),
  });
}
