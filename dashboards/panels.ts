// The selectors and the panels both dashboards share. Every query filters on the
// `job` and `instance` variables; `host` and `path` narrow it further. Metric names
// come from src/metrics/families.ts, so a renamed family cannot leave a panel behind.
import { F } from '../src/metrics/families.js';
import type { FamilyId } from '../src/metrics/families.js';
import { heatmap, panel, stat, stateTimeline, table, target, thresholds, timeseries, valueMap } from './grafana.js';
import type { JsonObject, Override, Panel, Target } from './grafana.js';

// --- selectors ------------------------------------------------------------------------

const EXPORTER = 'job=~"$job", instance=~"$instance"';
/** `{job, instance, host, ...extra}` */
export const sel = (...extra: string[]): string => `{${[EXPORTER, 'host=~"$host"', ...extra].join(', ')}}`;
/** The exporter only (no host label). */
export const exp = (...extra: string[]): string => `{${[EXPORTER, ...extra].join(', ')}}`;
/** A family of a target's series, narrowed to the selected hosts: `name{job, instance, host, ...extra}`. */
export const q = (id: FamilyId, ...extra: string[]): string => `${F[id].name}${sel(...extra)}`;
/** A family without a host label, or one shown for every host. */
export const qx = (id: FamilyId, ...extra: string[]): string => `${F[id].name}${exp(...extra)}`;
/** The selected paths (`direct` or a proxy): where tcp, tls, http and registry checks went out. */
export const PATH = 'path=~"$path"';
/** The selected resolvers: where the dns check asked. */
export const RESOLVER = 'resolver=~"$resolver"';

/** The paths that must stay blocked (they have a verdict); `on`: what identifies one, the exporter's and the target's labels, and the path. */
const BLOCKED = (on: string): string => `unless on (${on}) ${q('blockedVerdict')}`;
/**
 * A family of every check that must work: the tcp/tls/http/registry checks' on the selected
 * paths (`path=~".*"` alone would match the dns check's too: they have no path), the dns
 * check's through the selected resolvers. A path that must stay blocked is
 * left out (its failures keep the host out: the "Must stay blocked" panels show it), and so
 * is the dns check of a target with one (its NXDOMAIN or sinkhole may be the policy).
 */
export const checkSeries = (id: FamilyId): string =>
  `(${q(id, 'check!="dns"', PATH)} ${BLOCKED('job, instance, host, port, path')}) or (${q(id, 'check="dns"', RESOLVER)} ${BLOCKED('job, instance, host, port')})`;
/** checkSeries with a `where` label, its path or resolver (each series has one of them): one column for both. */
const checkSeriesWhere = (id: FamilyId): string => `label_join(${checkSeries(id)}, "where", "", "path", "resolver")`;

// --- target labels --------------------------------------------------------------------

/**
 * The targets (job, instance, host, port) that the `label` and `value` variables select,
 * each with `value`: its value of the config's target label `$label`
 * (egress_target_label_info). A target without that label has the empty value, as a label
 * matcher sees a missing label: "All" selects every target, a value only the targets that
 * have it. egress_target_info always has `port`, the other series only off 443: relabelled
 * to their shape. label_replace marks the targets whose value matches `$value` (the regex
 * is anchored), and `and` keeps the marked ones.
 */
export const SELECTED_TARGETS =
  `label_replace(\n` +
  `    max by (job, instance, host, port, value) (${qx('targetLabels', 'name=~"$label"')})\n` +
  `    or on (job, instance, host, port) label_replace(max by (job, instance, host, port) (${qx('targetInfo')}), "port", "", "port", "443"),\n` +
  `    "selected", "yes", "value", "$value")\n` +
  `  and on (selected) label_replace(vector(1), "selected", "yes", "", "")`;

/** A target's series (job, instance, host and port kept) for the selected targets only, each with its `value`. */
export const withTargetLabel = (expr: string): string => `(${expr}) * on (job, instance, host, port) group_left (value) (\n  ${SELECTED_TARGETS}\n)`;

/**
 * `host` after the target label's value (`eu · cgr.dev`), so rows sort by it; a host
 * without the label reads as itself (`on (value) vector(1)` matches the series without `value`).
 */
const hostAfterValue = (expr: string): string =>
  `label_join((${expr}) unless on (value) vector(1), "host", " · ", "value", "host")\nor ((${expr}) and on (value) vector(1))`;

