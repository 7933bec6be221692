#!/usr/bin/env node
// Generates the Grafana dashboards in this directory. The JSON files are committed;
// a test fails when they differ from what this script writes.
//
//   node dashboards/generate.mjs            write dashboards/*.json
//   node dashboards/generate.mjs --check    exit 1 when a committed file is out of date
//
// Every panel and target uses the `datasource` variable (`${datasource}`): no
// datasource id is hard-coded. Every query filters on the `job` and `instance`
// variables; `host` and `path` narrow it further.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const DS = { type: 'prometheus', uid: '${datasource}' };
const SCHEMA_VERSION = 39;

// --- selectors ------------------------------------------------------------------------

const EXPORTER = 'job=~"$job", instance=~"$instance"';
/** `{job, instance, host, ...extra}` */
const sel = (...extra) => `{${[EXPORTER, 'host=~"$host"', ...extra].join(', ')}}`;
/** The exporter only (no host label). */
const exp = (...extra) => `{${[EXPORTER, ...extra].join(', ')}}`;
/** Paths of tcp/tls/http checks, and resolvers of the dns check (also carried in `path`). */
const PATHS = 'path=~"$path|$resolver"';

// --- panels -------------------------------------------------------------------------

let nextId = 1;

function target(expr, { legend = '__auto', refId = 'A', format = 'time_series', instant = false, hide = false } = {}) {
  return {
    datasource: DS,
    refId,
    expr,
    legendFormat: legend,
    format,
    instant,
    range: !instant,
    ...(hide ? { hide } : {}),
    editorMode: 'code',
  };
}

const thresholds = (steps) => ({ mode: 'absolute', steps: steps.map(([value, color]) => ({ value, color })) });
const valueMap = (entries) => ({
  type: 'value',
  options: Object.fromEntries(entries.map(([value, text, color], index) => [value, { text, color, index }])),
});

function panel(type, title, description, targets, extra = {}) {
  return {
    id: nextId++,
    type,
    title,
    description,
    datasource: DS,
    targets,
    ...extra,
  };
}

function table(title, description, targets, { transformations = [], overrides = [], defaults = {}, options = {} } = {}) {
  return panel('table', title, description, targets, {
    transformations,
    fieldConfig: {
      defaults: { custom: { align: 'auto', cellOptions: { type: 'auto' }, inspect: false }, mappings: [], ...defaults },
      overrides,
    },
    options: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' }, ...options },
  });
}

