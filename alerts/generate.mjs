#!/usr/bin/env node
// Generates alerts/egress-rules.yml from alerts/generator/config.yml: thresholds,
// `for:` durations and selectors live in that one file; the expressions live here.
// The config sits in a directory of its own so that `alerts/*.yml` is rule files
// only (`promtool check rules alerts/*.yml`, Prometheus `rule_files: [alerts/*.yml]`).
//
//   node alerts/generate.mjs                      write alerts/egress-rules.yml
//   node alerts/generate.mjs --check              exit 1 when the committed file differs
//   node alerts/generate.mjs --stdout             print the rules instead of writing them
//   node alerts/generate.mjs --config F --out G   another config, another output
//   node alerts/generate.mjs --for 30s            override every `for:` (end-to-end tests)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const HERE = dirname(fileURLToPath(import.meta.url));
const DEFAULT_CONFIG = join(HERE, 'generator', 'config.yml');
const DEFAULT_OUT = join(HERE, 'egress-rules.yml');

const SEVERITIES = ['critical', 'warning', 'info'];
const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

/** Reasons of the dns check that mean the name could not be resolved (sinkholed has its own alert). */
const DNS_FAILURE_REASONS = ['nxdomain', 'nodata', 'servfail', 'refused', 'timeout', 'unreachable', 'dns_error'];
/** Reasons of the tcp check that mean the host itself refused or never answered. */
const HOST_UNREACHABLE_REASONS = ['refused', 'timeout', 'reset', 'unreachable'];
/** The proxy refuses the host by policy or wants credentials. */
const PROXY_DENIED_REASONS = ['proxy_denied', 'proxy_auth_required'];
/** The proxy is down, stalls, cannot reach the host, or breaks the tunnel. */
const PROXY_FAILING_REASONS = ['proxy_refused', 'proxy_timeout', 'proxy_bad_gateway', 'proxy_closed', 'proxy_protocol_error'];
/** TLS check reasons with no verdict that a client would also suffer: not TLS, stalls, resets. */
const TLS_BROKEN_REASONS = ['tls_handshake_failed', 'timeout', 'reset'];
/** HTTP check reasons that mean no usable answer came back (garbage frames, no SETTINGS, HTTP/1.1 after ALPN h2, a stream never answered). */
const HTTP_BROKEN_REASONS = ['http_bad_response', 'timeout', 'reset'];
/** HTTP check reasons after which its version and downgrade verdict are still current. */
const HTTP_VERDICT_REASONS = ['http_bad_response', 'http2_downgraded', 'tls_cert_invalid'];

const oneOf = (values) => values.join('|');

// --- config -------------------------------------------------------------------------

/** Every alert, its group, and the keys its config block may (or must) have. */
const ALERT_KEYS = {
  EgressHostUnreachable: { group: 'connectivity', keys: [] },
  EgressHostAddressesPartiallyUnreachable: { group: 'connectivity', keys: [] },
  EgressConnectLatencyHigh: { group: 'connectivity', keys: ['quantile', 'threshold_seconds', 'window'] },
  EgressProxyDenied: { group: 'connectivity', keys: [] },
  EgressProxyFailing: { group: 'connectivity', keys: [] },
  EgressDNSResolutionFailing: { group: 'dns', keys: [] },
  EgressDNSSinkholed: { group: 'dns', keys: [] },
  EgressDNSTTLBelowFirewallRefresh: { group: 'dns', keys: [] },
  EgressDNSAddressesOutsideAllowlist: { group: 'dns', keys: [] },
  EgressTLSRequirementNotMet: { group: 'tls', keys: [] },
  EgressTLSIntercepted: { group: 'tls', keys: [] },
  EgressTLSHandshakeFailing: { group: 'tls', keys: [] },
  EgressTLSCertificateInvalid: { group: 'tls', keys: [] },
  EgressTLSCertificateExpiringSoon: { group: 'tls', keys: ['warning_days', 'critical_days'], noSeverity: true },
  EgressHTTP2Downgraded: { group: 'http', keys: [] },
  EgressHTTPUnexpectedResponse: { group: 'http', keys: [] },
  EgressRegistryBlobHostBlocked: { group: 'registry', keys: [] },
  EgressRegistryPullFailing: { group: 'registry', keys: [] },
  EgressRegistryCredentialExpiring: { group: 'registry', keys: ['warning_days'] },
  EgressRegistryCredentialExpired: { group: 'registry', keys: [] },
  EgressHTTPRequestFailing: { group: 'http', keys: [] },
  EgressProbesStale: { group: 'exporter', keys: ['stale_after'] },
  EgressExporterDown: { group: 'exporter', keys: ['memory'] },
  EgressExporterConfigReloadFailed: { group: 'exporter', keys: [] },
  EgressExporterEventLoopLagHigh: { group: 'exporter', keys: ['threshold_seconds'] },
  EgressProbeInternalError: { group: 'exporter', keys: [] },
};
const TOP_KEYS = ['selector', 'exporter_job_regex', 'interception_expected_paths', 'runbook_base_url', 'alerts'];

