// Maps probe results to Prometheus series. The only module that writes
// metrics; it also removes the series of targets and paths that went away.
import type { Registry } from 'prom-client';
import type { Config } from '../config/types.js';
import type { DnsResult } from '../probes/dns.js';
import type { HttpResult } from '../probes/http.js';
import type { TcpResult } from '../probes/tcp.js';
import type { TlsResult } from '../probes/tls.js';
import type { ProbeOutcome } from '../probes/types.js';
import type { CheckName, Target } from '../model/types.js';
import { Allowlist } from './allowlist.js';
import { LATENCY_BUCKETS, PROBE_BUCKETS } from './buckets.js';
import { DnsHistory } from './dns-history.js';
import { TrackedCounter, TrackedGauge, TrackedHistogram } from './series.js';

export interface RecorderOptions {
  intervalMs: number;
  /** null: no IP-based firewall to compare TTLs with. */
  firewallRefreshIntervalMs: number | null;
  allowlistCidrs: readonly string[];
}

const nowSeconds = (nowMs: number): number => nowMs / 1000;

/** The recorder's part of the config. */
export function recorderOptionsFrom(config: Config): RecorderOptions {
  return {
    intervalMs: config.intervalMs,
    firewallRefreshIntervalMs: config.dns.firewallRefreshIntervalMs,
    allowlistCidrs: config.dns.allowlistCidrs,
  };
}

/** `CN=GTS WR3, O=Google Trust Services`: bounded (each part at most 64 characters). */
export function issuerLabel(cn: string, o: string): string {
  return [cn && `CN=${cn}`, o && `O=${o}`].filter(Boolean).join(', ') || 'unknown';
}

export class Recorder {
  private allowlist: Allowlist;
  private readonly histories = new Map<string, DnsHistory>();
  private options: RecorderOptions;
  private readonly refreshInterval: TrackedGauge<never>;

  // Every check
  private readonly success: TrackedGauge<'host' | 'check' | 'path'>;
  private readonly failureReason: TrackedGauge<'host' | 'check' | 'path' | 'reason'>;
  private readonly duration: TrackedHistogram<'host' | 'check' | 'path'>;
  private readonly runs: TrackedCounter<'host' | 'check' | 'path' | 'result'>;
  private readonly lastRun: TrackedGauge<'host' | 'check' | 'path'>;
  private readonly targetInfo: TrackedGauge<'host' | 'port' | 'source' | 'purpose'>;
  private readonly targetLabels: TrackedGauge<'host' | 'name' | 'value'>;
  // DNS
  private readonly dnsLookup: TrackedHistogram<'host' | 'resolver'>;
  private readonly dnsTtl: TrackedGauge<'host' | 'type' | 'resolver'>;
  private readonly dnsTtlMax: TrackedGauge<'host' | 'type' | 'resolver'>;
  private readonly dnsTtlChanges: TrackedCounter<'host' | 'type' | 'resolver'>;
  private readonly dnsTtlBelowRefresh: TrackedGauge<'host' | 'type' | 'resolver'>;
  private readonly dnsAddresses: TrackedGauge<'host' | 'family' | 'resolver'>;
  private readonly dnsAddressChanges: TrackedCounter<'host' | 'family' | 'resolver'>;
  private readonly dnsAddressChanged: TrackedGauge<'host' | 'family' | 'resolver'>;
  private readonly dnsOutside: TrackedGauge<'host' | 'family' | 'resolver'>;
  private readonly dnsCnameLength: TrackedGauge<'host' | 'resolver'>;
  // TCP
  private readonly tcpConnect: TrackedHistogram<'host' | 'family' | 'path'>;
  private readonly tcpReachable: TrackedGauge<'host' | 'family' | 'path'>;
  private readonly tcpProbed: TrackedGauge<'host' | 'family' | 'path'>;
  private readonly tcpFailures: TrackedCounter<'host' | 'family' | 'path' | 'reason'>;
  // TLS
  private readonly tlsRequirement: TrackedGauge<'host' | 'path' | 'requirement'>;
  private readonly tlsHandshake: TrackedHistogram<'host' | 'path'>;
  private readonly tlsVersion: TrackedGauge<'host' | 'path' | 'version'>;
  private readonly tlsCipher: TrackedGauge<'host' | 'path' | 'cipher'>;
  private readonly tlsGroup: TrackedGauge<'host' | 'path' | 'group'>;
  private readonly tlsAlpn: TrackedGauge<'host' | 'path' | 'alpn'>;
  private readonly tlsNotAfter: TrackedGauge<'host' | 'path'>;
  private readonly tlsEarliestNotAfter: TrackedGauge<'host' | 'path'>;
  private readonly tlsIssuer: TrackedGauge<'host' | 'path' | 'issuer'>;
  private readonly tlsVerified: TrackedGauge<'host' | 'path'>;
  private readonly tlsTrust: TrackedGauge<'host' | 'path' | 'trust'>;
  private readonly tlsIntercepted: TrackedGauge<'host' | 'path'>;
  // HTTP and proxies
  private readonly httpVersion: TrackedGauge<'host' | 'path'>;
  private readonly httpStatus: TrackedGauge<'host' | 'path'>;
  private readonly httpDuration: TrackedHistogram<'host' | 'path' | 'phase'>;
  private readonly httpValid: TrackedGauge<'host' | 'path'>;
  private readonly httpDowngraded: TrackedGauge<'host' | 'path'>;
  private readonly proxyConnect: TrackedHistogram<'path'>;
  private readonly pathInfo: TrackedGauge<'path' | 'proxy' | 'expect_interception'>;
  // The exporter itself
  private readonly roundDuration: TrackedHistogram<'host'>;
  private readonly roundOverruns: TrackedCounter<'host'>;

