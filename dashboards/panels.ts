// The selectors and the panels both dashboards share. Every query filters on the
// `job` and `instance` variables; `host` and `path` narrow it further. Metric names
// come from src/metrics/families.ts, so a renamed family cannot leave a panel behind.
//
// Replicas and vantage points, as the alerts page (alerts/README.md): every panel but
// the exporter's own health merges the replicas of one vantage point (`merged`), keeps
// every other label (a zone, a cluster: tables show it as a column, counts count it),
// and names a target by its host and port (`named`), so an HA pair reads as one replica,
// two zones never hide each other and two ports of one host are two rows.
import { F } from '../src/metrics/families.js';
import type { FamilyId } from '../src/metrics/families.js';
import { heatmap, panel, stat, stateTimeline, table, target, thresholds, timeseries, valueMap } from './grafana.js';
import type { JsonObject, Override, Panel, Target } from './grafana.js';
import { REPLICA_LABELS, VANTAGE_LABELS } from './replica-labels.js';

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

/** Leaves out what a path that must stay blocked reports (it has a verdict), per exporter and target (TARGET_ID), and `path` when given. */
const BLOCKED = (...path: string[]): string => `unless on (${[TARGET_ID, ...path].join(', ')}) ${q('blockedVerdict')}`;
/**
 * A family of every check that must work: the tcp/tls/http/registry checks' on the selected
 * paths (`path=~".*"` alone would match the dns check's too: they have no path), the dns
 * check's through the selected resolvers. A path that must stay blocked is
 * left out (its failures keep the host out: the "Must stay blocked" panels show it), and so
 * is the dns check of a target with one (its NXDOMAIN or sinkhole may be the policy).
 */
export const checkSeries = (id: FamilyId): string =>
  `(${q(id, 'check!="dns"', PATH)} ${BLOCKED('path')}) or (${q(id, 'check="dns"', RESOLVER)} ${BLOCKED()})`;
/** checkSeries with a `where` label, its path or resolver (each series has one of them): one column for both. */
const checkSeriesWhere = (id: FamilyId): string => `label_join(${checkSeries(id)}, "where", "", "path", "resolver")`;

// --- replicas, vantage points, targets --------------------------------------------------

/**
 * What the replicas of one vantage point say, as one: `max without` the replica labels
 * (and `alsoDrop`), or `min` where 1 is the good value (success, met, verified), so a
 * fault one replica sees shows, as it pages. Every other label is kept.
 */
export const merged = (expr: string, how: 'max' | 'min' = 'max', ...alsoDrop: string[]): string =>
  `${how} without (${[...REPLICA_LABELS, ...alsoDrop].join(', ')}) (${expr})`;

/** One label of a name, with the separators it brings when it is set (`:` before a port). */
interface NamePart {
  label: string;
  before?: string;
  after?: string;
}

/**
 * `dest` set to the parts that are set, in order, each with its separators; a missing
 * label adds nothing, not a stray separator. Each separator is a temporary label that
 * label_replace sets (to a literal: no `$1`, as a `$` in these queries is a Grafana
 * variable's) only where its label is not empty, and that is removed again after the join.
 */
function composeLabel(expr: string, dest: string, parts: readonly NamePart[]): string {
  const sources: string[] = [];
  const temporary: string[] = [];
  let out = expr;
  for (const [i, { label, before, after }] of parts.entries()) {
    for (const [side, text] of [['before', before], ['after', after]] as const) {
      if (text === undefined) continue;
      const tmp = `egress_${side}_${i}`;
      out = `label_replace(${out}, "${tmp}", "${text}", "${label}", ".+")`;
      temporary.push(tmp);
    }
    sources.push(...(before === undefined ? [] : [`egress_before_${i}`]), label, ...(after === undefined ? [] : [`egress_after_${i}`]));
  }
  out = `label_join(${out}, "${dest}", "", ${sources.map((l) => `"${l}"`).join(', ')})`;
  for (const tmp of temporary) out = `label_replace(${out}, "${tmp}", "", "${tmp}", ".*")`;
  return out;
}

