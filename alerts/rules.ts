// The alert rules: every expression, built from the config's thresholds and selector,
// the exporter's family names (src/metrics/families.ts) and its failure reasons
// (src/probes/reasons.ts), so a renamed family or reason cannot leave a rule behind.
import { stringify } from 'yaml';
import { F } from '../src/metrics/families.js';
import { FEED_FAMILIES } from '../src/metrics/feed-series.js';
import type { FamilyId } from '../src/metrics/families.js';
import { CONNECT_FAILURE_REASONS, DNS_UNRESOLVED_REASONS, PROXY_DENIED_REASONS, PROXY_FAILING_REASONS } from '../src/probes/reasons.js';
import type { FailureReason } from '../src/probes/reasons.js';
import { ALERTS, ALERT_NAMES, GROUPS, durationSeconds } from './config.js';
import type { AlertName, AlertsConfig, Group, Severity } from './config.js';

/** TLS check reasons with no verdict that a client would also suffer: not TLS, stalls, resets. */
const TLS_BROKEN_REASONS: readonly FailureReason[] = ['tls_handshake_failed', 'timeout', 'reset'];
/** HTTP check reasons that mean no usable answer came back (garbage frames, no SETTINGS, HTTP/1.1 after ALPN h2, a stream never answered). */
const HTTP_BROKEN_REASONS: readonly FailureReason[] = ['http_bad_response', 'timeout', 'reset'];
/** HTTP check reasons after which its version and downgrade verdict are still current. */
const HTTP_VERDICT_REASONS: readonly FailureReason[] = ['http_bad_response', 'http2_downgraded', 'tls_cert_invalid'];

/** Where a check ran, in a description: the dns check's resolver, every other check's path. */
const WHERE = '{{ with $labels.resolver }}resolver {{ . }}{{ else }}path {{ $labels.path }}{{ end }}';

// Not families of results: the registry (src/metrics/registry.ts), prom-client and Prometheus make them.
const UP = 'up';
const BUILD_INFO = 'egress_exporter_build_info';
const RELOAD_SUCCESSFUL = 'egress_exporter_config_last_reload_successful';
const LAG_P99 = 'nodejs_eventloop_lag_p99_seconds';

const oneOf = (values: readonly string[]): string => values.join('|');

export interface Rule {
  alert: AlertName;
  expr: string;
  for: string;
  labels: { severity: Severity };
  annotations: { summary: string; description: string; runbook_url: string };
}

/** A Go-template-safe %q-quoted PromQL selector built at alert time from the alert's own labels. */
const labelQuery = (id: FamilyId): string =>
  `printf "${F[id].name}{job=%q,instance=%q,host=%q,path=%q}" $labels.job $labels.instance $labels.host $labels.path`;