function fail(problems) {
  throw new Error(`alerts config:\n  ${problems.join('\n  ')}`);
}

/** Parses and checks the config strictly: unknown keys, bad durations and numbers are errors. */
export function loadConfig(text) {
  const raw = parse(text);
  const problems = [];
  if (raw === null || typeof raw !== 'object') fail(['expected a mapping']);
  for (const key of Object.keys(raw)) if (!TOP_KEYS.includes(key)) problems.push(`${key}: unknown key`);
  for (const key of ['selector', 'exporter_job_regex', 'interception_expected_paths', 'runbook_base_url']) {
    if (typeof raw[key] !== 'string') problems.push(`${key}: expected a string`);
  }
  const alerts = raw.alerts ?? {};
  for (const name of Object.keys(alerts)) if (!(name in ALERT_KEYS)) problems.push(`alerts.${name}: unknown alert`);
  for (const [name, spec] of Object.entries(ALERT_KEYS)) {
    const block = alerts[name];
    if (block === undefined || block === null || typeof block !== 'object') {
      problems.push(`alerts.${name}: missing`);
      continue;
    }
    const allowed = ['for', ...(spec.noSeverity ? [] : ['severity']), ...spec.keys];
    for (const key of Object.keys(block)) if (!allowed.includes(key)) problems.push(`alerts.${name}.${key}: unknown key`);
    for (const key of allowed) if (block[key] === undefined) problems.push(`alerts.${name}.${key}: missing`);
    if (!spec.noSeverity && block.severity !== undefined && !SEVERITIES.includes(block.severity)) {
      problems.push(`alerts.${name}.severity: expected one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(block.severity)}`);
    }
    for (const key of ['for', 'window', 'stale_after', 'memory']) {
      if (block[key] !== undefined && !(typeof block[key] === 'string' && DURATION.test(block[key]))) {
        problems.push(`alerts.${name}.${key}: expected a duration such as 5m, got ${JSON.stringify(block[key])}`);
      }
    }
    for (const key of ['quantile', 'threshold_seconds', 'warning_days', 'critical_days']) {
      if (block[key] !== undefined && !(typeof block[key] === 'number' && block[key] > 0)) {
        problems.push(`alerts.${name}.${key}: expected a positive number, got ${JSON.stringify(block[key])}`);
      }
    }
    if (block.quantile !== undefined && !(block.quantile < 1)) problems.push(`alerts.${name}.quantile: must be below 1`);
  }
  if (problems.length > 0) fail(problems);
  return raw;
}

/** Seconds in a Prometheus duration. */
export function durationSeconds(text) {
  const units = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(n) * units[unit];
  return total;
}

// --- rules --------------------------------------------------------------------------

/** A Go-template-safe %q-quoted PromQL selector built at alert time from the alert's own labels. */
const labelQuery = (metric) =>
  `printf "${metric}{job=%q,instance=%q,host=%q,path=%q}" $labels.job $labels.instance $labels.host $labels.path`;