const VANTAGE_PARTS: readonly NamePart[] = VANTAGE_LABELS.map((label) => ({ label, after: ' · ' }));
const TARGET_PARTS: readonly NamePart[] = [{ label: 'host' }, { label: 'port', before: ':' }];

/** `host` as a legend names a target: after its vantage point, with its port off 443 (`eu-west · cgr.dev:8443`). */
export const named = (expr: string): string => composeLabel(expr, 'host', [...VANTAGE_PARTS, ...TARGET_PARTS]);
/** `host` as a matrix row: `named`, with the selected target label's value before the host (`eu-west · prod · cgr.dev:8443`). */
const rowNamed = (expr: string): string => composeLabel(expr, 'host', [...VANTAGE_PARTS, { label: 'value', after: ' · ' }, ...TARGET_PARTS]);
/** `label` after the vantage point, in a panel that sums up many targets. */
const afterVantage = (expr: string, label: string): string => composeLabel(expr, label, [...VANTAGE_PARTS, { label }]);

/** The labels that name one exporter (the variables select job and instance, whatever the replica labels), and its vantage point. */
const EXPORTER_ID = [...new Set(['job', 'instance', ...REPLICA_LABELS, ...VANTAGE_LABELS])];
/** One exporter's target. */
const TARGET_ID = [...EXPORTER_ID, 'host', 'port'].join(', ');

// --- target labels --------------------------------------------------------------------

/**
 * The targets (each exporter's: TARGET_ID) that the `label` and `value` variables select,
 * each with `value`: its value of the config's target label `$label`
 * (egress_target_label_info). A target without that label has the empty value, as a label
 * matcher sees a missing label: "All" selects every target, a value only the targets that
 * have it. egress_target_info always has `port`, the other series only off 443: relabelled
 * to their shape. label_replace marks the targets whose value matches `$value` (the regex
 * is anchored), and `and` keeps the marked ones.
 */
export const SELECTED_TARGETS =
  `label_replace(\n` +
  `    max by (${TARGET_ID}, value) (${qx('targetLabels', 'name=~"$label"')})\n` +
  `    or on (${TARGET_ID}) label_replace(max by (${TARGET_ID}) (${qx('targetInfo')}), "port", "", "port", "443"),\n` +
  `    "selected", "yes", "value", "$value")\n` +
  `  and on (selected) label_replace(vector(1), "selected", "yes", "", "")`;

/** A target's series (every label kept) for the selected targets only, each with its `value`: joined per replica, before replicas merge. */
export const withTargetLabel = (expr: string): string => `(${expr}) * on (${TARGET_ID}) group_left (value) (\n  ${SELECTED_TARGETS}\n)`;

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

/** What a matrix row keeps apart: a target as one vantage point sees it, and the selected target label's value. */
const ROW_KEY = [...VANTAGE_LABELS, 'value', 'host', 'port'];

/**
 * The current state of every check, one series per row (ROW_KEY) and check · where: the
 * failure reason when it fails, `ok` when it succeeds. Always returns data, healthy or
 * not. A failure any replica (or any label a row does not name) reports wins over `ok`:
 * `or on (key)` adds `ok` only where no failure is.
 */
function checkStates(): string {
  const key = [...ROW_KEY, 'check', 'where'].join(', ');
  const withReason = (value: number, reason: string): string =>
    `label_replace(min by (${key}) (${withTargetLabel(checkSeriesWhere('success'))}) == ${value}, "reason", "${reason}", "host", ".*")`;
  return labelJoin(
    rowNamed(
      `max by (${key}, reason) (${withTargetLabel(checkSeriesWhere('failureReason'))})\n` +
        `or on (${key}) ${withReason(1, 'ok')}\n` +
        `or on (${key}) ${withReason(0, 'failed')}`,
    ),
    'check_where',
    ' · ',
    'check',
    'where',
  );
}