function buildRules(config: AlertsConfig): Record<Group, Rule[]> {
  /** `{a, b, <config selector>}`: the given matchers plus the config's selector. */
  const s = (...matchers: string[]): string => {
    const all = [...matchers, config.selector.trim()].filter((m) => m !== '');
    return all.length === 0 ? '' : `{${all.join(', ')}}`;
  };
  /** A family's selector: its name, the given matchers and the config's selector. */
  const q = (id: FamilyId, ...matchers: string[]): string => `${F[id].name}${s(...matchers)}`;
  const a = config.alerts;
  const clean = config.interception_expected_paths === '' ? [] : [`path!~"${config.interception_expected_paths}"`];
  /** The dns check's failure; its `resolver` label joins the DNS gauges' `resolver`. */
  const dnsFailing = q('failureReason', 'check="dns"');
  const anchor = (name: string): string => `${config.runbook_base_url}#${name.toLowerCase()}`;
  const rule = (
    name: AlertName,
    { expr, summary, description, severity }: { expr: string; summary: string; description: string; severity?: Severity },
  ): Rule => {
    const block = a[name];
    const level = severity ?? ('severity' in block ? block.severity : undefined);
    if (level === undefined) throw new Error(`${name}: no severity`);
    return { alert: name, expr, for: block.for, labels: { severity: level }, annotations: { summary, description, runbook_url: anchor(name) } };
  };
  const lat = a.EgressConnectLatencyHigh;
  const exp = a.EgressTLSCertificateExpiringSoon;
  // A chain that no longer verifies (expired, say) is EgressTLSCertificateInvalid's page.
  const expiring = (severity: Severity, days: number): Rule =>
    rule('EgressTLSCertificateExpiringSoon', {
      severity,
      expr: `${q('tlsEarliestNotAfter')} - time() < ${days} * 86400\n` + `unless on (job, instance, host, path) ${q('tlsVerified')} == 0`,
      summary: 'A certificate presented to egress clients expires soon.',
      description:
        'A certificate in the chain that {{ $labels.host }} presents on path {{ $labels.path }} expires in {{ $value | humanizeDuration }}' +
        ` (${severity} below ${days} days).`,
    });

  return {
    connectivity: [
      rule('EgressHostUnreachable', {
        expr: `${q('failureReason', 'check="tcp"', `reason=~"${oneOf(CONNECT_FAILURE_REASONS)}"`)} == 1`,
        summary: 'A required host cannot be reached over TCP.',
        description:
          'TCP connects to {{ $labels.host }} on path {{ $labels.path }} fail with {{ $labels.reason }}: no address of at least one of its IP families accepts a connection.',
      }),
      rule('EgressHostAddressesPartiallyUnreachable', {
        expr: `(${q('tcpProbed')} - ${q('tcpReachable')}) > 0\n` + `and on (job, instance, host, family, path) ${q('tcpReachable')} > 0`,
        summary: "Some of a host's addresses refuse connections while others accept them.",
        description:
          '{{ $value }} of the {{ $labels.family }} addresses of {{ $labels.host }} refuse or time out on path {{ $labels.path }} while others accept: an IP-based firewall rule has likely gone stale.',
      }),
      rule('EgressConnectLatencyHigh', {
        expr:
          // without, not by: every label a target or scrape carries (port, a zone label) stays.
          `max without (family) (\n` + `  quantile_over_time(${lat.quantile}, ${q('tcpConnect')}[${lat.window}])\n` + `) > ${lat.threshold_seconds}`,
        summary: 'TCP connects to a host are slow.',
        description:
          `The ${lat.quantile * 100}th percentile of TCP connect time to {{ $labels.host }} on path {{ $labels.path }} over ${lat.window} is {{ $value | humanizeDuration }}` +
          ` (threshold ${lat.threshold_seconds}s).`,
      }),
      rule('EgressProxyDenied', {
        expr: `max without (check) (\n` + `  ${q('failureReason', 'check=~"tcp|tls|http"', `reason=~"${oneOf(PROXY_DENIED_REASONS)}"`)}\n` + `) == 1`,
        summary: 'A proxy refuses to tunnel to a required host.',
        description:
          'Proxy {{ $labels.path }} refuses to tunnel to {{ $labels.host }} ({{ $labels.reason }}: 403 denied by its policy, or 407 authentication required).',
      }),
      rule('EgressProxyFailing', {
        expr: `max without (check) (\n` + `  ${q('failureReason', 'check=~"tcp|tls|http"', `reason=~"${oneOf(PROXY_FAILING_REASONS)}"`)}\n` + `) == 1`,
        summary: 'A proxy fails to carry connections to a required host.',
        description:
          'Connections to {{ $labels.host }} through proxy {{ $labels.path }} fail with {{ $labels.reason }}: the proxy is down, stalls, cannot reach the host, or breaks the tunnel.',
      }),
    ],
    dns: [
      rule('EgressDNSResolutionFailing', {
        expr: `${q('failureReason', 'check="dns"', `reason=~"${oneOf(DNS_UNRESOLVED_REASONS)}"`)} == 1`,
        summary: 'A required host name does not resolve.',
        description: 'Resolving {{ $labels.host }} through resolver {{ $labels.resolver }} fails with {{ $labels.reason }}.',
      }),
      rule('EgressDNSSinkholed', {
        expr: `${q('failureReason', 'check="dns"', 'reason="sinkholed"')} == 1`,
        summary: 'A required host name resolves to a sinkhole.',
        description:
          'Resolver {{ $labels.resolver }} answers {{ $labels.host }} with addresses no public host has (0.0.0.0, loopback or private): a DNS filter blocks it.',
      }),
      rule('EgressDNSTTLBelowFirewallRefresh', {
        expr:
          `${q('dnsTtlMax')}\n` +
          `and on (job, instance, host, type, resolver) (${q('dnsTtlBelowRefresh')} == 1)\n` +
          `unless on (job, instance, host, resolver) ${dnsFailing}`,
        summary: "A host's DNS TTL is shorter than the firewall's refresh interval.",
        description:
          'The {{ $labels.type }} records of {{ $labels.host }} have a TTL of {{ $value | humanizeDuration }} (resolver {{ $labels.resolver }}), shorter than the firewall refresh interval' +
          `{{ range query \`max(${q('refreshInterval')})\` }} of {{ . | value | humanizeDuration }}{{ end }}` +
          ': IP-based rules will miss new addresses.',
      }),
      rule('EgressDNSAddressesOutsideAllowlist', {
        expr: `${q('dnsOutside')} > 0\nunless on (job, instance, host, resolver) ${dnsFailing}`,
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
          `${q('tlsRequirement')} == 0\n` +
          `unless on (job, instance, host, path) ${q('failureReason', 'check=~"tcp|tls"', 'reason="no_addresses"')}\n` +
          // A downgrading proxy also fails alpn_h2 and the baseline (which needs h2): the
          // same fact, already paged by EgressHTTP2Downgraded. One fault, one alert.
          `unless on (job, instance, host, path, requirement) (\n` +
          `    label_replace(${q('httpDowngraded')} == 1, "requirement", "alpn_h2", "", "")\n` +
          `  or label_replace(${q('httpDowngraded')} == 1, "requirement", "baseline", "", "")\n` +
          `)`,
        summary: "A path fails one of the vendor's TLS requirements.",
        description:
          'Path {{ $labels.path }} to {{ $labels.host }} does not meet the TLS requirement {{ $labels.requirement }}: a handshake constrained to it was rejected or negotiated something else.',
      }),
      rule('EgressTLSIntercepted', {
        // A proxy marked `expect_interception: true` in the exporter's config inspects by design.
        expr: `${q('tlsIntercepted', ...clean)} == 1\n` + `unless on (job, instance, path) ${q('pathInfo', 'expect_interception="true"')}`,
        summary: 'TLS to a required host is intercepted on a path meant to be clean.',
        description:
          'The certificate chain of {{ $labels.host }} on path {{ $labels.path }} was re-signed by another CA' +
          `{{ range ${labelQuery('tlsIssuer')} | query }} ({{ .Labels.issuer }}){{ end }}` +
          ': a TLS-inspecting proxy or firewall intercepts it.',
      }),
      rule('EgressTLSHandshakeFailing', {
        expr:
          `${q('failureReason', 'check="tls"', `reason=~"${oneOf(TLS_BROKEN_REASONS)}"`)} == 1\n` +
          `unless on (job, instance, host, path) ${q('tlsRequirement')}\n` +
          `unless on (job, instance, host, path) ${q('failureReason', 'check="tcp"')}`,
        summary: 'No TLS handshake with a host completes, although TCP connects.',
        description:
          'Every TLS handshake with {{ $labels.host }} on path {{ $labels.path }} ends without a verdict ({{ $labels.reason }}) although TCP connects: something on the path stalls, resets, or answers with something other than TLS.',
      }),
      rule('EgressTLSCertificateInvalid', {
        expr: `${q('tlsVerified')} == 0\nunless on (job, instance, host, path) ${q('tlsIntercepted', ...clean)} == 1`,
        summary: "A host's certificate chain does not verify.",
        description:
          'The certificate chain of {{ $labels.host }} on path {{ $labels.path }} does not verify for the host name against the system roots plus tls.ca_file' +
          `{{ range ${labelQuery('tlsIssuer')} | query }} (issuer {{ .Labels.issuer }}){{ end }}.`,
      }),
      expiring('warning', exp.warning_days),
      expiring('critical', exp.critical_days),
    ],
    http: [
      rule('EgressHTTP2Downgraded', {
        expr:
          `${q('httpDowngraded')} == 1\n` +
          `unless on (job, instance, host, path) ${q('failureReason', 'check="http"', `reason!~"${oneOf(HTTP_VERDICT_REASONS)}"`)}`,
        summary: 'HTTP/2 to a required host is downgraded to HTTP/1.1.',
        description:
          '{{ $labels.host }} speaks HTTP/2, but a client offering h2 on path {{ $labels.path }} gets HTTP/1.1: a proxy terminates TLS and downgrades it.',
      }),
      rule('EgressHTTPUnexpectedResponse', {
        expr: `${q('httpValid')} == 0\n` + `unless on (job, instance, host, path) ${q('failureReason', 'check="http"', 'reason!="http_bad_response"')}`,
        summary: 'A host does not give the expected HTTP answer.',
        description:
          '{{ $labels.host }} on path {{ $labels.path }} does not give the answer the catalog expects' +
          `{{ range ${labelQuery('httpStatus')} | query }} (status {{ . | value }}){{ end }}.`,
      }),
      rule('EgressHTTPRequestFailing', {
        // An answer (status) is EgressHTTPUnexpectedResponse's; a tcp or TLS check that
        // cannot get through is already paged by its own alert. One fault, one page.
        expr:
          `${q('failureReason', 'check="http"', `reason=~"${oneOf(HTTP_BROKEN_REASONS)}"`)} == 1\n` +
          `unless on (job, instance, host, path) ${q('httpValid')}\n` +
          `unless on (job, instance, host, path) ${q('failureReason', 'check="tcp"')}\n` +
          `unless on (job, instance, host, path) ${q('failureReason', 'check="tls"', `reason=~"${oneOf(TLS_BROKEN_REASONS)}"`)}`,
        summary: 'HTTP requests to a host get no usable answer, although TLS works.',
        description:
          'HTTP requests to {{ $labels.host }} on path {{ $labels.path }} fail with {{ $labels.reason }} after a good TLS handshake: the server or something on the path breaks HTTP/2 (garbage frames, no SETTINGS, HTTP/1.1 after ALPN h2) or never answers.',
      }),
    ],
    registry: [
      rule('EgressRegistryBlobHostBlocked', {
        // The blob host joins in as a label: the page names the host to allow.
        expr: `(${q('registryFailure', 'step="blob_redirect"')} == 1)\n` + `* on (job, instance, host, port, path) group_left (blob_host) ${q('registryBlobHost')}`,
        summary: 'A registry answers, but the host its image blobs come from is blocked.',
        description:
          'Pulls from {{ $labels.host }} on path {{ $labels.path }} would fail at the first layer: the registry redirects blobs to {{ $labels.blob_host }}, which cannot be reached ({{ $labels.reason }}). Allow {{ $labels.blob_host }} beside the registry.',
      }),
      rule('EgressRegistryPullFailing', {
        // The blob host has its own alert; a registry that does not connect at all pages as unreachable.
        expr: `${q('registryFailure', 'step!="blob_redirect"')} == 1\n` + `unless on (job, instance, host, port, path) ${q('failureReason', 'check="tcp"')}`,
        summary: 'An image pull from a registry would fail.',
        description: 'A pull from {{ $labels.host }} on path {{ $labels.path }} fails at the {{ $labels.step }} step ({{ $labels.reason }}).',
      }),
      rule('EgressRegistryCredentialExpiring', {
        expr:
          `${q('registryCredentialExpiry')} - time() < ${a.EgressRegistryCredentialExpiring.warning_days} * 86400\n` +
          `and ${q('registryCredentialExpiry')} - time() > 0`,
        summary: 'A registry pull token expires soon.',
        description: `The pull credential of {{ $labels.username }} for {{ $labels.host }} expires in {{ $value | humanizeDuration }} (below ${a.EgressRegistryCredentialExpiring.warning_days} days): pulls fail once it does.`,
      }),
      rule('EgressRegistryCredentialExpired', {
        expr: `${q('registryCredentialExpiry')} - time() <= 0`,
        summary: 'A registry pull token has expired.',
        description: 'The pull credential of {{ $labels.username }} for {{ $labels.host }} has expired: authenticated pulls fail.',
      }),
    ],
    feed: [
      rule('EgressFeedListOverLimit', {
        expr: `${FEED_FAMILIES.overLimit.name}${s()} == 1`,
        summary: 'An address list for firewalls is over its size limit and refused.',
        description:
          'The address feed list {{ $labels.list }} of {{ $labels.instance }} would exceed feed.max_addresses or feed.max_bytes' +
          `{{ range printf "${FEED_FAMILIES.addresses.name}{job=%q,instance=%q,list=%q}" $labels.job $labels.instance $labels.list | query }} ({{ . | value }} addresses){{ end }}` +
          ': /addresses/{{ $labels.list }} answers 503, and firewalls keep the last list they loaded, which misses every address that appeared since.',
      }),
    ],
    exporter: [
      rule('EgressProbesStale', {
        expr: `time() - ${q('roundFinished')} > ${durationSeconds(a.EgressProbesStale.stale_after)}`,
        summary: 'A target has stopped producing results.',
        description:
          `The checks of {{ $labels.host }}{{ with $labels.port }}:{{ . }}{{ end }} last finished {{ $value | humanizeDuration }} ago` +
          ` (stale after ${a.EgressProbesStale.stale_after}).`,
      }),
      rule('EgressExporterDown', {
        expr:
          `(${UP}${s()} == 0 and on (job, instance) last_over_time(${BUILD_INFO}${s()}[${a.EgressExporterDown.memory}]))\n` +
          `or ${UP}${s(`job=~"${config.exporter_job_regex}"`)} == 0`,
        summary: 'Prometheus cannot scrape the egress exporter.',
        description: 'Prometheus cannot scrape the egress exporter {{ $labels.instance }} (job {{ $labels.job }}): no probe results come in.',
      }),
      rule('EgressExporterConfigReloadFailed', {
        expr: `${RELOAD_SUCCESSFUL}${s()} == 0`,
        summary: 'The egress exporter failed to reload its configuration.',
        description: 'The last configuration reload of {{ $labels.instance }} failed; it keeps running the previous configuration.',
      }),
      rule('EgressExporterEventLoopLagHigh', {
        expr: `${LAG_P99}${s()} > ${a.EgressExporterEventLoopLagHigh.threshold_seconds}\n` + `and on (job, instance) ${BUILD_INFO}${s()}`,
        summary: "The egress exporter's event loop is blocked.",
        description:
          'The p99 event-loop delay of {{ $labels.instance }} is {{ $value | humanizeDuration }}: every latency it measures is inflated by up to that much.',
      }),
      rule('EgressProbeInternalError', {
        expr: `${q('failureReason', 'reason="internal_error"')} == 1`,
        summary: 'A check hits a bug in the egress exporter.',
        description:
          `The {{ $labels.check }} check of {{ $labels.host }} (${WHERE}) fails with internal_error, a bug in the exporter: its logs say more; please report it.`,
      }),
    ],
  };
}

/** The rules file's text for a parsed config; `forOverride` replaces every `for:`. */
export function renderRules(config: AlertsConfig, { forOverride, source = 'alerts/generator/config.yml' }: { forOverride?: string; source?: string } = {}): string {
  const groups = buildRules(config);
  for (const name of ALERT_NAMES) {
    if (!groups[ALERTS[name].group].some((r) => r.alert === name)) throw new Error(`${name}: no rule generated`);
  }
  const doc = {
    groups: GROUPS.map((name) => ({
      name: `egress-${name}`,
      rules: groups[name].map((r) => (forOverride === undefined ? r : { ...r, for: forOverride })),
    })),
  };
  const header =
    `# GENERATED by alerts/generate.ts from ${source}: do not edit by hand.\n` +
    '# Change thresholds, for-durations and selectors there, then run `node --import tsx alerts/generate.ts`.\n';
  return header + stringify(doc, { lineWidth: 0, blockQuote: 'literal' });
}
