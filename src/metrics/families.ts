// Every series family the exporter renders from results, in exposition order:
// its name, HELP text and type. The README's metric table lists the same.
// Values come from the exporter's own schedule, not from the scrape.
import type { HistogramName } from '../model/histograms.js';
import type { FamilyDef } from './exposition.js';

const g = (name: string, help: string): FamilyDef => ({ name, help, type: 'gauge' });
const c = (name: string, help: string): FamilyDef => ({ name, help, type: 'counter' });
const h = (name: string, help: string): FamilyDef => ({ name, help, type: 'histogram' });

export const F = {
  targetInfo: g('egress_target_info', 'One series per probed target, with where it came from and what it is for.'),
  targetLabels: g('egress_target_label_info', 'Extra labels given to a target in the config, one series per label (join on host).'),

  success: g('egress_probe_success', 'Whether the latest run of the check succeeded (1) or failed (0).'),
  failureReason: g('egress_probe_failure_reason', 'Set to 1 for the reason of the latest failed run of the check; absent while the check succeeds.'),
  duration: g('egress_probe_duration_seconds', 'How long the latest run of the check took, deadline included.'),
  failures: c('egress_probe_failures_total', 'Runs of the check that failed (each round runs every check once: see egress_exporter_rounds_total).'),

  dnsTtl: g('egress_dns_ttl_seconds', 'Smallest TTL in the latest answer.'),
  dnsTtlMax: g('egress_dns_ttl_max_seconds', 'Largest TTL seen lately: estimates the configured TTL behind a caching resolver.'),
  dnsTtlChanges: c('egress_dns_ttl_changes_total', 'Times the estimated configured TTL changed (TTL drift).'),
  dnsTtlBelowRefresh: g(
    'egress_dns_ttl_below_firewall_refresh',
    '1 when the estimated TTL is shorter than dns.firewall_refresh_interval: IP-based rules will go stale. Absent while it is unset.',
  ),
  dnsAddresses: g('egress_dns_addresses', 'Addresses in the latest answer.'),
  dnsAddressChanges: c('egress_dns_address_changes_total', 'Times the answered address set changed.'),
  dnsAddressChanged: g('egress_dns_address_set_changed_timestamp_seconds', 'When the address set last changed (or was first seen by this process).'),
  dnsOutside: g('egress_dns_addresses_outside_allowlist', 'Addresses in the latest answer outside dns.allowlist_cidrs (only when it is set).'),
  dnsCnameLength: g('egress_dns_cname_chain_length', 'CNAME hops from the host name to the addresses.'),
  dnsRequired: g(
    'egress_dns_resolution_required',
    "1 when the target's clients resolve its name themselves (dns.required, or a direct path): only then does a failed lookup fail the target and page; 0 behind a proxy that resolves for them.",
  ),

  tcpConnect: g('egress_tcp_connect_duration_seconds', 'The slowest successful TCP connect of the latest run, per family (on a proxy path: to the proxy).'),
  tcpReachable: g('egress_tcp_addresses_reachable', 'Addresses that accepted a TCP connection in the latest run.'),
  tcpProbed: g('egress_tcp_addresses_probed', 'Addresses the latest run tried to connect to.'),
  tcpFailures: c('egress_tcp_connect_failures_total', 'Failed TCP connects, by reason.'),

  tlsRequirement: g('egress_tls_requirement_met', 'Whether the path meets the TLS requirement (1) or not (0); absent when it could not be tested.'),
  tlsRequirementsRun: g(
    'egress_tls_requirements_last_run_timestamp_seconds',
    'When the requirement handshakes last ran (every tls.requirements_interval, and at once when the default handshake changes).',
  ),
  tlsHandshake: g('egress_tls_handshake_duration_seconds', 'Time of the latest unconstrained TLS handshake.'),
  tlsVersion: g('egress_tls_version_info', 'TLS version a default client negotiates.'),
  tlsCipher: g('egress_tls_cipher_info', 'Cipher suite (IANA name) a default client negotiates.'),
  tlsGroup: g('egress_tls_group_info', 'Key exchange group a default client negotiates.'),
  tlsAlpn: g('egress_tls_alpn_info', 'ALPN protocol selected when h2 and http/1.1 are offered (none: no ALPN).'),
  tlsNotAfter: g('egress_tls_cert_not_after_timestamp_seconds', 'When the leaf certificate expires.'),
  tlsEarliestNotAfter: g('egress_tls_chain_earliest_not_after_timestamp_seconds', 'When the first certificate of the presented chain expires.'),
  tlsIssuer: g('egress_tls_cert_issuer_info', "The leaf certificate's issuer, as CN and O."),
  tlsVerified: g('egress_tls_verified', 'Whether the chain verified for the host name against the system roots plus tls.ca_file.'),
  tlsTrust: g('egress_tls_trust_info', 'Which trust the chain verifies against: system (public roots), ca_file (only tls.ca_file) or none.'),
  tlsIntercepted: g('egress_tls_intercepted', 'Whether the chain on this path was re-signed by another CA (a TLS-inspecting proxy).'),

  httpVersion: g('egress_http_version', 'HTTP version of the latest answer: 2 or 1.1 (the protocol actually used).'),
  httpStatus: g('egress_http_status_code', 'Status code of the latest answer.'),
  httpDuration: g('egress_http_duration_seconds', 'Time of each phase of the latest HTTP check: dns, connect, proxy_connect, tls, first_byte.'),
  httpValid: g('egress_http_response_valid', 'Whether the latest answer is the one the host should give (status and headers).'),
  httpDowngraded: g(
    'egress_http2_downgraded',
    'Whether h2 was offered and HTTP/1.1 came back from a host known to speak h2; absent when no answer came back.',
  ),

  blockedVerdict: g(
    'egress_blocked_verdict',
    'Set to 1 for the verdict on a path that must stay blocked (expect: blocked): blocked (it held), reachable (a connection to the host got out) or unknown (could not tell). Absent on a path that must work.',
  ),

  registryStep: g('egress_registry_step_duration_seconds', 'Time of each step of the latest registry pull: ping, token, manifest, blob_redirect, blob_first_byte (a step that did not run is absent).'),
  registryFailure: g('egress_registry_failure_reason', 'Set to 1 for the step where the latest pull failed and why; absent while the pull works.'),
  registryBlobHost: g('egress_registry_blob_host_info', 'The host the blob redirect pointed to in the latest pull (the registry itself when it served the blob).'),
  registryCredentialExpiry: g('egress_registry_credential_expiry_timestamp_seconds', "When the pull credential (a JWT password's exp) expires."),

  roundDuration: g('egress_exporter_round_duration_seconds', 'Time the latest round of the target took (every check once).'),
  roundFinished: g('egress_exporter_round_finished_timestamp_seconds', 'When the latest round of the target finished, in seconds since the epoch: every check of it ran in that round.'),
  rounds: c('egress_exporter_rounds_total', 'Rounds of the target that finished.'),
  roundOverruns: c('egress_exporter_round_overruns_total', 'Rounds skipped because the previous round of the target was still running.'),

  // Opt-in histograms (metrics.histograms): every observation, for quantiles and heatmaps.
  probeHistogram: h('egress_probe_duration_histogram_seconds', 'How long each run of the check took (metrics.histograms: probe).'),
  dnsLookupHistogram: h('egress_dns_lookup_duration_histogram_seconds', 'Time of each A or AAAA lookup (metrics.histograms: dns_lookup).'),
  tcpConnectHistogram: h('egress_tcp_connect_duration_histogram_seconds', 'Time of each successful TCP connect (metrics.histograms: tcp_connect).'),
  tlsHandshakeHistogram: h('egress_tls_handshake_duration_histogram_seconds', 'Time of each unconstrained TLS handshake (metrics.histograms: tls_handshake).'),
  httpHistogram: h('egress_http_duration_histogram_seconds', 'Time of each phase of each HTTP check (metrics.histograms: http).'),
  roundHistogram: h('egress_exporter_round_duration_histogram_seconds', 'Time of each round of the target (metrics.histograms: round).'),

  // Not per target
  proxyConnect: h('egress_proxy_connect_duration_seconds', 'Time from sending CONNECT to its 200, per proxy path.'),
  pathInfo: g('egress_path_info', 'One series per path in use: the proxy (password redacted; empty for direct) and whether interception is its job.'),
  refreshInterval: g('egress_dns_firewall_refresh_interval_seconds', 'dns.firewall_refresh_interval from the config; 0 when unset.'),
} as const satisfies Record<string, FamilyDef>;

export type FamilyId = keyof typeof F;

/** The family each latency of metrics.histograms fills. */
export const HISTOGRAMS = {
  probe: 'probeHistogram',
  dns_lookup: 'dnsLookupHistogram',
  tcp_connect: 'tcpConnectHistogram',
  tls_handshake: 'tlsHandshakeHistogram',
  http: 'httpHistogram',
  round: 'roundHistogram',
} as const satisfies Record<HistogramName, FamilyId>;

/** Families rendered per target, in output order. */
export const TARGET_FAMILIES: readonly FamilyId[] = (Object.keys(F) as FamilyId[]).filter((id) => !['proxyConnect', 'pathInfo', 'refreshInterval'].includes(id));