function timeseries(title, description, targets, { unit = 'short', overrides = [], custom = {}, defaults = {}, options = {} } = {}) {
  return panel('timeseries', title, description, targets, {
    fieldConfig: {
      defaults: {
        unit,
        color: { mode: 'palette-classic' },
        custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 0, showPoints: 'never', spanNulls: false, ...custom },
        ...defaults,
      },
      overrides,
    },
    options: { legend: { displayMode: 'table', placement: 'right', showLegend: true, calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' }, ...options },
  });
}

// The latencies are gauges of each round's value (histograms are opt-in): the
// heatmap buckets those samples itself, on a log scale.
function heatmap(title, description, expr) {
  return panel('heatmap', title, description, [target(expr, { legend: '{{host}} {{path}}' })], {
    options: {
      calculate: true,
      calculation: { yBuckets: { mode: 'count', value: '24', scale: { type: 'log', log: 2 } } },
      cellGap: 1,
      color: { mode: 'scheme', scheme: 'Oranges', scale: 'exponential', exponent: 0.5, fill: 'dark-orange', reverse: false, steps: 64 },
      yAxis: { axisPlacement: 'left', unit: 's', reverse: false },
      rowsFrame: { layout: 'auto' },
      cellValues: { unit: 'short' },
      tooltip: { mode: 'single', yHistogram: true, showColorScale: false },
      legend: { show: true },
      exemplars: { color: 'rgba(255,0,255,0.7)' },
    },
    fieldConfig: { defaults: { custom: { scaleDistribution: { type: 'linear' }, hideFrom: { legend: false, tooltip: false, viz: false } } }, overrides: [] },
  });
}

function stat(title, description, targets, { unit = 'short', steps = [[null, 'green']], mappings = [], colorMode = 'background', textMode = 'auto', reduce = 'lastNotNull' } = {}) {
  return panel('stat', title, description, targets, {
    fieldConfig: { defaults: { unit, mappings, thresholds: thresholds(steps), color: { mode: 'thresholds' } }, overrides: [] },
    options: {
      reduceOptions: { calcs: [reduce], fields: '', values: false },
      colorMode,
      graphMode: 'none',
      justifyMode: 'auto',
      textMode,
      orientation: 'auto',
    },
  });
}

function stateTimeline(type, title, description, targets, { mappings, steps }) {
  return panel(type, title, description, targets, {
    fieldConfig: {
      defaults: { mappings, thresholds: thresholds(steps), color: { mode: 'thresholds' }, custom: { fillOpacity: 80, lineWidth: 0 } },
      overrides: [],
    },
    options: { showValue: 'never', rowHeight: 0.9, legend: { showLegend: false }, tooltip: { mode: 'single' }, ...(type === 'state-timeline' ? { mergeValues: true } : {}) },
  });
}

function row(title) {
  return { id: nextId++, type: 'row', title, collapsed: false, panels: [] };
}

/** Lays panels out left to right, 24 columns wide; a row starts a new line. */
function layout(items) {
  const panels = [];
  let x = 0;
  let y = 0;
  let lineHeight = 0;
  for (const [item, w = 24, h = 8] of items) {
    if (item.type === 'row') {
      y += lineHeight;
      x = 0;
      lineHeight = 0;
      panels.push({ ...item, gridPos: { x: 0, y, w: 24, h: 1 } });
      y += 1;
      continue;
    }
    if (x + w > 24) {
      x = 0;
      y += lineHeight;
      lineHeight = 0;
    }
    panels.push({ ...item, gridPos: { x, y, w, h } });
    x += w;
    lineHeight = Math.max(lineHeight, h);
  }
  return panels;
}

// --- shared pieces ------------------------------------------------------------------

const OK_FAIL = [valueMap([['1', 'OK', 'green'], ['0', 'FAIL', 'red']])];
const MET = [
  valueMap([['1', 'met', 'green'], ['0', 'NOT MET', 'red']]),
  { type: 'special', options: { match: 'null', result: { text: 'untested', color: 'text', index: 2 } } },
];
const HTTP_VERSION = [valueMap([['2', 'HTTP/2', 'green'], ['1.1', 'HTTP/1.1', 'orange'], ['1', 'HTTP/1.0', 'orange']])];
const DOWNGRADED = [valueMap([['1', 'DOWNGRADED', 'red'], ['0', 'no', 'green']])];
const YES_NO = [valueMap([['1', 'yes', 'green'], ['0', 'NO', 'red']])];
const INTERCEPTED = [valueMap([['1', 'INTERCEPTED', 'red'], ['0', 'no', 'green']])];
const REASON_CELLS = [
  valueMap([['ok', 'ok', 'green']]),
  { type: 'regex', options: { pattern: '(.+)', result: { text: '$1', color: 'red', index: 1 } } },
];

const colored = (name, mappings, extra = []) => ({
  matcher: { id: 'byName', options: name },
  properties: [
    { id: 'mappings', value: mappings },
    { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'basic' } },
    ...extra,
  ],
});
const rename = (name, displayName) => ({ matcher: { id: 'byName', options: name }, properties: [{ id: 'displayName', value: displayName }] });
const refreshLine = {
  matcher: { id: 'byFrameRefID', options: 'B' },
  properties: [
    { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
    { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
    { id: 'custom.lineWidth', value: 2 },
  ],
};

/**
 * The current state of every check, one series per (host, check, path): the failure
 * reason when it fails, `ok` when it succeeds. Always returns data, healthy or not.
 */
function checkStates(by) {
  const labels = by.join(', ');
  const withReason = (value, reason) => `label_replace(max by (${labels}) (egress_probe_success${sel(PATHS)}) == ${value}, "reason", "${reason}", "host", ".*")`;
  return (
    `label_join(\n` +
    `  max by (${labels}, reason) (egress_probe_failure_reason${sel(PATHS)})\n` +
    `  or on (${labels}) ${withReason(1, 'ok')}\n` +
    `  or on (${labels}) ${withReason(0, 'failed')},\n` +
    `  "check_path", " · ", "check", "path")`
  );
}

const statusMatrix = (rowField, columnField, title, description) =>
  table(title, description, [target(checkStates(['host', 'check', 'path']), { format: 'table', instant: true })], {
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

const statusHistory = (legend, description) =>
  stateTimeline('status-history', 'Check status over time', description, [target(`max by (host, check, path) (egress_probe_success${sel(PATHS)})`, { legend })], {
    mappings: OK_FAIL,
    steps: [[null, 'red'], [1, 'green']],
  });

function tlsRequirementMatrix(rowField) {
  const query =
    rowField === 'host_path'
      ? `label_join(max by (host, path, requirement) (egress_tls_requirement_met${sel('path=~"$path"')}), "host_path", " via ", "host", "path")`
      : `max by (path, requirement) (egress_tls_requirement_met${sel('path=~"$path"')})`;
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

function tlsWireTable() {
  const info = (metric, label, refId) => target(`max by (host, path, ${label}) (${metric}${sel('path=~"$path"')})`, { format: 'table', instant: true, refId });
  return table(
    'TLS a default client gets',
    'The unconstrained handshake: version, cipher, group, ALPN and issuer; whether the chain verified and whether it was re-signed by another CA (interception).',
    [
      info('egress_tls_version_info', 'version', 'A'),
      info('egress_tls_cipher_info', 'cipher', 'B'),
      info('egress_tls_group_info', 'group', 'C'),
      info('egress_tls_alpn_info', 'alpn', 'D'),
      info('egress_tls_cert_issuer_info', 'issuer', 'E'),
      target(`max by (host, path) (egress_tls_intercepted${sel('path=~"$path"')})`, { format: 'table', instant: true, refId: 'F' }),
      target(`max by (host, path) (egress_tls_verified${sel('path=~"$path"')})`, { format: 'table', instant: true, refId: 'G' }),
    ],
    {
      transformations: [
        { id: 'merge', options: {} },
        { id: 'organize', options: { excludeByName: { Time: true, 'Value #A': true, 'Value #B': true, 'Value #C': true, 'Value #D': true, 'Value #E': true }, indexByName: {}, renameByName: {} } },
      ],
      overrides: [
        colored('Value #F', INTERCEPTED, [{ id: 'displayName', value: 'intercepted' }]),
        colored('Value #G', YES_NO, [{ id: 'displayName', value: 'verified' }]),
      ],
    },
  );
}

function httpTable() {
  const q = (metric, refId) => target(`max by (host, path) (${metric}${sel('path=~"$path"')})`, { format: 'table', instant: true, refId });
  return table(
    'HTTP version per host and path',
    'The protocol a client offering h2 and http/1.1 actually got, the status, and whether the answer is what the host should give. DOWNGRADED: the host speaks HTTP/2 but this path gives HTTP/1.1 (a TLS-inspecting proxy).',
    [q('egress_http_version', 'A'), q('egress_http2_downgraded', 'B'), q('egress_http_status_code', 'C'), q('egress_http_response_valid', 'D')],
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
      ],
    },
  );
}

const downgradeTimeline = (legend) =>
  stateTimeline('state-timeline', 'HTTP/2 downgrades', 'Red while a client offering h2 gets HTTP/1.1 on a path to a host that speaks HTTP/2.', [target(`max by (host, path) (egress_http2_downgraded${sel('path=~"$path"')})`, { legend })], {
    mappings: DOWNGRADED,
    steps: [[null, 'green'], [1, 'red']],
  });

const certExpiry = (legend) =>
  panel('bargauge', 'Certificate expiry', 'Time until the first certificate of the presented chain expires (on an intercepting path: the proxy\'s).', [
    target(`min by (host, path) (egress_tls_chain_earliest_not_after_timestamp_seconds${sel('path=~"$path"')}) - time()`, { legend, instant: true }),
  ], {
    fieldConfig: { defaults: { unit: 's', min: 0, thresholds: thresholds([[null, 'red'], [259200, 'orange'], [1209600, 'green']]), color: { mode: 'thresholds' } }, overrides: [] },
    options: { displayMode: 'basic', orientation: 'horizontal', showUnfilled: true, valueMode: 'color', namePlacement: 'left', reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
  });

const tcpHeatmap = () =>
  heatmap('TCP connect time', 'egress_tcp_connect_duration_seconds: each round\'s slowest successful connect, per host, family and path (on a proxy path: to the proxy).', `egress_tcp_connect_duration_seconds${sel('path=~"$path"')}`);
const tlsHeatmap = () =>
  heatmap('TLS handshake time', 'egress_tls_handshake_duration_seconds: each round\'s unconstrained handshake.', `egress_tls_handshake_duration_seconds${sel('path=~"$path"')}`);
const httpHeatmap = () =>
  heatmap('HTTP time to first byte', 'egress_http_duration_seconds{phase="first_byte"}, each round.', `egress_http_duration_seconds${sel('path=~"$path"', 'phase="first_byte"')}`);
const httpPhases = (by, legend) =>
  timeseries(
    'HTTP phases (p90)',
    'The 90th percentile, over hosts and the interval, of each phase of the HTTP check: dns, connect, proxy_connect (CONNECT through a proxy), tls, first_byte.',
    [target(`quantile by (${by}) (0.9, quantile_over_time(0.9, egress_http_duration_seconds${sel('path=~"$path"')}[$__rate_interval]))`, { legend })],
    { unit: 's' },
  );

// The registry pull path: would `docker pull` work from here, and where it breaks.
const pullTable = () =>
  table('Registry pull', 'Per registry and path: whether the latest pull worked, the step and reason where it failed, and the blob host the registry redirected to (blocked while the registry answers: EgressRegistryBlobHostBlocked).', [
    target(`max by (host, port, path) (egress_probe_success${sel('check="registry"', 'path=~"$path"')})`, { format: 'table', instant: true }),
    target(`max by (host, port, path, step, reason) (egress_registry_failure_reason${sel('path=~"$path"')})`, { format: 'table', instant: true, refId: 'B' }),
    target(`max by (host, port, path, blob_host) (egress_registry_blob_host_info${sel('path=~"$path"')})`, { format: 'table', instant: true, refId: 'C' }),
  ], {
    transformations: [
      { id: 'merge', options: {} },
      { id: 'organize', options: { excludeByName: { Time: true, 'Value #B': true, 'Value #C': true }, indexByName: {}, renameByName: { 'Value #A': 'pull works' } } },
    ],
    overrides: [{ matcher: { id: 'byName', options: 'pull works' }, properties: [{ id: 'mappings', value: [valueMap([['1', 'OK', 'green'], ['0', 'FAILS', 'red']])] }, { id: 'custom.cellOptions', value: { type: 'color-background' } }] }],
  });
const pullSteps = (legend) =>
  timeseries('Registry pull steps', 'Time of each step of the latest pull: ping (GET /v2/), token, manifest, blob_redirect (a new connection to the blob host), blob_first_byte.', [
    target(`max by (host, path, step) (egress_registry_step_duration_seconds${sel('path=~"$path"')})`, { legend }),
  ], { unit: 's' });
const tokenExpiry = () =>
  stat('Pull token expiry', 'When each pull credential (a JWT password) expires: Chainguard pull tokens last 30 days by default.', [
    target(`min by (host, username) (egress_registry_credential_expiry_timestamp_seconds${exp()}) - time()`, { legend: '{{username}} @ {{host}}', instant: true }),
  ], { unit: 's', steps: [[null, 'red'], [86400 * 3, 'orange'], [86400 * 7, 'green']] });

const refreshTarget = () => target(`max(egress_dns_firewall_refresh_interval_seconds${exp()})`, { legend: 'firewall refresh interval', refId: 'B' });

const ttlPanel = (extraTargets = []) =>
  timeseries(
    'DNS TTL vs firewall refresh interval',
    'The largest TTL seen lately (the configured TTL, estimated behind caching resolvers), against dns.firewall_refresh_interval (red, dashed). Below the line, IP-based firewall rules go stale before they are refreshed.',
    [target(`max by (host, type, resolver) (egress_dns_ttl_max_seconds${sel('resolver=~"$resolver"')})`, { legend: '{{host}} {{type}} via {{resolver}}' }), refreshTarget(), ...extraTargets],
    { unit: 's', overrides: [refreshLine], custom: { scaleDistribution: { type: 'log', log: 2 } } },
  );

const addressChanges = (legend) =>
  timeseries(
    'Address-set changes',
    'How often the answered address set changed (egress_dns_address_changes_total).',
    [target(`sum by (host, family) (increase(egress_dns_address_changes_total${sel('resolver=~"$resolver"')}[$__rate_interval]))`, { legend })],
    { custom: { drawStyle: 'bars', fillOpacity: 80 } },
  );

const addressAge = (legend) =>
  timeseries(
    'Address-set age vs firewall refresh interval',
    'Time since the address set last changed, against dns.firewall_refresh_interval (red, dashed). Address sets younger than the refresh interval may not be in IP-based rules yet.',
    [target(`time() - max by (host, family) (egress_dns_address_set_changed_timestamp_seconds${sel('resolver=~"$resolver"')})`, { legend }), refreshTarget()],
    { unit: 's', overrides: [refreshLine] },
  );

// --- variables ----------------------------------------------------------------------

function queryVariable(name, label, query, { multi = true, includeAll = true } = {}) {
  return {
    type: 'query',
    name,
    label,
    datasource: DS,
    query: { query, refId: `${name}-variable` },
    definition: query,
    refresh: 2,
    regex: '',
    sort: 1,
    multi,
    includeAll,
    ...(includeAll ? { allValue: '.*' } : {}),
    current: {},
    options: [],
    hide: 0,
  };
}

function variables({ singleHost }) {
  return {
    list: [
      { type: 'datasource', name: 'datasource', label: 'Data source', query: 'prometheus', regex: '', current: {}, options: [], refresh: 1, hide: 0, multi: false, includeAll: false },
      queryVariable('job', 'Job', 'label_values(egress_exporter_build_info, job)'),
      queryVariable('instance', 'Instance', 'label_values(egress_exporter_build_info{job=~"$job"}, instance)'),
      queryVariable('host', 'Host', `label_values(egress_target_info${exp()}, host)`, singleHost ? { multi: false, includeAll: false } : {}),
      queryVariable('path', 'Path', `label_values(egress_probe_success${exp('host=~"$host"', 'check!="dns"')}, path)`),
      queryVariable('resolver', 'Resolver', `label_values(egress_probe_success${exp('host=~"$host"', 'check="dns"')}, path)`),
    ],
  };
}

function dashboard({ uid, title, description, panels, singleHost }) {
  return {
    uid,
    title,
    description,
    tags: ['egress', 'egress-exporter'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: '',
    refresh: '1m',
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    annotations: { list: [] },
    links: [{ type: 'dashboards', title: 'Egress', tags: ['egress'], asDropdown: false, includeVars: true, keepTime: true, icon: 'external link', targetBlank: false }],
    templating: variables({ singleHost }),
    panels,
  };
}

// --- the dashboards -------------------------------------------------------------------

function overview() {
  nextId = 1;
  const count = (expr, title, description, refId = 'A') => stat(title, description, [target(`${expr} or vector(0)`, { refId, instant: true })], { steps: [[null, 'green'], [1, 'red']] });
  return dashboard({
    uid: 'egress-overview',
    title: 'Egress / Overview',
    description: 'Whether this network lets its machines reach the hosts they must reach, the way those hosts require: DNS, TCP, TLS and HTTP, directly and through each proxy.',
    singleHost: false,
    panels: layout([
      [count(`count(egress_probe_success${sel(PATHS)} == 0)`, 'Checks failing', 'Checks whose latest run failed.'), 5, 4],
      [count(`count(egress_tls_requirement_met${sel('path=~"$path"')} == 0)`, 'TLS requirements not met', 'Requirement verdicts of "not met" (untested ones are not counted).'), 5, 4],
      [count(`count(egress_http2_downgraded${sel('path=~"$path"')} == 1)`, 'HTTP/2 downgrades', 'Host and path pairs where h2 was offered and HTTP/1.1 came back.'), 5, 4],
      [count(`count(egress_tls_intercepted${sel('path=~"$path"')} == 1)`, 'Intercepted paths', 'Host and path pairs whose certificate chain was re-signed by another CA.'), 5, 4],
      [stat('Hosts', 'Targets probed.', [target(`count(egress_target_info${sel()})`, { instant: true })], { colorMode: 'none' }), 4, 4],

      [row('Status')],
      [statusMatrix('host', 'check_path', 'Status matrix (host × check · path)', 'The latest run of every check: "ok", or the reason it failed (see the README\'s failure reasons). For dns the path is the resolver.'), 24, 12],
      [statusHistory('{{host}} · {{check}} · {{path}}', 'Every check over time: green OK, red FAIL.'), 24, 12],

      [row('TLS')],
      [tlsRequirementMatrix('host_path'), 24, 10],
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
      [timeseries('Event-loop stalls', 'The largest stall of the probing thread in the last minute (a latency measured during one carries it), and prom-client\'s p99 lag.', [
        target(`max by (instance) (egress_exporter_event_loop_stall_max_seconds${exp()})`, { legend: 'largest stall {{instance}}' }),
        target(`max by (instance) (nodejs_eventloop_lag_p99_seconds${exp()})`, { legend: 'lag p99 {{instance}}', refId: 'B' }),
      ], { unit: 's' }), 8, 8],
      [timeseries('Rounds and failures', 'Rounds finished per second (every check once), and failed checks per second by check.', [
        target(`sum(rate(egress_exporter_rounds_total${exp()}[$__rate_interval]))`, { legend: 'rounds' }),
        target(`sum by (check) (rate(egress_probe_failures_total${exp()}[$__rate_interval]))`, { legend: 'failed {{check}}', refId: 'B' }),
      ], { unit: 'ops' }), 8, 8],
      [timeseries('Round overruns', 'Rounds skipped because the previous round of the host still ran: raise interval, lower timeout or raise concurrency.', [target(`sum by (host) (increase(egress_exporter_round_overruns_total${exp()}[$__rate_interval]))`, { legend: '{{host}}' })], { custom: { drawStyle: 'bars', fillOpacity: 80 } }), 8, 8],
      [stat('Last config reload', 'When the configuration was last loaded successfully.', [target(`max by (instance) (egress_exporter_config_last_reload_success_timestamp_seconds${exp()}) * 1000`, { legend: '{{instance}}', instant: true })], { unit: 'dateTimeFromNow', colorMode: 'none' }), 6, 4],
      [stat('Last reload', 'Whether the last configuration reload worked.', [target(`min by (instance) (egress_exporter_config_last_reload_successful${exp()})`, { legend: '{{instance}}', instant: true })], { mappings: [valueMap([['1', 'OK', 'green'], ['0', 'FAILED', 'red']])], steps: [[null, 'red'], [1, 'green']] }), 6, 4],
      [stat('Oldest check result', 'Age of the oldest latest result: grows when the scheduler is stuck.', [target(`max by (instance) (time() - egress_probe_last_run_timestamp_seconds${exp()})`, { legend: '{{instance}}', instant: true })], { unit: 's', steps: [[null, 'green'], [600, 'red']] }), 6, 4],
      [table('Exporter build', 'egress_exporter_build_info.', [target(`egress_exporter_build_info${exp()}`, { format: 'table', instant: true })], { transformations: [{ id: 'organize', options: { excludeByName: { Time: true, Value: true, __name__: true }, indexByName: {}, renameByName: {} } }] }), 6, 4],
    ]),
  });
}

function host() {
  nextId = 1;
  return dashboard({
    uid: 'egress-host',
    title: 'Egress / Host',
    description: 'Everything the egress exporter knows about one host, per path and resolver.',
    singleHost: true,
    panels: layout([
      [table('Target', 'Where the host comes from and what it is for.', [target(`egress_target_info${sel()}`, { format: 'table', instant: true })], { transformations: [{ id: 'organize', options: { excludeByName: { Time: true, Value: true, __name__: true, job: true }, indexByName: {}, renameByName: {} } }] }), 24, 3],

      [row('Status')],
      [statusMatrix('check', 'path', 'Checks (check × path)', 'The latest run of every check on every path: "ok", or the reason it failed. For dns the path is the resolver.'), 12, 7],
      [statusHistory('{{check}} · {{path}}', 'Every check over time: green OK, red FAIL.'), 12, 7],

      [row('DNS')],
      [ttlPanel([target(`max by (type, resolver) (egress_dns_ttl_seconds${sel('resolver=~"$resolver"')})`, { legend: 'TTL now {{type}} via {{resolver}}', refId: 'C' })]), 12, 8],
      [timeseries('Addresses', 'Addresses in the latest answer, per family and resolver.', [target(`max by (family, resolver) (egress_dns_addresses${sel('resolver=~"$resolver"')})`, { legend: '{{family}} via {{resolver}}' })]), 12, 8],
      [addressChanges('{{family}}'), 8, 8],
      [addressAge('{{family}}'), 8, 8],
      [timeseries('TTL drift and CNAME chain', 'Changes of the estimated TTL (bars), and CNAME hops to the addresses.', [
        target(`sum by (type) (increase(egress_dns_ttl_changes_total${sel('resolver=~"$resolver"')}[$__rate_interval]))`, { legend: 'TTL changes {{type}}' }),
        target(`max by (resolver) (egress_dns_cname_chain_length${sel('resolver=~"$resolver"')})`, { legend: 'CNAME hops via {{resolver}}', refId: 'B' }),
      ]), 8, 8],
      [heatmap('DNS check time', 'egress_probe_duration_seconds{check="dns"}: the A and AAAA lookups of each round, per resolver.', `egress_probe_duration_seconds${sel('check="dns"', 'path=~"$resolver"')}`), 24, 7],

      [row('TCP')],
      [timeseries('Reachable addresses', 'Addresses that accepted a connection (solid) out of those tried (dashed), per family and path. A gap between them is a stale IP rule.', [
        target(`max by (family, path) (egress_tcp_addresses_reachable${sel('path=~"$path"')})`, { legend: 'reachable {{family}} {{path}}' }),
        target(`max by (family, path) (egress_tcp_addresses_probed${sel('path=~"$path"')})`, { legend: 'probed {{family}} {{path}}', refId: 'B' }),
      ], { overrides: [{ matcher: { id: 'byFrameRefID', options: 'B' }, properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }] }] }), 12, 8],
      [timeseries('TCP connect time (p50, p90)', 'From egress_tcp_connect_duration_seconds, per path.', [
        target(`max by (path) (quantile_over_time(0.5, egress_tcp_connect_duration_seconds${sel('path=~"$path"')}[$__rate_interval]))`, { legend: 'p50 {{path}}' }),
        target(`max by (path) (quantile_over_time(0.9, egress_tcp_connect_duration_seconds${sel('path=~"$path"')}[$__rate_interval]))`, { legend: 'p90 {{path}}', refId: 'B' }),
      ], { unit: 's' }), 12, 8],
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

export function renderDashboards() {
  return {
    'egress-overview.json': `${JSON.stringify(overview(), null, 2)}\n`,
    'egress-host.json': `${JSON.stringify(host(), null, 2)}\n`,
  };
}

function main(argv) {
  const check = argv.includes('--check');
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]}`);
  let stale = false;
  for (const [name, text] of Object.entries(renderDashboards())) {
    const file = join(HERE, name);
    if (!check) {
      writeFileSync(file, text);
      continue;
    }
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      // missing counts as out of date
    }
    if (current !== text) {
      console.error(`${file} is out of date: run node dashboards/generate.mjs`);
      stale = true;
    }
  }
  if (stale) process.exit(1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