  constructor(registry: Registry, options: RecorderOptions) {
    this.options = options;
    this.allowlist = new Allowlist(options.allowlistCidrs);
    const r = registry;
    this.success = new TrackedGauge(r, 'egress_probe_success', 'Whether the latest run of the check succeeded (1) or failed (0).', ['host', 'check', 'path']);
    this.failureReason = new TrackedGauge(
      r,
      'egress_probe_failure_reason',
      'Set to 1 for the reason of the latest failed run of the check; absent while the check succeeds.',
      ['host', 'check', 'path', 'reason'],
    );
    this.duration = new TrackedHistogram(r, 'egress_probe_duration_seconds', 'How long a check took, deadline included.', ['host', 'check', 'path'], PROBE_BUCKETS);
    this.runs = new TrackedCounter(r, 'egress_probe_runs_total', 'Checks run, by result (success or failure).', ['host', 'check', 'path', 'result']);
    this.lastRun = new TrackedGauge(r, 'egress_probe_last_run_timestamp_seconds', 'When the check last finished, in seconds since the epoch.', ['host', 'check', 'path']);
    this.targetInfo = new TrackedGauge(r, 'egress_target_info', 'One series per probed target, with where it came from and what it is for.', [
      'host',
      'port',
      'source',
      'purpose',
    ]);
    this.targetLabels = new TrackedGauge(
      r,
      'egress_target_label_info',
      'Extra labels given to a target in the config, one series per label (join on host).',
      ['host', 'name', 'value'],
    );

    this.dnsLookup = new TrackedHistogram(r, 'egress_dns_lookup_duration_seconds', 'Time of one A or AAAA lookup.', ['host', 'resolver'], LATENCY_BUCKETS);
    this.dnsTtl = new TrackedGauge(r, 'egress_dns_ttl_seconds', 'Smallest TTL in the latest answer.', ['host', 'type', 'resolver']);
    this.dnsTtlMax = new TrackedGauge(
      r,
      'egress_dns_ttl_max_seconds',
      'Largest TTL seen lately: estimates the configured TTL behind a caching resolver.',
      ['host', 'type', 'resolver'],
    );
    this.dnsTtlChanges = new TrackedCounter(r, 'egress_dns_ttl_changes_total', 'Times the estimated configured TTL changed (TTL drift).', ['host', 'type', 'resolver']);
    this.dnsTtlBelowRefresh = new TrackedGauge(
      r,
      'egress_dns_ttl_below_firewall_refresh',
      '1 when the estimated TTL is shorter than dns.firewall_refresh_interval: IP-based rules will go stale. Always 0 while it is unset.',
      ['host', 'type', 'resolver'],
    );
    this.dnsAddresses = new TrackedGauge(r, 'egress_dns_addresses', 'Addresses in the latest answer.', ['host', 'family', 'resolver']);
    this.dnsAddressChanges = new TrackedCounter(r, 'egress_dns_address_changes_total', 'Times the answered address set changed.', ['host', 'family', 'resolver']);
    this.dnsAddressChanged = new TrackedGauge(
      r,
      'egress_dns_address_set_changed_timestamp_seconds',
      'When the address set last changed (or was first seen by this process).',
      ['host', 'family', 'resolver'],
    );
    this.dnsOutside = new TrackedGauge(
      r,
      'egress_dns_addresses_outside_allowlist',
      'Addresses in the latest answer outside dns.allowlist_cidrs (only when it is set).',
      ['host', 'family', 'resolver'],
    );
    this.dnsCnameLength = new TrackedGauge(r, 'egress_dns_cname_chain_length', 'CNAME hops from the host name to the addresses.', ['host', 'resolver']);

    this.tcpConnect = new TrackedHistogram(r, 'egress_tcp_connect_duration_seconds', 'Time of each successful TCP connect.', ['host', 'family', 'path'], LATENCY_BUCKETS);
    this.tcpReachable = new TrackedGauge(r, 'egress_tcp_addresses_reachable', 'Addresses that accepted a TCP connection in the latest run.', ['host', 'family', 'path']);
    this.tcpProbed = new TrackedGauge(r, 'egress_tcp_addresses_probed', 'Addresses the latest run tried to connect to.', ['host', 'family', 'path']);
    this.tcpFailures = new TrackedCounter(r, 'egress_tcp_connect_failures_total', 'Failed TCP connects, by reason.', ['host', 'family', 'path', 'reason']);

    this.tlsRequirement = new TrackedGauge(
      r,
      'egress_tls_requirement_met',
      'Whether the path meets the TLS requirement (1) or not (0); absent when it could not be tested.',
      ['host', 'path', 'requirement'],
    );
    this.tlsHandshake = new TrackedHistogram(r, 'egress_tls_handshake_duration_seconds', 'Time of the unconstrained TLS handshake.', ['host', 'path'], LATENCY_BUCKETS);
    this.tlsVersion = new TrackedGauge(r, 'egress_tls_version_info', 'TLS version a default client negotiates.', ['host', 'path', 'version']);
    this.tlsCipher = new TrackedGauge(r, 'egress_tls_cipher_info', 'Cipher suite (IANA name) a default client negotiates.', ['host', 'path', 'cipher']);
    this.tlsGroup = new TrackedGauge(r, 'egress_tls_group_info', 'Key exchange group a default client negotiates.', ['host', 'path', 'group']);
    this.tlsAlpn = new TrackedGauge(r, 'egress_tls_alpn_info', 'ALPN protocol selected when h2 and http/1.1 are offered (none: no ALPN).', ['host', 'path', 'alpn']);
    this.tlsNotAfter = new TrackedGauge(r, 'egress_tls_cert_not_after_timestamp_seconds', 'When the leaf certificate expires.', ['host', 'path']);
    this.tlsEarliestNotAfter = new TrackedGauge(
      r,
      'egress_tls_chain_earliest_not_after_timestamp_seconds',
      'When the first certificate of the presented chain expires.',
      ['host', 'path'],
    );
    this.tlsIssuer = new TrackedGauge(r, 'egress_tls_cert_issuer_info', "The leaf certificate's issuer, as CN and O.", ['host', 'path', 'issuer']);
    this.tlsVerified = new TrackedGauge(r, 'egress_tls_verified', 'Whether the chain verified for the host name against the system roots plus tls.ca_file.', [
      'host',
      'path',
    ]);
    this.tlsTrust = new TrackedGauge(
      r,
      'egress_tls_trust_info',
      'Which trust the chain verifies against: system (public roots), ca_file (only tls.ca_file) or none.',
      ['host', 'path', 'trust'],
    );
    this.tlsIntercepted = new TrackedGauge(r, 'egress_tls_intercepted', 'Whether the chain on this path was re-signed by another CA (a TLS-inspecting proxy).', [
      'host',
      'path',
    ]);

    this.httpVersion = new TrackedGauge(r, 'egress_http_version', 'HTTP version of the latest answer: 2 or 1.1 (the protocol actually used).', ['host', 'path']);
    this.httpStatus = new TrackedGauge(r, 'egress_http_status_code', 'Status code of the latest answer.', ['host', 'path']);
    this.httpDuration = new TrackedHistogram(
      r,
      'egress_http_duration_seconds',
      'Time of each phase of the HTTP check: dns, connect, proxy_connect, tls, first_byte.',
      ['host', 'path', 'phase'],
      LATENCY_BUCKETS,
    );
    this.httpValid = new TrackedGauge(r, 'egress_http_response_valid', 'Whether the latest answer is the one the host should give (status and headers).', ['host', 'path']);
    this.httpDowngraded = new TrackedGauge(
      r,
      'egress_http2_downgraded',
      'Whether h2 was offered and HTTP/1.1 came back from a host known to speak h2; absent when no answer came back.',
      ['host', 'path'],
    );
    this.proxyConnect = new TrackedHistogram(r, 'egress_proxy_connect_duration_seconds', 'Time from sending CONNECT to its 200, per proxy path.', ['path'], LATENCY_BUCKETS);

    this.pathInfo = new TrackedGauge(
      r,
      'egress_path_info',
      'One series per path in use: the proxy (password redacted; empty for direct) and whether interception is its job.',
      ['path', 'proxy', 'expect_interception'],
    );

    this.roundDuration = new TrackedHistogram(r, 'egress_exporter_round_duration_seconds', 'Time to run every check of one target once.', ['host'], PROBE_BUCKETS);
    this.roundOverruns = new TrackedCounter(
      r,
      'egress_exporter_round_overruns_total',
      'Rounds skipped because the previous round of the target was still running.',
      ['host'],
    );
    this.refreshInterval = new TrackedGauge(r, 'egress_dns_firewall_refresh_interval_seconds', 'dns.firewall_refresh_interval from the config; 0 when unset.', []);
    this.setRefreshInterval(options.firewallRefreshIntervalMs);
  }

