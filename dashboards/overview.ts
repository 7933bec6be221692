// Egress / Overview: every host at once.
import { dashboard, layout, row, stat, table, target, timeseries, valueMap } from './grafana.js';
import type { JsonObject, Panel } from './grafana.js';
import {
  BUILD_INFO,
  LAG_P99,
  PATH,
  RELOAD_SUCCESSFUL,
  RELOAD_SUCCESS_TIME,
  STALL_MAX,
  addressAge,
  addressChanges,
  blockedHistory,
  blockedMatrix,
  checkSeries,
  certExpiry,
  downgradeTimeline,
  exp,
  httpHeatmap,
  httpPhases,
  httpTable,
  merged,
  named,
  pullSteps,
  pullTable,
  q,
  qx,
  statusHistory,
  statusMatrix,
  tcpHeatmap,
  tlsHeatmap,
  tlsRequirementMatrix,
  tlsWireTable,
  tokenExpiry,
  ttlPanel,
} from './panels.js';
import { variables } from './variables.js';

/** A count that reads 0, not "no data", when nothing matches. */
const count = (expr: string, title: string, description: string, refId = 'A'): Panel =>
  stat(title, description, [target(`${expr} or vector(0)`, { refId, instant: true })], { steps: [[null, 'green'], [1, 'red']] });

