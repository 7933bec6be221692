// The alert rules: every expression, built from the config's thresholds and selector,
// the exporter's family names (src/metrics/families.ts) and its failure reasons
// (src/probes/reasons.ts), so a renamed family or reason cannot leave a rule behind.
//
// How a page is identified (alerts/README.md, "Which series page, and how they add up"):
// - Joins match on every label but the facts of the two families joined (`ignoring`):
//   the target (host, and port off 443), the path or resolver, the exporter and every
//   label a user or Prometheus added (a zone, a cluster) must agree.
// - A page merges what the replicas of one vantage point say (`max without` the replica
//   labels: instance, job, pod): an HA pair, or /probe scraped beside /metrics, pages once;
//   two zones, told apart by a label of their own, page apart.
// - A fault of a path (a proxy that intercepts, downgrades, fails or denies) or of a
//   resolver pages once for the path or resolver, counting its hosts; a host's own fault
//   pages once for the host (its unmet TLS requirements together).
// - A path that must stay blocked (egress_blocked_verdict is there) pages only when a
//   connection to its host gets out (EgressBlockedHostReachable): every "must work" alert
//   leaves it out, since its failures are what keeps the host out.
import { stringify } from 'yaml';
import { F } from '../src/metrics/families.js';
import { FEED_FAMILIES } from '../src/metrics/feed-series.js';
import type { FamilyId } from '../src/metrics/families.js';
import { CONNECT_FAILURE_REASONS, DNS_UNRESOLVED_REASONS, PROXY_DENIED_REASONS, PROXY_FAILING_REASONS, PROXY_UPSTREAM_REASONS } from '../src/probes/reasons.js';
import type { FailureReason } from '../src/probes/reasons.js';
import { ALERTS, ALERT_NAMES, GROUPS, durationSeconds } from './config.js';
import type { AlertName, AlertsConfig, Group, Severity } from './config.js';
import type { Rule } from './rule.js';
import { shardingRules } from './sharding-rules.js';

/** TLS check reasons with no verdict that a client would also suffer: not TLS, stalls, resets. */
const TLS_BROKEN_REASONS: readonly FailureReason[] = ['tls_handshake_failed', 'timeout', 'reset'];
/** HTTP check reasons that mean no usable answer came back (garbage frames, no SETTINGS, HTTP/1.1 after ALPN h2, a stream never answered). */
const HTTP_BROKEN_REASONS: readonly FailureReason[] = ['http_bad_response', 'timeout', 'reset'];
/** HTTP check reasons after which its version and downgrade verdict are still current. */
const HTTP_VERDICT_REASONS: readonly FailureReason[] = ['http_bad_response', 'http2_downgraded', 'tls_cert_invalid'];


// Not families of results: the registry (src/metrics/registry.ts), prom-client and Prometheus make them.
const UP = 'up';
const BUILD_INFO = 'egress_exporter_build_info';
const RELOAD_SUCCESSFUL = 'egress_exporter_config_last_reload_successful';
const STALL_MAX = 'egress_exporter_event_loop_stall_max_seconds';

const oneOf = (values: readonly string[]): string => values.join('|');

/** The labels of a family that state a fact, beside those that say where it was seen (target, path or resolver, scrape). */
const FACTS: Partial<Record<FamilyId, readonly string[]>> = {
  failureReason: ['check', 'reason'],
  success: ['check'],
  tlsRequirement: ['requirement'],
  tlsIssuer: ['issuer'],
  tcpProbed: ['family'],
  tcpReachable: ['family'],
  tcpConnect: ['family'],
  dnsTtlMax: ['type'],
  dnsTtlBelowRefresh: ['type'],
  dnsOutside: ['family'],
  registryFailure: ['step', 'reason'],
  registryBlobHost: ['blob_host'],
  pathInfo: ['proxy', 'expect_interception'],
  blockedVerdict: ['verdict'],
};

/** `ignoring (...)` for a join of two families: their facts and `extra` (labels one side lacks). */
const ignoring = (a: FamilyId, b: FamilyId, ...extra: string[]): string => {
  const labels = [...new Set([...(FACTS[a] ?? []), ...(FACTS[b] ?? []), ...extra])];
  return labels.length === 0 ? '' : ` ignoring (${labels.join(', ')})`;
};