/** The `value` column of a table, named after the selected target label. */
const targetLabelColumn: Override = { matcher: { id: 'byName', options: 'value' }, properties: [{ id: 'displayName', value: '${label}' }] };

// Not families of results: the registry (src/metrics/registry.ts), the stall monitor and prom-client make them.
export const BUILD_INFO = 'egress_exporter_build_info';
export const STALL_MAX = 'egress_exporter_event_loop_stall_max_seconds';
export const LAG_P99 = 'nodejs_eventloop_lag_p99_seconds';
export const RELOAD_SUCCESS_TIME = 'egress_exporter_config_last_reload_success_timestamp_seconds';
export const RELOAD_SUCCESSFUL = 'egress_exporter_config_last_reload_successful';

// --- mappings -------------------------------------------------------------------------

export const OK_FAIL = [valueMap([['1', 'OK', 'green'], ['0', 'FAIL', 'red']])];
const MET = [
  valueMap([['1', 'met', 'green'], ['0', 'NOT MET', 'red']]),
  { type: 'special', options: { match: 'null', result: { text: 'untested', color: 'text', index: 2 } } },
];
const HTTP_VERSION = [valueMap([['2', 'HTTP/2', 'green'], ['1.1', 'HTTP/1.1', 'orange'], ['1', 'HTTP/1.0', 'orange']])];
const DOWNGRADED = [valueMap([['1', 'DOWNGRADED', 'red'], ['0', 'no', 'green']])];
const YES_NO = [valueMap([['1', 'yes', 'green'], ['0', 'NO', 'red']])];
const INTERCEPTED = [valueMap([['1', 'INTERCEPTED', 'red'], ['0', 'no', 'green']])];
const BLOCKED_VERDICT = [valueMap([['blocked', 'blocked', 'green'], ['unknown', 'could not tell', 'orange'], ['reachable', 'REACHABLE', 'red']])];
const BLOCKED_STATE = [valueMap([['0', 'blocked', 'green'], ['1', 'could not tell', 'orange'], ['2', 'REACHABLE', 'red']])];
const REASON_CELLS = [
  valueMap([['ok', 'ok', 'green']]),
  { type: 'regex', options: { pattern: '(.+)', result: { text: '$1', color: 'red', index: 1 } } },
];

const colored = (name: string, mappings: JsonObject[], extra: JsonObject[] = []): Override => ({
  matcher: { id: 'byName', options: name },
  properties: [
    { id: 'mappings', value: mappings },
    { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'basic' } },
    ...extra,
  ],
});
const rename = (name: string, displayName: string): Override => ({ matcher: { id: 'byName', options: name }, properties: [{ id: 'displayName', value: displayName }] });
const refreshLine: Override = {
  matcher: { id: 'byFrameRefID', options: 'B' },
  properties: [
    { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
    { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
    { id: 'custom.lineWidth', value: 2 },
  ],
};

// --- status ---------------------------------------------------------------------------

/**
 * The current state of every check, one series per (host, check, where): the failure
 * reason when it fails, `ok` when it succeeds. Always returns data, healthy or not.
 */
function checkStates(by: readonly string[]): string {
  const labels = by.join(', ');
  const withReason = (value: number, reason: string): string =>
    `label_replace(max by (${labels}) (${withTargetLabel(checkSeriesWhere('success'))}) == ${value}, "reason", "${reason}", "host", ".*")`;
  return hostAfterValue(
    `label_join(\n` +
      `  max by (${labels}, reason) (${withTargetLabel(checkSeriesWhere('failureReason'))})\n` +
      `  or on (${labels}) ${withReason(1, 'ok')}\n` +
      `  or on (${labels}) ${withReason(0, 'failed')},\n` +
      `  "check_where", " · ", "check", "where")`,
  );
}

/** The latest state of every check; its rows read `value · host` with the selected target label's value. */
export const statusMatrix = (rowField: string, columnField: string, title: string, description: string): Panel =>
  table(title, description, [target(checkStates(['host', 'check', 'where', 'value']), { format: 'table', instant: true })], {
    transformations: [{ id: 'groupingToMatrix', options: { rowField, columnField, valueField: 'reason', emptyValue: 'empty' } }],
    overrides: [
      {
        matcher: { id: 'byRegexp', options: `^(?!${rowField}\\\\).*` },
        properties: [
          { id: 'mappings', value: REASON_CELLS },
          { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'basic' } },
        ],
      },
    ],
  });

export const statusHistory = (legend: string, description: string): Panel =>
  stateTimeline('status-history', 'Check status over time', description, [target(`max by (host, check, where) (${checkSeriesWhere('success')})`, { legend })], {
    mappings: OK_FAIL,
    steps: [[null, 'red'], [1, 'green']],
  });

// --- must stay blocked ----------------------------------------------------------------

const BLOCKED_DESCRIPTION =
  'Paths of the targets that must stay blocked (expect: blocked): blocked (it held: refused, dropped while the path reaches hosts that must work, denied by the proxy, NXDOMAIN or sinkholed), REACHABLE (the host answered: a hole, EgressBlockedHostReachable), or could not tell (a silence on a path that reaches nothing else, a failing resolver or proxy). Their checks\' failures are not in the status above.';
const verdictCells = (matcher: JsonObject): Override => ({
  matcher,
  properties: [
    { id: 'mappings', value: BLOCKED_VERDICT },
    { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'basic' } },
  ],
});