  /** Unset reads as 0: no IP-based rules, so no TTL is ever shorter (dashboards still get a line). */
  private setRefreshInterval(ms: number | null): void {
    this.refreshInterval.set({}, (ms ?? 0) / 1000);
  }

  /** New options after a reload; DNS histories keep their samples. */
  configure(options: RecorderOptions): void {
    this.options = options;
    this.allowlist = new Allowlist(options.allowlistCidrs);
    this.setRefreshInterval(options.firewallRefreshIntervalMs);
    if (!this.allowlist.enabled) this.dnsOutside.removeMatching({});
  }

  /** Removes the series of one check on one path (a resolver or path the config dropped). */
  removeCheck(host: string, check: CheckName, path: string): void {
    for (const metric of [this.success, this.failureReason, this.duration, this.runs, this.lastRun]) metric.removeMatching({ host, check, path });
    switch (check) {
      case 'dns':
        for (const metric of this.dnsMetrics()) metric.removeMatching({ host, resolver: path });
        for (const key of this.histories.keys()) if (key.startsWith(`${host}\u0000`) && key.endsWith(`\u0000${path}`)) this.histories.delete(key);
        return;
      case 'tcp':
        for (const metric of [this.tcpConnect, this.tcpReachable, this.tcpProbed, this.tcpFailures]) metric.removeMatching({ host, path });
        return;
      case 'tls':
        for (const metric of this.tlsMetrics()) metric.removeMatching({ host, path });
        return;
      case 'http':
        for (const metric of this.httpMetrics()) metric.removeMatching({ host, path });
        return;
    }
  }