/** `label_join(expr, dest, separator, sources...)`. */
function labelJoin(expr: string, dest: string, separator: string, ...sources: string[]): string {
  return `label_join(\n${expr},\n"${dest}", "${separator}", ${sources.map((l) => `"${l}"`).join(', ')})`;
}

/**
 * The latest state of every check, a row (or column) per target and vantage point,
 * `vantage · value · host:port` (each part only when set), a column (or row) per check · where.
 */
export const statusMatrix = (rowField: string, columnField: string, title: string, description: string): Panel =>
  table(title, description, [target(checkStates(), { format: 'table', instant: true })], {
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
  stateTimeline('status-history', 'Check status over time', description, [target(named(merged(checkSeriesWhere('success'), 'min')), { legend })], {
    mappings: OK_FAIL,
    steps: [[null, 'red'], [1, 'green']],
  });

// --- must stay blocked ----------------------------------------------------------------

const BLOCKED_DESCRIPTION =
  'Paths of the targets that must stay blocked (expect: blocked): blocked (it held: refused, dropped while the path reaches hosts that must work, denied by the proxy, NXDOMAIN or sinkholed), REACHABLE (the host answered: a hole, EgressBlockedHostReachable), or could not tell (a silence on a path that reaches nothing else, a failing resolver or proxy). Their checks\' failures are not in the status above.';

/**
 * The verdict on each path that must stay blocked as a number, 0 blocked, 1 could not tell,
 * 2 reachable, without its `verdict` label: replicas that disagree merge to the worst.
 */
const blockedState = (expr: (verdict: string) => string): string =>
  `(\n  ${expr('blocked')} * 0\n  or ${expr('unknown')}\n  or ${expr('reachable')} * 2\n)`;
const stateCells = (matcher: JsonObject): Override => ({
  matcher,
  properties: [
    { id: 'mappings', value: BLOCKED_STATE },
    { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'basic' } },
  ],
});

/** Rows `vantage · value · host:port`, a column per path. */
export const blockedMatrix = (): Panel =>
  table(
    'Must stay blocked (host × path)',
    BLOCKED_DESCRIPTION,
    [
      target(rowNamed(`max by (${[...ROW_KEY, 'path'].join(', ')}) ${blockedState((v) => withTargetLabel(q('blockedVerdict', PATH, `verdict="${v}"`)))}`), {
        format: 'table',
        instant: true,
      }),
    ],
    {
      transformations: [{ id: 'groupingToMatrix', options: { rowField: 'host', columnField: 'path', valueField: 'Value', emptyValue: 'null' } }],
      overrides: [stateCells({ id: 'byType', options: 'number' })],
    },
  );

/** One host's paths that must stay blocked (per vantage point), with their verdicts. */
export const blockedTable = (): Panel =>
  table(
    'Must stay blocked (per path)',
    BLOCKED_DESCRIPTION,
    [target(afterVantage(merged(blockedState((v) => q('blockedVerdict', PATH, `verdict="${v}"`)), 'max', 'verdict'), 'path'), { format: 'table', instant: true })],
    {
      transformations: [{ id: 'organize', options: { excludeByName: { Time: true }, indexByName: {}, renameByName: { Value: 'verdict' } } }],
      overrides: [stateCells({ id: 'byName', options: 'verdict' })],
    },
  );

/** 0 blocked, 1 could not tell, 2 reachable: one value a target and path over time. */
export const blockedHistory = (legend: string): Panel =>
  stateTimeline(
    'state-timeline',
    'Must stay blocked, over time',
    'Green while a path that must stay blocked held, orange while nothing could tell, red while its host was reachable.',
    [target(named(merged(blockedState((v) => q('blockedVerdict', PATH, `verdict="${v}"`)), 'max', 'verdict')), { legend })],
    { mappings: BLOCKED_STATE, steps: [[null, 'green'], [1, 'orange'], [2, 'red']] },
  );

// --- TLS ------------------------------------------------------------------------------

/** Rows `vantage · value · host:port via path`, a column per requirement. */
export function tlsRequirementMatrix(): Panel {
  const met = `min by (${[...ROW_KEY, 'path', 'requirement'].join(', ')}) (${withTargetLabel(q('tlsRequirement', PATH))})`;
  return table(
    'TLS requirements',
    'One fresh handshake per requirement, constrained to exactly that requirement. "untested" (empty): the handshake could not run (timeout, reset, proxy error), which is never "not met".',
    [target(labelJoin(rowNamed(met), 'host_path', ' via ', 'host', 'path'), { format: 'table', instant: true })],
    {
      transformations: [{ id: 'groupingToMatrix', options: { rowField: 'host_path', columnField: 'requirement', valueField: 'Value', emptyValue: 'null' } }],
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

/** One column of a table: a family's series for the selected targets, replicas merged, every other label kept. */
const column = (id: FamilyId, refId: string, how: 'max' | 'min' = 'max', ...matchers: string[]): Target =>
  target(merged(withTargetLabel(q(id, ...matchers)), how), { format: 'table', instant: true, refId });

export function tlsWireTable(): Panel {
  return table(
    'TLS a default client gets',
    'The unconstrained handshake: version, cipher, group, ALPN and issuer; whether the chain verified and whether it was re-signed by another CA (interception).',
    [
      column('tlsVersion', 'A', 'max', PATH),
      column('tlsCipher', 'B', 'max', PATH),
      column('tlsGroup', 'C', 'max', PATH),
      column('tlsAlpn', 'D', 'max', PATH),
      column('tlsIssuer', 'E', 'max', PATH),
      column('tlsIntercepted', 'F', 'max', PATH),
      column('tlsVerified', 'G', 'min', PATH),
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
    [target(`${named(merged(q('tlsEarliestNotAfter', PATH), 'min'))} - time()`, { legend, instant: true })],
    {
      fieldConfig: { defaults: { unit: 's', min: 0, thresholds: thresholds([[null, 'red'], [259200, 'orange'], [1209600, 'green']]), color: { mode: 'thresholds' } }, overrides: [] },
      options: { displayMode: 'basic', orientation: 'horizontal', showUnfilled: true, valueMode: 'color', namePlacement: 'left', reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
    },
  );

// --- HTTP -----------------------------------------------------------------------------

export function httpTable(): Panel {
  return table(
    'HTTP version per host and path',
    'The protocol a client offering h2 and http/1.1 actually got, the status, and whether the answer is what the host should give. DOWNGRADED: the host speaks HTTP/2 but this path gives HTTP/1.1 (a TLS-inspecting proxy).',
    // The version a replica fell back to shows (min), as does a replica's downgrade or wrong answer.
    [column('httpVersion', 'A', 'min', PATH), column('httpDowngraded', 'B', 'max', PATH), column('httpStatus', 'C', 'max', PATH), column('httpValid', 'D', 'min', PATH)],
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
    [target(named(merged(q('httpDowngraded', PATH))), { legend })],
    { mappings: DOWNGRADED, steps: [[null, 'green'], [1, 'red']] },
  );

// --- latency --------------------------------------------------------------------------

// Replicas merged: an HA pair puts one sample per target and round in a heatmap, not two.
export const tcpHeatmap = (): Panel =>
  heatmap(
    'TCP connect time',
    "egress_tcp_connect_duration_seconds: each round's slowest successful connect, per host, family and path (on a proxy path: to the proxy).",
    merged(q('tcpConnect', PATH)),
  );
export const tlsHeatmap = (): Panel => heatmap('TLS handshake time', "egress_tls_handshake_duration_seconds: each round's unconstrained handshake.", merged(q('tlsHandshake', PATH)));
export const httpHeatmap = (): Panel => heatmap('HTTP time to first byte', 'egress_http_duration_seconds{phase="first_byte"}, each round.', merged(q('httpDuration', PATH, 'phase="first_byte"')));
/** The p90 over the targets, per `by` and vantage point (named before the phase). */
export const httpPhases = (by: string, legend: string): Panel =>
  timeseries(
    'HTTP phases (p90)',
    'The 90th percentile, over hosts and the interval, of each phase of the HTTP check: dns, connect, proxy_connect (CONNECT through a proxy), tls, first_byte.',
    [
      target(
        afterVantage(
          `quantile by (${[by, ...VANTAGE_LABELS].join(', ')}) (0.9, ${merged(`quantile_over_time(0.9, ${q('httpDuration', PATH)}[$__rate_interval])`)})`,
          'phase',
        ),
        { legend },
      ),
    ],
    { unit: 's' },
  );

// --- registry pull path ---------------------------------------------------------------

// Would `docker pull` work from here, and where it breaks.
export const pullTable = (): Panel =>
  table(
    'Registry pull',
    'Per registry and path: whether the latest pull worked, the step and reason where it failed, and the blob host the registry redirected to (blocked while the registry answers: EgressRegistryBlobHostBlocked).',
    [column('success', 'A', 'min', 'check="registry"', PATH), column('registryFailure', 'B', 'max', PATH), column('registryBlobHost', 'C', 'max', PATH)],
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
    [target(named(merged(q('registryStep', PATH))), { legend })],
    { unit: 's' },
  );
export const tokenExpiry = (): Panel =>
  stat(
    'Pull token expiry',
    'When each pull credential (a JWT password) expires: Chainguard pull tokens last 30 days by default.',
    [target(`${named(merged(qx('registryCredentialExpiry'), 'min'))} - time()`, { legend: '{{username}} @ {{host}}', instant: true })],
    { unit: 's', steps: [[null, 'red'], [86400 * 3, 'orange'], [86400 * 7, 'green']] },
  );

// --- DNS ------------------------------------------------------------------------------

const refreshTarget = (): Target => target(`max(${qx('refreshInterval')})`, { legend: 'firewall refresh interval', refId: 'B' });

export const ttlPanel = (extraTargets: Target[] = []): Panel =>
  timeseries(
    'DNS TTL vs firewall refresh interval',
    'The largest TTL seen lately (the configured TTL, estimated behind caching resolvers), against dns.firewall_refresh_interval (red, dashed). Below the line, IP-based firewall rules go stale before they are refreshed.',
    [target(named(merged(q('dnsTtlMax', RESOLVER))), { legend: '{{host}} {{type}} via {{resolver}}' }), refreshTarget(), ...extraTargets],
    { unit: 's', overrides: [refreshLine], custom: { scaleDistribution: { type: 'log', log: 2 } } },
  );

export const addressChanges = (legend: string): Panel =>
  timeseries(
    'Address-set changes',
    'How often the answered address set changed (egress_dns_address_changes_total), every resolver together.',
    [target(named(`sum without (resolver) (${merged(`increase(${q('dnsAddressChanges', RESOLVER)}[$__rate_interval])`)})`), { legend })],
    { custom: { drawStyle: 'bars', fillOpacity: 80 } },
  );

export const addressAge = (legend: string): Panel =>
  timeseries(
    'Address-set age vs firewall refresh interval',
    'Time since the address set last changed, against dns.firewall_refresh_interval (red, dashed). Address sets younger than the refresh interval may not be in IP-based rules yet.',
    [target(`time() - ${named(merged(q('dnsAddressChanged', RESOLVER), 'max', 'resolver'))}`, { legend }), refreshTarget()],
    { unit: 's', overrides: [refreshLine] },
  );