/** The verdict on every path that must stay blocked: host × path, rows `value · host`. */
export const blockedMatrix = (): Panel =>
  table(
    'Must stay blocked (host × path)',
    BLOCKED_DESCRIPTION,
    [target(hostAfterValue(`max by (host, path, verdict, value) (${withTargetLabel(q('blockedVerdict', PATH))})`), { format: 'table', instant: true })],
    {
      transformations: [{ id: 'groupingToMatrix', options: { rowField: 'host', columnField: 'path', valueField: 'verdict', emptyValue: 'empty' } }],
      overrides: [verdictCells({ id: 'byRegexp', options: '^(?!host\\\\).*' })],
    },
  );

/** One host's paths that must stay blocked, with their verdicts. */
export const blockedTable = (): Panel =>
  table('Must stay blocked (per path)', BLOCKED_DESCRIPTION, [target(`max by (path, verdict) (${q('blockedVerdict', PATH)})`, { format: 'table', instant: true })], {
    transformations: [{ id: 'organize', options: { excludeByName: { Time: true, Value: true }, indexByName: {}, renameByName: {} } }],
    overrides: [verdictCells({ id: 'byName', options: 'verdict' })],
  });

/** 0 blocked, 1 could not tell, 2 reachable: one value a path over time. */
export const blockedHistory = (legend: string): Panel =>
  stateTimeline(
    'state-timeline',
    'Must stay blocked, over time',
    'Green while a path that must stay blocked held, orange while nothing could tell, red while its host was reachable.',
    [
      target(
        `max by (host, path) (\n  ${q('blockedVerdict', PATH, 'verdict="blocked"')} * 0\n  or ${q('blockedVerdict', PATH, 'verdict="unknown"')}\n  or ${q('blockedVerdict', PATH, 'verdict="reachable"')} * 2\n)`,
        { legend },
      ),
    ],
    { mappings: BLOCKED_STATE, steps: [[null, 'green'], [1, 'orange'], [2, 'red']] },
  );

// --- TLS ------------------------------------------------------------------------------

export function tlsRequirementMatrix(rowField: 'host_path' | 'path'): Panel {
  const query =
    rowField === 'host_path'
      ? `label_join(${hostAfterValue(`max by (host, path, requirement, value) (${withTargetLabel(q('tlsRequirement', PATH))})`)}, "host_path", " via ", "host", "path")`
      : `max by (path, requirement) (${q('tlsRequirement', PATH)})`;
  return table(
    'TLS requirements',
    'One fresh handshake per requirement, constrained to exactly that requirement. "untested" (empty): the handshake could not run (timeout, reset, proxy error), which is never "not met".',
    [target(query, { format: 'table', instant: true })],
    {
      transformations: [{ id: 'groupingToMatrix', options: { rowField, columnField: 'requirement', valueField: 'Value', emptyValue: 'null' } }],
      overrides: [
        {
          matcher: { id: 'byType', options: 'number' },
          properties: [
            { id: 'mappings', value: MET },
            { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'basic' } },
          ],
        },
      ],
    },
  );
}