  private httpMetrics() {
    return [this.httpVersion, this.httpStatus, this.httpDuration, this.httpValid, this.httpDowngraded];
  }

  /** `downgraded` is decided by the round, which knows the other paths and the catalog. */
  recordHttp(target: Target, path: string, result: HttpResult, cross: { downgraded?: boolean; dnsSeconds?: number | undefined }, nowMs: number): void {
    const { host } = target;
    const labels = { host, path };
    this.recordCheck(host, 'http', path, result, nowMs);
    if (result.protocol !== undefined) this.httpVersion.set(labels, result.protocol === '2' ? 2 : 1.1);
    else this.httpVersion.removeMatching(labels);
    if (result.status !== undefined) this.httpStatus.set(labels, result.status);
    else this.httpStatus.removeMatching(labels);
    // No answer: nothing to judge, so no "invalid" and no "downgraded".
    if (result.status !== undefined) this.httpValid.set(labels, result.valid ? 1 : 0);
    else this.httpValid.removeMatching(labels);
    if (cross.downgraded !== undefined) this.httpDowngraded.set(labels, cross.downgraded ? 1 : 0);
    else this.httpDowngraded.removeMatching(labels);
    const phases: Record<string, number | undefined> = { dns: cross.dnsSeconds, ...result.phases };
    for (const [phase, seconds] of Object.entries(phases)) if (seconds !== undefined) this.httpDuration.observe({ ...labels, phase }, seconds);
  }