function buildRules(config) {
  /** `{a, b, <config selector>}`: the given matchers plus the config's selector. */
  const s = (...matchers) => {
    const all = [...matchers, config.selector.trim()].filter((m) => m !== '');
    return all.length === 0 ? '' : `{${all.join(', ')}}`;
  };
  const a = config.alerts;
  const clean = config.interception_expected_paths === '' ? [] : [`path!~"${config.interception_expected_paths}"`];
  /** The dns check's failure, relabelled so that its resolver (path) joins the DNS gauges' resolver. */
  const dnsFailing = `label_replace(egress_probe_failure_reason${s('check="dns"')}, "resolver", "$1", "path", "(.*)")`;
  const anchor = (name) => `${config.runbook_base_url}#${name.toLowerCase()}`;
  const rule = (name, { expr, summary, description, severity = a[name].severity }) => ({
    alert: name,
    expr,
    for: a[name].for,
    labels: { severity },
    annotations: { summary, description, runbook_url: anchor(name) },
  });
  const lat = a.EgressConnectLatencyHigh;
  const exp = a.EgressTLSCertificateExpiringSoon;
  // A chain that no longer verifies (expired, say) is EgressTLSCertificateInvalid's page.
  const expiring = (severity, days) =>
    rule('EgressTLSCertificateExpiringSoon', {
      severity,
      expr:
        `egress_tls_chain_earliest_not_after_timestamp_seconds${s()} - time() < ${days} * 86400\n` +
        `unless on (job, instance, host, path) egress_tls_verified${s()} == 0`,
      summary: 'A certificate presented to egress clients expires soon.',
      description:
        'A certificate in the chain that {{ $labels.host }} presents on path {{ $labels.path }} expires in {{ $value | humanizeDuration }}' +
        ` (${severity} below ${days} days).`,
    });

  return {
    connectivity: [
      rule('EgressHostUnreachable', {
        expr: `egress_probe_failure_reason${s('check="tcp"', `reason=~"${oneOf(HOST_UNREACHABLE_REASONS)}"`)} == 1`,
        summary: 'A required host cannot be reached over TCP.',
        description:
          'TCP connects to {{ $labels.host }} on path {{ $labels.path }} fail with {{ $labels.reason }}: no address of at least one of its IP families accepts a connection.',
      }),
      rule('EgressHostAddressesPartiallyUnreachable', {
        expr:
          `(egress_tcp_addresses_probed${s()} - egress_tcp_addresses_reachable${s()}) > 0\n` +
          `and on (job, instance, host, family, path) egress_tcp_addresses_reachable${s()} > 0`,
        summary: 'Some of a host\'s addresses refuse connections while others accept them.',
        description:
          '{{ $value }} of the {{ $labels.family }} addresses of {{ $labels.host }} refuse or time out on path {{ $labels.path }} while others accept: an IP-based firewall rule has likely gone stale.',
      }),
      rule('EgressConnectLatencyHigh', {
        expr:
          // without, not by: every label a target or scrape carries (port, a zone label) stays.
          `max without (family) (\n` +
          `  quantile_over_time(${lat.quantile}, egress_tcp_connect_duration_seconds${s()}[${lat.window}])\n` +
          `) > ${lat.threshold_seconds}`,
        summary: 'TCP connects to a host are slow.',
        description:
          `The ${lat.quantile * 100}th percentile of TCP connect time to {{ $labels.host }} on path {{ $labels.path }} over ${lat.window} is {{ $value | humanizeDuration }}` +
          ` (threshold ${lat.threshold_seconds}s).`,
      }),
      rule('EgressProxyDenied', {
        expr:
          `max without (check) (\n` +
          `  egress_probe_failure_reason${s('check=~"tcp|tls|http"', `reason=~"${oneOf(PROXY_DENIED_REASONS)}"`)}\n` +
          `) == 1`,
        summary: 'A proxy refuses to tunnel to a required host.',
        description:
          'Proxy {{ $labels.path }} refuses to tunnel to {{ $labels.host }} ({{ $labels.reason }}: 403 denied by its policy, or 407 authentication required).',
      }),
      rule('EgressProxyFailing', {
        expr:
          `max without (check) (\n` +
          `  egress_probe_failure_reason${s('check=~"tcp|tls|http"', `reason=~"${oneOf(PROXY_FAILING_REASONS)}"`)}\n` +
          `) == 1`,
        summary: 'A proxy fails to carry connections to a required host.',
        description:
          'Connections to {{ $labels.host }} through proxy {{ $labels.path }} fail with {{ $labels.reason }}: the proxy is down, stalls, cannot reach the host, or breaks the tunnel.',
      }),
    ],
    dns: [
      rule('EgressDNSResolutionFailing', {
        expr: `egress_probe_failure_reason${s('check="dns"', `reason=~"${oneOf(DNS_FAILURE_REASONS)}"`)} == 1`,
        summary: 'A required host name does not resolve.',
        description: 'Resolving {{ $labels.host }} through resolver {{ $labels.path }} fails with {{ $labels.reason }}.',
      }),
      rule('EgressDNSSinkholed', {
        expr: `egress_probe_failure_reason${s('check="dns"', 'reason="sinkholed"')} == 1`,
        summary: 'A required host name resolves to a sinkhole.',
        description:
          'Resolver {{ $labels.path }} answers {{ $labels.host }} with addresses no public host has (0.0.0.0, loopback or private): a DNS filter blocks it.',
      }),
      rule('EgressDNSTTLBelowFirewallRefresh', {
        expr:
          `egress_dns_ttl_max_seconds${s()}\n` +
          `and on (job, instance, host, type, resolver) (egress_dns_ttl_below_firewall_refresh${s()} == 1)\n` +
          `unless on (job, instance, host, resolver) ${dnsFailing}`,
        summary: 'A host\'s DNS TTL is shorter than the firewall\'s refresh interval.',
        description:
          'The {{ $labels.type }} records of {{ $labels.host }} have a TTL of {{ $value | humanizeDuration }} (resolver {{ $labels.resolver }}), shorter than the firewall refresh interval' +
          `{{ range query \`max(egress_dns_firewall_refresh_interval_seconds${s()})\` }} of {{ . | value | humanizeDuration }}{{ end }}` +
          ': IP-based rules will miss new addresses.',
      }),
      rule('EgressDNSAddressesOutsideAllowlist', {
        expr: `egress_dns_addresses_outside_allowlist${s()} > 0\nunless on (job, instance, host, resolver) ${dnsFailing}`,
        summary: 'A host resolves to addresses outside the firewall allowlist.',
        description:
          '{{ $value }} {{ $labels.family }} addresses of {{ $labels.host }} (resolver {{ $labels.resolver }}) fall outside dns.allowlist_cidrs: the firewall blocks clients that get them.',
      }),
    ],
    tls: [
      rule('EgressTLSRequirementNotMet', {
        // The series is absent when untested; a path with no address at all is also
        // excluded, in case a verdict from before the DNS failure lingers.
        expr:
          `egress_tls_requirement_met${s()} == 0\n` +
          `unless on (job, instance, host, path) egress_probe_failure_reason${s('check=~"tcp|tls"', 'reason="no_addresses"')}\n` +
          // A downgrading proxy also fails alpn_h2 and the baseline (which needs h2): the
          // same fact, already paged by EgressHTTP2Downgraded. One fault, one alert.
          `unless on (job, instance, host, path, requirement) (\n` +
          `    label_replace(egress_http2_downgraded${s()} == 1, "requirement", "alpn_h2", "", "")\n` +
          `  or label_replace(egress_http2_downgraded${s()} == 1, "requirement", "baseline", "", "")\n` +
          `)`,
        summary: 'A path fails one of the vendor\'s TLS requirements.',
        description:
          'Path {{ $labels.path }} to {{ $labels.host }} does not meet the TLS requirement {{ $labels.requirement }}: a handshake constrained to it was rejected or negotiated something else.',
      }),
      rule('EgressTLSIntercepted', {
        // A proxy marked `expect_interception: true` in the exporter's config inspects by design.
        expr:
          `egress_tls_intercepted${s(...clean)} == 1\n` +
          `unless on (job, instance, path) egress_path_info${s('expect_interception="true"')}`,
        summary: 'TLS to a required host is intercepted on a path meant to be clean.',
        description:
          'The certificate chain of {{ $labels.host }} on path {{ $labels.path }} was re-signed by another CA' +
          `{{ range ${labelQuery('egress_tls_cert_issuer_info')} | query }} ({{ .Labels.issuer }}){{ end }}` +
          ': a TLS-inspecting proxy or firewall intercepts it.',
      }),
      rule('EgressTLSHandshakeFailing', {
        expr:
          `egress_probe_failure_reason${s('check="tls"', `reason=~"${oneOf(TLS_BROKEN_REASONS)}"`)} == 1\n` +
          `unless on (job, instance, host, path) egress_tls_requirement_met${s()}\n` +
          `unless on (job, instance, host, path) egress_probe_failure_reason${s('check="tcp"')}`,
        summary: 'No TLS handshake with a host completes, although TCP connects.',
        description:
          'Every TLS handshake with {{ $labels.host }} on path {{ $labels.path }} ends without a verdict ({{ $labels.reason }}) although TCP connects: something on the path stalls, resets, or answers with something other than TLS.',
      }),
      rule('EgressTLSCertificateInvalid', {
        expr: `egress_tls_verified${s()} == 0\nunless on (job, instance, host, path) egress_tls_intercepted${s(...clean)} == 1`,
        summary: 'A host\'s certificate chain does not verify.',
        description:
          'The certificate chain of {{ $labels.host }} on path {{ $labels.path }} does not verify for the host name against the system roots plus tls.ca_file' +
          `{{ range ${labelQuery('egress_tls_cert_issuer_info')} | query }} (issuer {{ .Labels.issuer }}){{ end }}.`,
      }),
      expiring('warning', exp.warning_days),
      expiring('critical', exp.critical_days),
    ],
    http: [
      rule('EgressHTTP2Downgraded', {
        expr:
          `egress_http2_downgraded${s()} == 1\n` +
          `unless on (job, instance, host, path) egress_probe_failure_reason${s('check="http"', `reason!~"${oneOf(HTTP_VERDICT_REASONS)}"`)}`,
        summary: 'HTTP/2 to a required host is downgraded to HTTP/1.1.',
        description:
          '{{ $labels.host }} speaks HTTP/2, but a client offering h2 on path {{ $labels.path }} gets HTTP/1.1: a proxy terminates TLS and downgrades it.',
      }),
      rule('EgressHTTPUnexpectedResponse', {
        expr:
          `egress_http_response_valid${s()} == 0\n` +
          `unless on (job, instance, host, path) egress_probe_failure_reason${s('check="http"', 'reason!="http_bad_response"')}`,
        summary: 'A host does not give the expected HTTP answer.',
        description:
          '{{ $labels.host }} on path {{ $labels.path }} does not give the answer the catalog expects' +
          `{{ range ${labelQuery('egress_http_status_code')} | query }} (status {{ . | value }}){{ end }}.`,
      }),
      rule('EgressHTTPRequestFailing', {
        // An answer (status) is EgressHTTPUnexpectedResponse's; a tcp or TLS check that
        // cannot get through is already paged by its own alert. One fault, one page.
        expr:
          `egress_probe_failure_reason${s('check="http"', `reason=~"${oneOf(HTTP_BROKEN_REASONS)}"`)} == 1\n` +
          `unless on (job, instance, host, path) egress_http_response_valid${s()}\n` +
          `unless on (job, instance, host, path) egress_probe_failure_reason${s('check="tcp"')}\n` +
          `unless on (job, instance, host, path) egress_probe_failure_reason${s('check="tls"', `reason=~"${oneOf(TLS_BROKEN_REASONS)}"`)}`,
        summary: 'HTTP requests to a host get no usable answer, although TLS works.',
        description:
          'HTTP requests to {{ $labels.host }} on path {{ $labels.path }} fail with {{ $labels.reason }} after a good TLS handshake: the server or something on the path breaks HTTP/2 (garbage frames, no SETTINGS, HTTP/1.1 after ALPN h2) or never answers.',
      }),
    ],
    registry: [
      rule('EgressRegistryBlobHostBlocked', {
        // The blob host joins in as a label: the page names the host to allow.
        expr:
          `(egress_registry_failure_reason${s('step="blob_redirect"')} == 1)\n` +
          `* on (job, instance, host, port, path) group_left (blob_host) egress_registry_blob_host_info${s()}`,
        summary: 'A registry answers, but the host its image blobs come from is blocked.',
        description:
          'Pulls from {{ $labels.host }} on path {{ $labels.path }} would fail at the first layer: the registry redirects blobs to {{ $labels.blob_host }}, which cannot be reached ({{ $labels.reason }}). Allow {{ $labels.blob_host }} beside the registry.',
      }),
      rule('EgressRegistryPullFailing', {
        // The blob host has its own alert; a registry that does not connect at all pages as unreachable.
        expr:
          `egress_registry_failure_reason${s('step!="blob_redirect"')} == 1\n` +
          `unless on (job, instance, host, port, path) egress_probe_failure_reason${s('check="tcp"')}`,
        summary: 'An image pull from a registry would fail.',
        description: 'A pull from {{ $labels.host }} on path {{ $labels.path }} fails at the {{ $labels.step }} step ({{ $labels.reason }}).',
      }),
      rule('EgressRegistryCredentialExpiring', {
        expr:
          `egress_registry_credential_expiry_timestamp_seconds${s()} - time() < ${a.EgressRegistryCredentialExpiring.warning_days} * 86400\n` +
          `and egress_registry_credential_expiry_timestamp_seconds${s()} - time() > 0`,
        summary: 'A registry pull token expires soon.',
        description:
          `The pull credential of {{ $labels.username }} for {{ $labels.host }} expires in {{ $value | humanizeDuration }} (below ${a.EgressRegistryCredentialExpiring.warning_days} days): pulls fail once it does.`,
      }),
      rule('EgressRegistryCredentialExpired', {
        expr: `egress_registry_credential_expiry_timestamp_seconds${s()} - time() <= 0`,
        summary: 'A registry pull token has expired.',
        description: 'The pull credential of {{ $labels.username }} for {{ $labels.host }} has expired: authenticated pulls fail.',
      }),
    ],
    exporter: [
      rule('EgressProbesStale', {
        expr: `time() - egress_probe_last_run_timestamp_seconds${s()} > ${durationSeconds(a.EgressProbesStale.stale_after)}`,
        summary: 'A check has stopped producing results.',
        description:
          'The {{ $labels.check }} check of {{ $labels.host }} (path {{ $labels.path }}) last finished {{ $value | humanizeDuration }} ago' +
          ` (stale after ${a.EgressProbesStale.stale_after}).`,
      }),
      rule('EgressExporterDown', {
        expr:
          `(up${s()} == 0 and on (job, instance) last_over_time(egress_exporter_build_info${s()}[${a.EgressExporterDown.memory}]))\n` +
          `or up${s(`job=~"${config.exporter_job_regex}"`)} == 0`,
        summary: 'Prometheus cannot scrape the egress exporter.',
        description: 'Prometheus cannot scrape the egress exporter {{ $labels.instance }} (job {{ $labels.job }}): no probe results come in.',
      }),
      rule('EgressExporterConfigReloadFailed', {
        expr: `egress_exporter_config_last_reload_successful${s()} == 0`,
        summary: 'The egress exporter failed to reload its configuration.',
        description: 'The last configuration reload of {{ $labels.instance }} failed; it keeps running the previous configuration.',
      }),
      rule('EgressExporterEventLoopLagHigh', {
        expr:
          `nodejs_eventloop_lag_p99_seconds${s()} > ${a.EgressExporterEventLoopLagHigh.threshold_seconds}\n` +
          `and on (job, instance) egress_exporter_build_info${s()}`,
        summary: 'The egress exporter\'s event loop is blocked.',
        description:
          'The p99 event-loop delay of {{ $labels.instance }} is {{ $value | humanizeDuration }}: every latency it measures is inflated by up to that much.',
      }),
      rule('EgressProbeInternalError', {
        expr: `egress_probe_failure_reason${s('reason="internal_error"')} == 1`,
        summary: 'A check hits a bug in the egress exporter.',
        description:
          'The {{ $labels.check }} check of {{ $labels.host }} (path {{ $labels.path }}) fails with internal_error, a bug in the exporter: its logs say more; please report it.',
      }),
    ],
  };
}