export function tlsWireTable(): Panel {
  const info = (id: FamilyId, label: string, refId: string): Target =>
    target(`max by (host, value, path, ${label}) (${withTargetLabel(q(id, PATH))})`, { format: 'table', instant: true, refId });
  return table(
    'TLS a default client gets',
    'The unconstrained handshake: version, cipher, group, ALPN and issuer; whether the chain verified and whether it was re-signed by another CA (interception).',
    [
      info('tlsVersion', 'version', 'A'),
      info('tlsCipher', 'cipher', 'B'),
      info('tlsGroup', 'group', 'C'),
      info('tlsAlpn', 'alpn', 'D'),
      info('tlsIssuer', 'issuer', 'E'),
      target(`max by (host, value, path) (${withTargetLabel(q('tlsIntercepted', PATH))})`, { format: 'table', instant: true, refId: 'F' }),
      target(`max by (host, value, path) (${withTargetLabel(q('tlsVerified', PATH))})`, { format: 'table', instant: true, refId: 'G' }),
    ],
    {
      transformations: [
        { id: 'merge', options: {} },
        { id: 'organize', options: { excludeByName: { Time: true, 'Value #A': true, 'Value #B': true, 'Value #C': true, 'Value #D': true, 'Value #E': true }, indexByName: {}, renameByName: {} } },
      ],
      overrides: [colored('Value #F', INTERCEPTED, [{ id: 'displayName', value: 'intercepted' }]), colored('Value #G', YES_NO, [{ id: 'displayName', value: 'verified' }]), targetLabelColumn],
    },
  );
}