  private dnsMetrics() {
    return [
      this.dnsLookup,
      this.dnsTtl,
      this.dnsTtlMax,
      this.dnsTtlChanges,
      this.dnsTtlBelowRefresh,
      this.dnsAddresses,
      this.dnsAddressChanges,
      this.dnsAddressChanged,
      this.dnsOutside,
      this.dnsCnameLength,
    ];
  }

  /** Declares the targets; series of hosts no longer among them are removed. */
  setTargets(targets: readonly Target[], previous: readonly Target[] = []): void {
    const hosts = new Set(targets.map((t) => t.host));
    for (const old of previous) if (!hosts.has(old.host)) this.removeHost(old.host);
    for (const target of targets) {
      this.targetInfo.setOnly(
        { host: target.host },
        { host: target.host, port: String(target.port), source: target.source, purpose: target.purpose },
      );
      this.targetLabels.removeMatching({ host: target.host });
      for (const [name, value] of Object.entries(target.labels)) this.targetLabels.set({ host: target.host, name, value }, 1);
      this.roundOverruns.touch({ host: target.host });
    }
  }

  removeHost(host: string): void {
    for (const metric of [
      this.success,
      this.failureReason,
      this.duration,
      this.runs,
      this.lastRun,
      this.targetInfo,
      this.targetLabels,
      ...this.dnsMetrics(),
      this.tcpConnect,
      this.tcpReachable,
      this.tcpProbed,
      this.tcpFailures,
      ...this.tlsMetrics(),
      ...this.httpMetrics(),
      this.roundDuration,
      this.roundOverruns,
    ]) {
      metric.removeMatching({ host });
    }
    for (const key of this.histories.keys()) if (key.startsWith(`${host}\u0000`)) this.histories.delete(key);
  }

  /** What every check reports: success, the current reason, duration, run counts. */
  recordCheck(host: string, check: CheckName, path: string, outcome: ProbeOutcome, nowMs: number): void {
    const labels = { host, check, path };
    this.success.set(labels, outcome.ok ? 1 : 0);
    if (outcome.ok || !outcome.reason) this.failureReason.removeMatching(labels);
    else this.failureReason.setOnly(labels, { ...labels, reason: outcome.reason });
    this.duration.observe(labels, outcome.durationSeconds);
    this.runs.inc({ ...labels, result: outcome.ok ? 'success' : 'failure' });
    this.runs.touch({ ...labels, result: outcome.ok ? 'failure' : 'success' });
    this.lastRun.set(labels, nowSeconds(nowMs));
  }

  recordDns(target: Target, result: DnsResult, nowMs: number): void {
    const { host } = target;
    const resolver = result.resolver;
    this.recordCheck(host, 'dns', resolver, result, nowMs);
    this.dnsCnameLength.set({ host, resolver }, result.cnameChain.length);
    for (const record of result.records) {
      const byType = { host, type: record.type, resolver };
      const byFamily = { host, family: record.family, resolver };
      this.dnsLookup.observe({ host, resolver }, record.durationSeconds);
      this.dnsTtlChanges.touch(byType);
      this.dnsAddressChanges.touch(byFamily);
      if (!record.ok || record.ttl === null) {
        // No usable answer: nothing to count, and no TTL "now". The estimate stays.
        this.dnsAddresses.set(byFamily, record.addresses.length);
        this.dnsTtl.removeMatching(byType);
        if (this.allowlist.enabled) this.dnsOutside.set(byFamily, this.allowlist.countOutside(record.addresses));
        continue;
      }
      const history = this.history(host, record.type, resolver);
      const update = history.observe(record.ttl, record.addresses, nowMs);
      this.dnsTtl.set(byType, record.ttl);
      this.dnsTtlMax.set(byType, update.ttlMax);
      if (update.ttlChanged) this.dnsTtlChanges.inc(byType);
      const refreshMs = this.options.firewallRefreshIntervalMs ?? 0;
      this.dnsTtlBelowRefresh.set(byType, update.ttlMax * 1000 < refreshMs ? 1 : 0);
      this.dnsAddresses.set(byFamily, record.addresses.length);
      if (update.addressesChanged) this.dnsAddressChanges.inc(byFamily);
      this.dnsAddressChanged.set(byFamily, nowSeconds(update.addressSetSinceMs));
      if (this.allowlist.enabled) this.dnsOutside.set(byFamily, this.allowlist.countOutside(record.addresses));
    }
  }