const indent = (expr: string): string => expr.split('\n').map((line) => `  ${line}`).join('\n');


/** A template query for a series of the alert's own target and path (port is "" on 443, which matches its absence). */
const seriesOf = (id: FamilyId): string => `printf "${F[id].name}{host=%q,port=%q,path=%q}" $labels.host $labels.port $labels.path`;

/** Where a check ran, in a description: the dns check's resolver, every other check's path. */
const WHERE = '{{ with $labels.resolver }}resolver {{ . }}{{ else }}path {{ $labels.path }}{{ end }}';
/** A target as a person reads it: the host, and its port off 443. */
const TARGET = '{{ $labels.host }}{{ with $labels.port }}:{{ . }}{{ end }}';

function buildRules(config: AlertsConfig): Record<Group, Rule[]> {
  /** `{a, b, <config selector>}`: the given matchers plus the config's selector. */
  const s = (...matchers: string[]): string => {
    const all = [...matchers, config.selector.trim()].filter((m) => m !== '');
    return all.length === 0 ? '' : `{${all.join(', ')}}`;
  };
  /** A family's selector: its name, the given matchers and the config's selector. */
  const q = (id: FamilyId, ...matchers: string[]): string => `${F[id].name}${s(...matchers)}`;
  const a = config.alerts;
  const replicas = config.replica_labels.join(', ');
  /** What the replicas of one vantage point say, as one: an HA pair or /probe beside /metrics pages once. */
  const merged = (expr: string, ...more: string[]): string => `max without (${[replicas, ...more].join(', ')}) (\n${indent(expr)}\n)`;
  /** A fault of a path or resolver: one page for it, its value the number of hosts that show it. */
  const perHost = (expr: string): string => `count without (host, port) (\n${indent(expr)}\n)`;
  const clean = config.interception_expected_paths === '' ? [] : [`path!~"${config.interception_expected_paths}"`];
  /** Interception where it is not expected (the exporter's expect_interception, or the config's paths): the fault EgressTLSIntercepted pages. */
  const unexpectedInterception = `${q('tlsIntercepted', ...clean)} == 1\nunless${ignoring('tlsIntercepted', 'pathInfo', 'host', 'port')} ${q('pathInfo', 'expect_interception="true"')}`;
  /** The dns check's failure; its `resolver` label joins the DNS gauges' `resolver`. */
  const dnsFailing = q('failureReason', 'check="dns"');
  /** Only where the target's clients resolve the name themselves (no proxy resolves for them). */
  const dnsRequired = `${q('dnsRequired')} == 1`;
  /**
   * `expr`, a "must work" fault of the family `id`, without the paths that must stay blocked:
   * there a refusal, a denial or a failing handshake is the policy working. `extra`: labels
   * `id` has that a path's verdict lacks (the dns families' resolver, a join's blob_host).
   */
  const mustWork = (id: FamilyId, expr: string, ...extra: string[]): string => `(\n${indent(expr)}\n)\nunless${ignoring(id, 'blockedVerdict', ...extra)} ${q('blockedVerdict')}`;
  /** The same, in the PromQL of a description's host list (no config selector there, as in hostsOf's other queries). */
  const notBlocked = (id: FamilyId, ...extra: string[]): string => ` unless${ignoring(id, 'blockedVerdict', ...extra)} ${F.blockedVerdict.name}`;
  const anchor = (name: string): string => `${config.runbook_base_url}#${name.toLowerCase()}`;
  const rule = (
    name: AlertName,
    { expr, summary, description, severity }: { expr: string; summary: string; description: string; severity?: Severity },
  ): Rule => {
    const block = a[name];
    const level = severity ?? ('severity' in block ? block.severity : undefined);
    if (level === undefined) throw new Error(`${name}: no severity`);
    const keep = 'keep_firing_for' in block ? { keep_firing_for: block.keep_firing_for } : {};
    return { alert: name, expr, for: block.for, ...keep, labels: { severity: level }, annotations: { summary, description, runbook_url: anchor(name) } };
  };
  const lat = a.EgressConnectLatencyHigh;
  const exp = a.EgressTLSCertificateExpiringSoon;
  // A chain that no longer verifies (expired, say) is EgressTLSCertificateInvalid's page.
  const expiring = (severity: Severity, days: number): Rule =>
    rule('EgressTLSCertificateExpiringSoon', {
      severity,
      expr: merged(mustWork('tlsEarliestNotAfter', `${q('tlsEarliestNotAfter')} - time() < ${days} * 86400\nunless ${q('tlsVerified')} == 0`)),
      summary: 'A certificate presented to egress clients expires soon.',
      description:
        `A certificate in the chain that ${TARGET} presents on path {{ $labels.path }} expires in {{ $value | humanizeDuration }}` + ` (${severity} below ${days} days).`,
    });
  /** The hosts a page of a path or resolver counts, listed in its description (from every vantage point that sees them): `format` (a printf format) over `args`. */
  const hostsOf = (format: string, ...args: string[]): string =>
    `{{ range $i, $s := printf "max by (host, port) (${format})" ${args.join(' ')} | query | sortByLabel "port" | sortByLabel "host" }}{{ if $i }}, {{ end }}{{ $s.Labels.host }}{{ with $s.Labels.port }}:{{ . }}{{ end }}{{ end }}`;

  return {
    connectivity: [
      rule('EgressHostUnreachable', {
        // Directly: no address of a family accepts a connection. Through a proxy: the proxy
        // says it could not reach or resolve the host (the host's fault, not the proxy's).
        expr: merged(
          mustWork(
            'failureReason',
            `${q('failureReason', 'check="tcp"', `reason=~"${oneOf(CONNECT_FAILURE_REASONS)}"`)} == 1\n` +
              `or ${q('failureReason', 'check=~"tcp|tls|http"', `reason=~"${oneOf(PROXY_UPSTREAM_REASONS)}"`)} == 1`,
          ),
          'check',
        ),
        summary: 'A required host cannot be reached.',
        description:
          `${TARGET} cannot be reached on path {{ $labels.path }} ({{ $labels.reason }}): ` +
          '{{ if eq $labels.reason "proxy_bad_gateway" }}the proxy could not reach or resolve it{{ else }}no address of at least one of its IP families accepts a connection{{ end }}.',
      }),
      rule('EgressHostAddressesPartiallyUnreachable', {
        expr: merged(mustWork('tcpProbed', `(${q('tcpProbed')} - ${q('tcpReachable')}) > 0\nand ${q('tcpReachable')} > 0`)),
        summary: "Some of a host's addresses refuse connections while others accept them.",
        description:
          `{{ $value }} of the {{ $labels.family }} addresses of ${TARGET} refuse or time out on path {{ $labels.path }} while others accept: an IP-based firewall rule has likely gone stale.`,
      }),
      rule('EgressConnectLatencyHigh', {
        expr: merged(mustWork('tcpConnect', `quantile_over_time(${lat.quantile}, ${q('tcpConnect')}[${lat.window}])`), 'family') + ` > ${lat.threshold_seconds}`,
        summary: 'TCP connects to a host are slow.',
        description:
          `The ${lat.quantile * 100}th percentile of TCP connect time to ${TARGET} on path {{ $labels.path }} over ${lat.window} is {{ $value | humanizeDuration }}` +
          ` (threshold ${lat.threshold_seconds}s).`,
      }),
      rule('EgressProxyDenied', {
        expr: perHost(merged(mustWork('failureReason', `${q('failureReason', 'check=~"tcp|tls|http"', `reason=~"${oneOf(PROXY_DENIED_REASONS)}"`)} == 1`), 'check')),
        summary: 'A proxy refuses to tunnel to required hosts.',
        description:
          'Proxy {{ $labels.path }} refuses to tunnel to {{ $value }} host(s) ({{ $labels.reason }}: 403 denied by its policy, or 407 authentication required): ' +
          hostsOf(`${F.failureReason.name}{reason=%q,path=%q} == 1${notBlocked('failureReason')}`, '$labels.reason', '$labels.path'),
      }),
      rule('EgressProxyFailing', {
        expr: perHost(merged(mustWork('failureReason', `${q('failureReason', 'check=~"tcp|tls|http"', `reason=~"${oneOf(PROXY_FAILING_REASONS)}"`)} == 1`), 'check')),
        summary: 'A proxy fails to carry connections to required hosts.',
        description:
          'Connections to {{ $value }} host(s) through proxy {{ $labels.path }} fail with {{ $labels.reason }}: the proxy is down, stalls, answers other than HTTP or breaks the tunnel: ' +
          hostsOf(`${F.failureReason.name}{reason=%q,path=%q} == 1${notBlocked('failureReason')}`, '$labels.reason', '$labels.path'),
      }),
      rule('EgressBlockedHostReachable', {
        // One page a host and path. A verdict of reachable is a connection that completed, not a
        // symptom: it needs no time to settle (see generator/config.yml).
        expr: merged(`${q('blockedVerdict', 'verdict="reachable"')} == 1`, 'verdict'),
        summary: 'A host that must stay blocked is reachable: a hole in the egress policy.',
        description:
          `${TARGET} must stay blocked on path {{ $labels.path }}, yet a connection to it gets out: a firewall rule was widened, clients skip the proxy, NO_PROXY grew, or a proxy stopped filtering.` +
          `{{ range printf "sum(${F.tcpReachable.name}{host=%q,port=%q,path=%q}) > 0" $labels.host $labels.port $labels.path | query }}` +
          `{{ if eq $labels.path "direct" }} TCP connects to {{ . | value }} of its addresses.{{ else }} The proxy tunnels to it (200 to CONNECT).{{ end }}{{ end }}` +
          `{{ range printf "max by (issuer) (${F.tlsIssuer.name}{host=%q,port=%q,path=%q} and ignoring (issuer) ${F.tlsVerified.name}{host=%q,port=%q,path=%q} == 1)" $labels.host $labels.port $labels.path $labels.host $labels.port $labels.path | query }} A TLS handshake shows its certificate, issued by {{ .Labels.issuer }}.{{ end }}` +
          `{{ range printf "max(${F.httpStatus.name}{host=%q,port=%q,path=%q})" $labels.host $labels.port $labels.path | query }} It answers HTTP {{ . | value }}.{{ end }}`,
      }),
    ],
    dns: [
      rule('EgressDNSResolutionFailing', {
        expr: perHost(merged(`${q('failureReason', 'check="dns"', `reason=~"${oneOf(DNS_UNRESOLVED_REASONS)}"`)} == 1\nand${ignoring('failureReason', 'dnsRequired', 'resolver')} ${dnsRequired}`)),
        summary: 'Required host names do not resolve.',
        description:
          'Resolving {{ $value }} host name(s) through resolver {{ $labels.resolver }} fails with {{ $labels.reason }}: ' +
          hostsOf(`${F.failureReason.name}{check=%q,reason=%q,resolver=%q} == 1 and${ignoring('failureReason', 'dnsRequired', 'resolver')} ${F.dnsRequired.name} == 1`, '"dns"', '$labels.reason', '$labels.resolver'),
      }),
      rule('EgressDNSSinkholed', {
        expr: merged(`${q('failureReason', 'check="dns"', 'reason="sinkholed"')} == 1\nand${ignoring('failureReason', 'dnsRequired', 'resolver')} ${dnsRequired}`),
        summary: 'A required host name resolves to a sinkhole.',
        description: `Resolver {{ $labels.resolver }} answers ${TARGET} with addresses no public host has (0.0.0.0, loopback or private): a DNS filter blocks it.`,
      }),
      rule('EgressDNSTTLBelowFirewallRefresh', {
        // A host that must stay blocked on a path is not in the firewall's rules by design.
        expr: merged(
          mustWork('dnsTtlMax', `${q('dnsTtlMax')}\n` + `and (${q('dnsTtlBelowRefresh')} == 1)\n` + `unless${ignoring('dnsTtlMax', 'failureReason')} ${dnsFailing}`, 'resolver', 'path'),
        ),
        summary: "A host's DNS TTL is shorter than the firewall's refresh interval.",
        description:
          `The {{ $labels.type }} records of ${TARGET} have a TTL of {{ $value | humanizeDuration }} (resolver {{ $labels.resolver }}), shorter than the firewall refresh interval` +
          `{{ range query \`max(${q('refreshInterval')})\` }} of {{ . | value | humanizeDuration }}{{ end }}` +
          ': IP-based rules will miss new addresses.',
      }),
      rule('EgressDNSAddressesOutsideAllowlist', {
        expr: merged(mustWork('dnsOutside', `${q('dnsOutside')} > 0\nunless${ignoring('dnsOutside', 'failureReason')} ${dnsFailing}`, 'resolver', 'path')),
        summary: 'A host resolves to addresses outside the firewall allowlist.',
        description:
          `{{ $value }} {{ $labels.family }} addresses of ${TARGET} (resolver {{ $labels.resolver }}) fall outside dns.allowlist_cidrs: the firewall blocks clients that get them.`,
      }),
    ],
    tls: [
      rule('EgressTLSRequirementNotMet', {
        // One page a host and path, its value the number of requirements not met. The series is
        // absent when untested; a path with no address at all is left out, in case a verdict
        // from before the DNS failure lingers. A downgrading proxy also fails alpn_h2 and the
        // baseline (which needs h2): that is EgressHTTP2Downgraded's page. And on a path whose
        // chain was re-signed, the verdicts are the intercepting proxy's, not the path's to the
        // host: EgressTLSIntercepted's page where it is not expected, nobody's where it is.
        expr: `count without (requirement) (\n${indent(
          merged(
            mustWork(
              'tlsRequirement',
              `${q('tlsRequirement')} == 0\n` +
                `unless${ignoring('tlsRequirement', 'failureReason')} ${q('failureReason', 'check=~"tcp|tls"', 'reason="no_addresses"')}\n` +
                `unless (\n` +
                `    label_replace(${q('httpDowngraded')} == 1, "requirement", "alpn_h2", "", "")\n` +
                `  or label_replace(${q('httpDowngraded')} == 1, "requirement", "baseline", "", "")\n` +
                `)\n` +
                `unless${ignoring('tlsRequirement', 'tlsIntercepted')} ${q('tlsIntercepted')} == 1`,
            ),
          ),
        )}\n)`,
        summary: "A path fails the vendor's TLS requirements.",
        description:
          `Path {{ $labels.path }} to ${TARGET} does not meet the TLS requirements it is judged on: ` +
          `{{ range $i, $s := printf "max by (requirement) (${F.tlsRequirement.name}{host=%q,port=%q,path=%q} == 0)" $labels.host $labels.port $labels.path | query | sortByLabel "requirement" }}{{ if $i }}, {{ end }}{{ $s.Labels.requirement }}{{ end }}` +
          ' (a handshake constrained to each was refused or negotiated something else).',
      }),
      rule('EgressTLSIntercepted', {
        // A proxy marked `expect_interception: true` in the exporter's config inspects by design.
        expr: perHost(merged(mustWork('tlsIntercepted', unexpectedInterception))),
        summary: 'TLS to required hosts is intercepted on a path meant to be clean.',
        description:
          'The certificate chains of {{ $value }} host(s) on path {{ $labels.path }} are re-signed by another CA' +
          `{{ range printf "max by (issuer) (${F.tlsIssuer.name}{path=%q} and ignoring (issuer) ${F.tlsIntercepted.name} == 1)" $labels.path | query | sortByLabel "issuer" }} ({{ .Labels.issuer }}){{ end }}` +
          ': a TLS-inspecting proxy or firewall intercepts them: ' +
          hostsOf(`${F.tlsIntercepted.name}{path=%q} == 1${notBlocked('tlsIntercepted')}`, '$labels.path') +
          `{{ with printf "count(max by (host, port) (${F.httpDowngraded.name}{path=%q} == 1${notBlocked('httpDowngraded')}))" $labels.path | query }}. It also downgrades HTTP/2 to HTTP/1.1 for {{ . | first | value }} of them{{ end }}.`,
      }),
      rule('EgressTLSHandshakeFailing', {
        expr: merged(
          mustWork(
            'failureReason',
            `${q('failureReason', 'check="tls"', `reason=~"${oneOf(TLS_BROKEN_REASONS)}"`)} == 1\n` +
              `unless${ignoring('failureReason', 'tlsRequirement')} ${q('tlsRequirement')}\n` +
              `unless${ignoring('failureReason', 'failureReason')} ${q('failureReason', 'check="tcp"')}`,
          ),
        ),
        summary: 'No TLS handshake with a host completes, although TCP connects.',
        description:
          `Every TLS handshake with ${TARGET} on path {{ $labels.path }} ends without a verdict ({{ $labels.reason }}) although TCP connects: something on the path stalls, resets, or answers with something other than TLS.`,
      }),
      rule('EgressTLSCertificateInvalid', {
        // Unexpected interception is EgressTLSIntercepted's page (the re-signed chain seldom verifies either).
        expr: merged(mustWork('tlsVerified', `${q('tlsVerified')} == 0\nunless (\n${indent(unexpectedInterception)}\n)`)),
        summary: "A host's certificate chain does not verify.",
        description:
          `The certificate chain of ${TARGET} on path {{ $labels.path }} does not verify for the host name against the system roots plus tls.ca_file` +
          `{{ range ${seriesOf('tlsIssuer')} | query }} (issuer {{ .Labels.issuer }}){{ end }}.`,
      }),
      expiring('warning', exp.warning_days),
      expiring('critical', exp.critical_days),
    ],
    http: [
      rule('EgressHTTP2Downgraded', {
        expr: perHost(
          // A proxy intercepting where it should not is the fault: EgressTLSIntercepted pages it and says it downgrades.
          merged(
            mustWork(
              'httpDowngraded',
              `${q('httpDowngraded')} == 1\n` +
                `unless${ignoring('httpDowngraded', 'failureReason')} ${q('failureReason', 'check="http"', `reason!~"${oneOf(HTTP_VERDICT_REASONS)}"`)}\n` +
                `unless${ignoring('httpDowngraded', 'tlsIntercepted')} (\n${indent(unexpectedInterception)}\n)`,
            ),
          ),
        ),
        summary: 'HTTP/2 to required hosts is downgraded to HTTP/1.1.',
        description:
          'Clients offering h2 on path {{ $labels.path }} get HTTP/1.1 from {{ $value }} host(s) that speak HTTP/2: a proxy terminates TLS and downgrades it: ' +
          hostsOf(`${F.httpDowngraded.name}{path=%q} == 1${notBlocked('httpDowngraded')}`, '$labels.path'),
      }),
      rule('EgressHTTPUnexpectedResponse', {
        expr: merged(mustWork('httpValid', `${q('httpValid')} == 0\nunless${ignoring('httpValid', 'failureReason')} ${q('failureReason', 'check="http"', 'reason!="http_bad_response"')}`)),
        summary: 'A host does not give the expected HTTP answer.',
        description: `${TARGET} on path {{ $labels.path }} does not give the answer the catalog expects` + `{{ range ${seriesOf('httpStatus')} | query }} (status {{ . | value }}){{ end }}.`,
      }),
      rule('EgressHTTPRequestFailing', {
        // An answer (status) is EgressHTTPUnexpectedResponse's; a tcp or TLS check that
        // cannot get through is already paged by its own alert. One fault, one page.
        expr: merged(
          mustWork(
            'failureReason',
            `${q('failureReason', 'check="http"', `reason=~"${oneOf(HTTP_BROKEN_REASONS)}"`)} == 1\n` +
              `unless${ignoring('failureReason', 'httpValid')} ${q('httpValid')}\n` +
              `unless${ignoring('failureReason', 'failureReason')} ${q('failureReason', 'check="tcp"')}\n` +
              `unless${ignoring('failureReason', 'failureReason')} ${q('failureReason', 'check="tls"', `reason=~"${oneOf(TLS_BROKEN_REASONS)}"`)}`,
          ),
        ),
        summary: 'HTTP requests to a host get no usable answer, although TLS works.',
        description:
          `HTTP requests to ${TARGET} on path {{ $labels.path }} fail with {{ $labels.reason }} after a good TLS handshake: the server or something on the path breaks HTTP/2 (garbage frames, no SETTINGS, HTTP/1.1 after ALPN h2) or never answers.`,
      }),
    ],
    registry: [
      rule('EgressRegistryBlobHostBlocked', {
        // The blob host joins in as a label: the page names the host to allow.
        expr: merged(
          mustWork('registryFailure', `(${q('registryFailure', 'step="blob_redirect"')} == 1)\n*${ignoring('registryFailure', 'registryBlobHost')} group_left (blob_host) ${q('registryBlobHost')}`, 'blob_host'),
        ),
        summary: 'A registry answers, but the host its image blobs come from is blocked.',
        description:
          `Pulls from ${TARGET} on path {{ $labels.path }} would fail at the first layer: the registry redirects blobs to {{ $labels.blob_host }}, which cannot be reached ({{ $labels.reason }}). Allow {{ $labels.blob_host }} beside the registry.`,
      }),
      rule('EgressRegistryPullFailing', {
        // The blob host has its own alert; a registry that does not connect at all pages as unreachable.
        expr: merged(mustWork('registryFailure', `${q('registryFailure', 'step!="blob_redirect"')} == 1\nunless${ignoring('registryFailure', 'failureReason')} ${q('failureReason', 'check="tcp"')}`)),
        summary: 'An image pull from a registry would fail.',
        description: `A pull from ${TARGET} on path {{ $labels.path }} fails at the {{ $labels.step }} step ({{ $labels.reason }}).`,
      }),
      rule('EgressRegistryCredentialExpiring', {
        expr: merged(
          `${q('registryCredentialExpiry')} - time() < ${a.EgressRegistryCredentialExpiring.warning_days} * 86400\n` + `and ${q('registryCredentialExpiry')} - time() > 0`,
        ),
        summary: 'A registry pull token expires soon.',
        description: `The pull credential of {{ $labels.username }} for ${TARGET} expires in {{ $value | humanizeDuration }} (below ${a.EgressRegistryCredentialExpiring.warning_days} days): pulls fail once it does.`,
      }),
      rule('EgressRegistryCredentialExpired', {
        expr: merged(`${q('registryCredentialExpiry')} - time() <= 0`),
        summary: 'A registry pull token has expired.',
        description: `The pull credential of {{ $labels.username }} for ${TARGET} has expired: authenticated pulls fail.`,
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
    // The exporter's own health: per replica (instance), not merged.
    exporter: [
      rule('EgressProbesStale', {
        expr: `time() - ${q('roundFinished')} > ${durationSeconds(a.EgressProbesStale.stale_after)}`,
        summary: 'A target has stopped producing results.',
        description:
          `The checks of ${TARGET}{{ with $labels.instance }} on {{ . }}{{ end }} last finished {{ $value | humanizeDuration }} ago` + ` (stale after ${a.EgressProbesStale.stale_after}).`,
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
        // Its own measurement of the probing thread (a timer due every 10 ms), not
        // nodejs_eventloop_lag_*, which mostly shows the scrape that reads it.
        expr: `${STALL_MAX}${s()} > ${a.EgressExporterEventLoopLagHigh.threshold_seconds}`,
        summary: "The egress exporter's event loop is blocked.",
        description:
          'The probing thread of {{ $labels.instance }} stalled for {{ $value | humanizeDuration }} in the last minute: every latency it measured then is inflated by up to that much.',
      }),
      rule('EgressProbeInternalError', {
        expr: `${q('failureReason', 'reason="internal_error"')} == 1`,
        summary: 'A check hits a bug in the egress exporter.',
        description:
          `The {{ $labels.check }} check of ${TARGET} (${WHERE}) fails with internal_error, a bug in the exporter: its logs say more; please report it.`,
      }),
    ],
    sharding: shardingRules(config, s, rule),
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