export function overview(): JsonObject {
  return dashboard({
    uid: 'egress-overview',
    title: 'Egress / Overview',
    description: 'Whether this network lets its machines reach the hosts they must reach, the way those hosts require: DNS, TCP, TLS and HTTP, directly and through each proxy.',
    variables: variables({ singleHost: false }),
    panels: layout([
      [
        count(
          `count(${merged(`(${checkSeries('success')}) == 0`)})`,
          'Checks failing',
          'Checks that must work whose latest run failed, once per vantage point however many replicas saw it (not those of paths that must stay blocked).',
        ),
        4,
        4,
      ],
      [count(`count(${merged(`${q('tlsRequirement', PATH)} == 0`)})`, 'TLS requirements not met', 'Requirement verdicts of "not met" (untested ones are not counted).'), 4, 4],
      [count(`count(${merged(`${q('httpDowngraded', PATH)} == 1`)})`, 'HTTP/2 downgrades', 'Host and path pairs where h2 was offered and HTTP/1.1 came back.'), 4, 4],
      [count(`count(${merged(`${q('tlsIntercepted', PATH)} == 1`)})`, 'Intercepted paths', 'Host and path pairs whose certificate chain was re-signed by another CA.'), 4, 4],
      [count(`count(${merged(`${q('blockedVerdict', PATH, 'verdict="reachable"')} == 1`, 'max', 'verdict')})`, 'Holes', 'Paths that must stay blocked whose host answered (EgressBlockedHostReachable), once per vantage point.'), 4, 4],
      [stat('Hosts', 'Targets probed (host and port), once however many replicas or vantage points probe them; shards add up.', [target(`count(count by (host, port) (${q('targetInfo')}))`, { instant: true })], { colorMode: 'none' }), 4, 4],

      [row('Status')],
      [
        statusMatrix(
          'host',
          'check_where',
          'Status matrix (host × check · path or resolver)',
          'The latest run of every check: "ok", or the reason it failed (see the README\'s failure reasons). The dns check names the resolver it asked, the others the path they went out by. Rows read zone · value · host:port: the vantage point, the value of the target label picked in `label`, the port off 443 (each only when set).',
        ),
        24,
        12,
      ],
      [statusHistory('{{host}} · {{check}} · {{where}}', 'Every check that must work over time: green OK, red FAIL.'), 24, 12],

      [row('Must stay blocked')],
      [
        stat(
          'Held',
          'Paths that must stay blocked and did, once per vantage point.',
          [target(`count(${merged(`${q('blockedVerdict', PATH, 'verdict="blocked"')} == 1`, 'max', 'verdict')}) or vector(0)`, { instant: true })],
          { colorMode: 'none' },
        ),
        4,
        4,
      ],
      [
        count(
          `count(${merged(`${q('blockedVerdict', PATH, 'verdict="unknown"')} == 1`, 'max', 'verdict')})`,
          'Could not tell',
          'Paths that must stay blocked where a timeout met a path that reaches no host that must work, or a resolver or proxy failed: not a pass.',
        ),
        4,
        4,
      ],
      [blockedMatrix(), 16, 8],
      [blockedHistory('{{host}} · {{path}}'), 24, 8],

      [row('TLS')],
      [tlsRequirementMatrix(), 24, 10],
      [tlsWireTable(), 16, 9],
      [certExpiry('{{host}} via {{path}}'), 8, 9],

      [row('HTTP')],
      [httpTable(), 12, 10],
      [downgradeTimeline('{{host}} via {{path}}'), 12, 10],

      [row('Registry pull')],
      [pullTable(), 12, 8],
      [pullSteps('{{host}} {{path}} {{step}}'), 8, 8],
      [tokenExpiry(), 4, 8],

      [row('Latency')],
      [tcpHeatmap(), 8, 9],
      [tlsHeatmap(), 8, 9],
      [httpHeatmap(), 8, 9],
      [httpPhases('phase', '{{phase}}'), 24, 8],

      [row('DNS')],
      [ttlPanel(), 24, 9],
      [addressChanges('{{host}} {{family}}'), 12, 8],
      [addressAge('{{host}} {{family}}'), 12, 8],

      [row('Exporter')],
      [
        timeseries(
          'Event-loop stalls',
          "The largest stall of the probing thread in the last minute (a latency measured during one carries it), and prom-client's p99 lag.",
          [
            target(`max by (instance) (${STALL_MAX}${exp()})`, { legend: 'largest stall {{instance}}' }),
            target(`max by (instance) (${LAG_P99}${exp()})`, { legend: 'lag p99 {{instance}}', refId: 'B' }),
          ],
          { unit: 's' },
        ),
        8,
        8,
      ],
      [
        timeseries(
          'Rounds and failures',
          'Rounds finished per second (every check once), and failed checks per second by check: the rate of one replica of each vantage point, shards added up.',
          [
            target(`sum(${merged(`rate(${qx('rounds')}[$__rate_interval])`)})`, { legend: 'rounds' }),
            target(`sum by (check) (${merged(`rate(${qx('failures')}[$__rate_interval])`)})`, { legend: 'failed {{check}}', refId: 'B' }),
          ],
          { unit: 'ops' },
        ),
        8,
        8,
      ],
      [
        timeseries(
          'Round overruns',
          'Rounds skipped because the previous round of the host still ran: raise interval, lower timeout or raise concurrency.',
          [target(named(merged(`increase(${qx('roundOverruns')}[$__rate_interval])`)), { legend: '{{host}}' })],
          { custom: { drawStyle: 'bars', fillOpacity: 80 } },
        ),
        8,
        8,
      ],
      [
        stat('Last config reload', 'When the configuration was last loaded successfully.', [target(`max by (instance) (${RELOAD_SUCCESS_TIME}${exp()}) * 1000`, { legend: '{{instance}}', instant: true })], {
          unit: 'dateTimeFromNow',
          colorMode: 'none',
        }),
        6,
        4,
      ],
      [
        stat('Last reload', 'Whether the last configuration reload worked.', [target(`min by (instance) (${RELOAD_SUCCESSFUL}${exp()})`, { legend: '{{instance}}', instant: true })], {
          mappings: [valueMap([['1', 'OK', 'green'], ['0', 'FAILED', 'red']])],
          steps: [[null, 'red'], [1, 'green']],
        }),
        6,
        4,
      ],
      [
        stat('Oldest check result', 'Age of the oldest latest result: grows when the scheduler is stuck.', [target(`max by (instance) (time() - ${qx('roundFinished')})`, { legend: '{{instance}}', instant: true })], {
          unit: 's',
          steps: [[null, 'green'], [600, 'red']],
        }),
        6,
        4,
      ],
      [
        table('Exporter build', 'egress_exporter_build_info.', [target(`${BUILD_INFO}${exp()}`, { format: 'table', instant: true })], {
          transformations: [{ id: 'organize', options: { excludeByName: { Time: true, Value: true, __name__: true }, indexByName: {}, renameByName: {} } }],
        }),
        6,
        4,
      ],
    ]),
  });
}