  recordTcp(target: Target, path: string, result: TcpResult, nowMs: number): void {
    const { host } = target;
    this.recordCheck(host, 'tcp', path, result, nowMs);
    for (const family of result.families) {
      const labels = { host, family: family.family, path };
      this.tcpProbed.set(labels, family.probed);
      this.tcpReachable.set(labels, family.reachable);
      for (const attempt of family.attempts) {
        if (attempt.ok) this.tcpConnect.observe(labels, attempt.connectSeconds);
        else if (attempt.reason) this.tcpFailures.inc({ ...labels, reason: attempt.reason });
      }
    }
    if (result.proxyConnectSeconds !== undefined) this.proxyConnect.observe({ path }, result.proxyConnectSeconds);
  }

  private tlsMetrics() {
    return [
      this.tlsRequirement,
      this.tlsHandshake,
      this.tlsVersion,
      this.tlsCipher,
      this.tlsGroup,
      this.tlsAlpn,
      this.tlsNotAfter,
      this.tlsEarliestNotAfter,
      this.tlsIssuer,
      this.tlsVerified,
      this.tlsTrust,
      this.tlsIntercepted,
    ];
  }

  /** `intercepted` is decided by the round, which can compare paths. */
  recordTls(target: Target, path: string, result: TlsResult, intercepted: boolean | undefined, nowMs: number): void {
    const { host } = target;
    const labels = { host, path };
    this.recordCheck(host, 'tls', path, result, nowMs);
    // No handshake at all (no address, a watchdog): every requirement is untested.
    if (result.requirements.length === 0) this.tlsRequirement.removeMatching(labels);
    for (const requirement of result.requirements) {
      const series = { ...labels, requirement: requirement.requirement };
      // Untested is not "not met": the series goes away, the failure reason tells why.
      if (requirement.verdict === 'untested') this.tlsRequirement.removeMatching(series);
      else this.tlsRequirement.set(series, requirement.verdict === 'met' ? 1 : 0);
    }
    const facts = result.handshake;
    if (facts) {
      this.tlsHandshake.observe(labels, facts.handshakeSeconds);
      this.tlsVersion.setOnly(labels, { ...labels, version: facts.version });
      this.tlsCipher.setOnly(labels, { ...labels, cipher: facts.cipher });
      this.tlsGroup.setOnly(labels, { ...labels, group: facts.group });
      this.tlsAlpn.setOnly(labels, { ...labels, alpn: facts.alpn });
    } else {
      for (const metric of [this.tlsVersion, this.tlsCipher, this.tlsGroup, this.tlsAlpn]) metric.removeMatching(labels);
    }
    const cert = result.certificate;
    if (cert) {
      this.tlsNotAfter.set(labels, cert.leafNotAfter);
      this.tlsEarliestNotAfter.set(labels, cert.earliestNotAfter);
      this.tlsIssuer.setOnly(labels, { ...labels, issuer: issuerLabel(cert.issuerCN, cert.issuerO) });
      this.tlsVerified.set(labels, cert.verified ? 1 : 0);
      this.tlsTrust.setOnly(labels, { ...labels, trust: cert.trust });
      this.tlsIntercepted.set(labels, (intercepted ?? cert.intercepted) ? 1 : 0);
    } else {
      for (const metric of [this.tlsNotAfter, this.tlsEarliestNotAfter, this.tlsIssuer, this.tlsVerified, this.tlsTrust, this.tlsIntercepted]) {
        metric.removeMatching(labels);
      }
    }
  }

  /** Declares the paths in use; series of paths gone are removed. */
  setPaths(paths: ReadonlyArray<{ name: string; proxy: string; expectInterception: boolean }>): void {
    this.pathInfo.removeMatching({});
    for (const path of paths) this.pathInfo.set({ path: path.name, proxy: path.proxy, expect_interception: String(path.expectInterception) }, 1);
    const names = new Set(paths.map((p) => p.name));
    for (const known of this.proxyPaths) if (!names.has(known)) this.proxyConnect.removeMatching({ path: known });
    this.proxyPaths = names;
  }

  private proxyPaths = new Set<string>();

  recordRound(host: string, durationSeconds: number): void {
    this.roundDuration.observe({ host }, durationSeconds);
  }

  recordOverrun(host: string): void {
    this.roundOverruns.inc({ host });
  }

  private history(host: string, type: string, resolver: string): DnsHistory {
    const key = `${host}\u0000${type}\u0000${resolver}`;
    let history = this.histories.get(key);
    if (!history) {
      history = new DnsHistory({ intervalMs: this.options.intervalMs });
      this.histories.set(key, history);
    }
    return history;
  }
}