export const certExpiry = (legend: string): Panel =>
  panel(
    'bargauge',
    'Certificate expiry',
    "Time until the first certificate of the presented chain expires (on an intercepting path: the proxy's).",
    [target(`min by (host, path) (${q('tlsEarliestNotAfter', PATH)}) - time()`, { legend, instant: true })],
    {
      fieldConfig: { defaults: { unit: 's', min: 0, thresholds: thresholds([[null, 'red'], [259200, 'orange'], [1209600, 'green']]), color: { mode: 'thresholds' } }, overrides: [] },
      options: { displayMode: 'basic', orientation: 'horizontal', showUnfilled: true, valueMode: 'color', namePlacement: 'left', reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
    },
  );

// --- HTTP -----------------------------------------------------------------------------

export function httpTable(): Panel {
  const one = (id: FamilyId, refId: string): Target => target(`max by (host, value, path) (${withTargetLabel(q(id, PATH))})`, { format: 'table', instant: true, refId });
  return table(
    'HTTP version per host and path',
    'The protocol a client offering h2 and http/1.1 actually got, the status, and whether the answer is what the host should give. DOWNGRADED: the host speaks HTTP/2 but this path gives HTTP/1.1 (a TLS-inspecting proxy).',
    [one('httpVersion', 'A'), one('httpDowngraded', 'B'), one('httpStatus', 'C'), one('httpValid', 'D')],
    {
      transformations: [
        { id: 'merge', options: {} },
        { id: 'organize', options: { excludeByName: { Time: true }, indexByName: {}, renameByName: {} } },
      ],
      overrides: [
        colored('Value #A', HTTP_VERSION, [{ id: 'displayName', value: 'version' }]),
        colored('Value #B', DOWNGRADED, [{ id: 'displayName', value: 'downgraded' }]),
        rename('Value #C', 'status'),
        colored('Value #D', YES_NO, [{ id: 'displayName', value: 'expected answer' }]),
        targetLabelColumn,
      ],
    },
  );
}

export const downgradeTimeline = (legend: string): Panel =>
  stateTimeline(
    'state-timeline',
    'HTTP/2 downgrades',
    'Red while a client offering h2 gets HTTP/1.1 on a path to a host that speaks HTTP/2.',
    [target(`max by (host, path) (${q('httpDowngraded', PATH)})`, { legend })],
    { mappings: DOWNGRADED, steps: [[null, 'green'], [1, 'red']] },
  );

// --- latency --------------------------------------------------------------------------

export const tcpHeatmap = (): Panel =>
  heatmap(
    'TCP connect time',
    "egress_tcp_connect_duration_seconds: each round's slowest successful connect, per host, family and path (on a proxy path: to the proxy).",
    q('tcpConnect', PATH),
  );
export const tlsHeatmap = (): Panel => heatmap('TLS handshake time', "egress_tls_handshake_duration_seconds: each round's unconstrained handshake.", q('tlsHandshake', PATH));
export const httpHeatmap = (): Panel => heatmap('HTTP time to first byte', 'egress_http_duration_seconds{phase="first_byte"}, each round.', q('httpDuration', PATH, 'phase="first_byte"'));
export const httpPhases = (by: string, legend: string): Panel =>
  timeseries(
    'HTTP phases (p90)',
    'The 90th percentile, over hosts and the interval, of each phase of the HTTP check: dns, connect, proxy_connect (CONNECT through a proxy), tls, first_byte.',
    [target(`quantile by (${by}) (0.9, quantile_over_time(0.9, ${q('httpDuration', PATH)}[$__rate_interval]))`, { legend })],
    { unit: 's' },
  );

// --- registry pull path ---------------------------------------------------------------

// Would `docker pull` work from here, and where it breaks.
export const pullTable = (): Panel =>
  table(
    'Registry pull',
    'Per registry and path: whether the latest pull worked, the step and reason where it failed, and the blob host the registry redirected to (blocked while the registry answers: EgressRegistryBlobHostBlocked).',
    [
      target(`max by (host, port, value, path) (${withTargetLabel(q('success', 'check="registry"', PATH))})`, { format: 'table', instant: true }),
      target(`max by (host, port, value, path, step, reason) (${withTargetLabel(q('registryFailure', PATH))})`, { format: 'table', instant: true, refId: 'B' }),
      target(`max by (host, port, value, path, blob_host) (${withTargetLabel(q('registryBlobHost', PATH))})`, { format: 'table', instant: true, refId: 'C' }),
    ],
    {
      transformations: [
        { id: 'merge', options: {} },
        { id: 'organize', options: { excludeByName: { Time: true, 'Value #B': true, 'Value #C': true }, indexByName: {}, renameByName: { 'Value #A': 'pull works' } } },
      ],
      overrides: [
        {
          matcher: { id: 'byName', options: 'pull works' },
          properties: [{ id: 'mappings', value: [valueMap([['1', 'OK', 'green'], ['0', 'FAILS', 'red']])] }, { id: 'custom.cellOptions', value: { type: 'color-background' } }],
        },
        targetLabelColumn,
      ],
    },
  );
export const pullSteps = (legend: string): Panel =>
  timeseries(
    'Registry pull steps',
    'Time of each step of the latest pull: ping (GET /v2/), token, manifest, blob_redirect (a new connection to the blob host), blob_first_byte.',
    [target(`max by (host, path, step) (${q('registryStep', PATH)})`, { legend })],
    { unit: 's' },
  );
export const tokenExpiry = (): Panel =>
  stat(
    'Pull token expiry',
    'When each pull credential (a JWT password) expires: Chainguard pull tokens last 30 days by default.',
    [target(`min by (host, username) (${qx('registryCredentialExpiry')}) - time()`, { legend: '{{username}} @ {{host}}', instant: true })],
    { unit: 's', steps: [[null, 'red'], [86400 * 3, 'orange'], [86400 * 7, 'green']] },
  );

// --- DNS ------------------------------------------------------------------------------

const refreshTarget = (): Target => target(`max(${qx('refreshInterval')})`, { legend: 'firewall refresh interval', refId: 'B' });

export const ttlPanel = (extraTargets: Target[] = []): Panel =>
  timeseries(
    'DNS TTL vs firewall refresh interval',
    'The largest TTL seen lately (the configured TTL, estimated behind caching resolvers), against dns.firewall_refresh_interval (red, dashed). Below the line, IP-based firewall rules go stale before they are refreshed.',
    [target(`max by (host, type, resolver) (${q('dnsTtlMax', RESOLVER)})`, { legend: '{{host}} {{type}} via {{resolver}}' }), refreshTarget(), ...extraTargets],
    { unit: 's', overrides: [refreshLine], custom: { scaleDistribution: { type: 'log', log: 2 } } },
  );

export const addressChanges = (legend: string): Panel =>
  timeseries(
    'Address-set changes',
    'How often the answered address set changed (egress_dns_address_changes_total).',
    [target(`sum by (host, family) (increase(${q('dnsAddressChanges', RESOLVER)}[$__rate_interval]))`, { legend })],
    { custom: { drawStyle: 'bars', fillOpacity: 80 } },
  );

export const addressAge = (legend: string): Panel =>
  timeseries(
    'Address-set age vs firewall refresh interval',
    'Time since the address set last changed, against dns.firewall_refresh_interval (red, dashed). Address sets younger than the refresh interval may not be in IP-based rules yet.',
    [target(`time() - max by (host, family) (${q('dnsAddressChanged', RESOLVER)})`, { legend }), refreshTarget()],
    { unit: 's', overrides: [refreshLine] },
  );