/** The rules file's text for a parsed config; `forOverride` replaces every `for:`. */
export function renderRules(config, { forOverride, source = 'alerts/generator/config.yml' } = {}) {
  const groups = buildRules(config);
  for (const [name, { group }] of Object.entries(ALERT_KEYS)) {
    if (!groups[group].some((r) => r.alert === name)) throw new Error(`${name}: no rule generated`);
  }
  const doc = {
    groups: Object.entries(groups).map(([name, rules]) => ({
      name: `egress-${name}`,
      rules: rules.map((r) => (forOverride === undefined ? r : { ...r, for: forOverride })),
    })),
  };
  const header =
    `# GENERATED by alerts/generate.mjs from ${source}: do not edit by hand.\n` +
    '# Change thresholds, for-durations and selectors there, then run `node alerts/generate.mjs`.\n';
  return header + stringify(doc, { lineWidth: 0, blockQuote: 'literal' });
}

function main(argv) {
  const args = { config: DEFAULT_CONFIG, out: DEFAULT_OUT, check: false, stdout: false, forOverride: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg}: expected a value`);
      return v;
    };
    if (arg === '--config') args.config = value();
    else if (arg === '--out') args.out = value();
    else if (arg === '--check') args.check = true;
    else if (arg === '--stdout') args.stdout = true;
    else if (arg === '--for') {
      args.forOverride = value();
      if (!DURATION.test(args.forOverride)) throw new Error(`--for: expected a duration such as 30s, got ${args.forOverride}`);
    } else throw new Error(`unknown argument ${arg}`);
  }
  const source = relative(join(HERE, '..'), args.config) || args.config;
  const text = renderRules(loadConfig(readFileSync(args.config, 'utf8')), { forOverride: args.forOverride, source });
  if (args.stdout) {
    process.stdout.write(text);
  } else if (args.check) {
    let current = '';
    try {
      current = readFileSync(args.out, 'utf8');
    } catch {
      // missing counts as out of date
    }
    if (current !== text) {
      console.error(`${args.out} is out of date: run node alerts/generate.mjs`);
      process.exit(1);
    }
  } else {
    writeFileSync(args.out, text);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
