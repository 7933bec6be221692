// One target's series. The current-state ones are rendered from its state (the latest
// judged round, its DNS judgements, the overrun count); the cumulative ones (counters,
// opt-in histograms) are updated here as each round arrives. Rendering happens once per
// round, so a scrape only concatenates. Series of a check, path or resolver the latest
// round no longer has are simply not rendered, and their counters go.
import { checkResults } from '../checks/path-checks.js';
import type { RoundReport } from '../checks/report.js';
import { whereName } from '../checks/report.js';
import type { Target } from '../model/types.js';
import { issuerLabel } from '../probes/tls/tls-certs.js';
import { formatValue, HistogramData, labelText, sampleLine } from './exposition.js';
import type { Labels } from './exposition.js';
import { F, HISTOGRAMS } from './families.js';
import type { HistogramName } from '../model/histograms.js';
import type { FamilyId } from './families.js';
import { targetLabels } from './labels.js';
import { StringPool } from '../state/shared-strings.js';

export interface SeriesOptions {
  histograms: ReadonlySet<HistogramName>;
  buckets: readonly number[];
}

export type RenderedFamilies = Map<FamilyId, string>;

/**
 * Series keys and scopes, alike from one target to the next once the target's own labels
 * are left out: one copy for every target.
 */
const SHARED = new StringPool();

/**
 * Counters and histograms of one target, each kept under its series' name and the label
 * text after the target's own labels (`egress_probe_failures_total{check="dns",...}`),
 * which every target shares: a series costs its entry, not a string of its own. The
 * target's labels (`host`, `port`), which lead every series, go in front when rendered.
 * `scope` ties each to a check/path it dies with.
 */
class Keyed<T> {
  readonly entries = new Map<string, { family: FamilyId; scope: string; value: T }>();
  /** `labels`: the series' labels after the target's own. */
  get(family: FamilyId, scope: string, labels: Labels, create: () => T): T {
    const key = F[family].name + labelText(labels);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { family, scope: SHARED.share(scope), value: create() };
      this.entries.set(SHARED.share(key), entry);
    }
    return entry.value;
  }
  keepScopes(live: ReadonlySet<string>): void {
    for (const [key, entry] of this.entries) if (!live.has(entry.scope)) this.entries.delete(key);
  }
}

/** The target's own label text (`host="a"`) followed by the rest (`{check="dns"}` or ''), as one label set. */
const joinLabels = (own: string, rest: string): string => (rest === '' ? `{${own}}` : `{${own},${rest.slice(1)}`);

class Counter {
  n = 0;
}

const scopeOf = (check: string, path: string): string => `${check}\u0000${path}`;

export class TargetSeries {
  private readonly counters = new Keyed<Counter>();
  private readonly histograms = new Keyed<HistogramData>();
  private rounds = 0;
  /** The target's rounds skipped so far (state.overruns). */
  private overruns = 0;

  /**
   * The label text every series of the target starts with (`host="a"`, `host="a",port="8443"`),
   * made once: host and port are the target's identity, so a reload never changes it. The
   * scrape worker cuts it out of the target's lines (view.ts hands it over).
   */
  readonly ownLabels: string;

  constructor(private target: Target) {
    this.ownLabels = labelText(targetLabels(target)).slice(1, -1);
  }

  // Each update returns the target's families rendered anew; the caller hands them on
  // (the scrape assembler keeps them, packed), so no second copy stays here.

  /** A reload may change the target's labels or purpose: rendered again now. */
  retarget(target: Target, overruns: number, report: RoundReport | undefined): RenderedFamilies {
    this.target = target;
    this.overruns = overruns;
    return this.render(report);
  }

  overrun(overruns: number, report: RoundReport | undefined): RenderedFamilies {
    this.overruns = overruns;
    return this.render(report);
  }

  /** Folds a new round into the cumulative series, then renders. */
  observe(report: RoundReport, options: SeriesOptions): RenderedFamilies {
    this.rounds += 1;
    const live = new Set<string>();
    const wantsHistogram = (name: HistogramName): boolean => options.histograms.has(name);
    const observe = (name: HistogramName, scope: string, labels: Labels, value: number): void => {
      this.histograms.get(HISTOGRAMS[name], scope, labels, () => new HistogramData(options.buckets)).observe(value);
    };
    live.add('round');
    if (wantsHistogram('round')) observe('round', 'round', {}, report.durationSeconds);

    for (const { check, where, outcome } of checkResults(report)) {
      const scope = scopeOf(check, whereName(where));
      live.add(scope);
      const labels = { check, ...where };
      const counter = this.counters.get('failures', scope, labels, () => new Counter());
      if (!outcome.ok) counter.n += 1;
      if (wantsHistogram('probe')) observe('probe', scope, labels, outcome.durationSeconds);
    }

    if (this.target.checks.includes('dns')) {
      for (const result of report.dns) {
        const resolver = result.resolver;
        const scope = scopeOf('dns', resolver);
        for (const record of result.records) {
          if (wantsHistogram('dns_lookup')) observe('dns_lookup', scope, { resolver }, record.durationSeconds);
          const ttlChanges = this.counters.get('dnsTtlChanges', scope, { type: record.type, resolver }, () => new Counter());
          const addressChanges = this.counters.get('dnsAddressChanges', scope, { family: record.family, resolver }, () => new Counter());
          const judged = report.dnsJudgements.find((j) => j.resolver === resolver && j.type === record.type);
          if (judged?.ttlChanged === true) ttlChanges.n += 1;
          if (judged?.addressesChanged === true) addressChanges.n += 1;
        }
      }
    }

    for (const entry of report.paths) {
      const path = entry.path.name;
      const tcpScope = scopeOf('tcp', path);
      for (const family of entry.tcp?.families ?? []) {
        for (const attempt of family.attempts) {
          if (attempt.ok) {
            if (wantsHistogram('tcp_connect')) observe('tcp_connect', tcpScope, { family: family.family, path }, attempt.connectSeconds);
          } else if (attempt.reason) {
            this.counters.get('tcpFailures', tcpScope, { family: family.family, path, reason: attempt.reason }, () => new Counter()).n += 1;
          }
        }
      }
      const handshake = entry.tls?.handshake;
      if (handshake && wantsHistogram('tls_handshake')) observe('tls_handshake', scopeOf('tls', path), { path }, handshake.handshakeSeconds);
      if (entry.http && wantsHistogram('http')) {
        for (const [phase, seconds] of Object.entries(httpPhases(report, entry))) {
          if (seconds !== undefined) observe('http', scopeOf('http', path), { path, phase }, seconds);
        }
      }
    }
    this.counters.keepScopes(live);
    this.histograms.keepScopes(live);
    return this.render(report);
  }

  /** Every family of this target, from its latest round (undefined: none finished yet). */
  private render(report: RoundReport | undefined): RenderedFamilies {
    // Lines gather in arrays and are joined once: flat strings, which a scrape concatenates fast.
    const lines = new Map<FamilyId, string[]>();
    const push = (id: FamilyId, text: string): void => {
      const list = lines.get(id);
      if (list) list.push(text);
      else lines.set(id, [text]);
    };
    const add = (id: FamilyId, labels: Labels, value: number): void => push(id, sampleLine(F[id].name, labels, value));
    const out: RenderedFamilies = new Map();
    const target = this.target;
    const id = targetLabels(target);
    add('targetInfo', { host: target.host, port: String(target.port), source: target.source, purpose: target.purpose }, 1);
    for (const [name, value] of Object.entries(target.labels)) add('targetLabels', { ...id, name, value }, 1);
    add('roundOverruns', id, this.overruns);

    const own = this.ownLabels;
    for (const [series, { family, value }] of this.counters.entries) {
      const name = F[family].name;
      push(family, `${name}${joinLabels(own, series.slice(name.length))} ${formatValue(value.n)}\n`);
    }
    for (const [series, { family, value }] of this.histograms.entries) {
      const name = F[family].name;
      push(family, value.linesOf(name, joinLabels(own, series.slice(name.length))));
    }
    const done = (): RenderedFamilies => {
      for (const [id, list] of lines) out.set(id, list.join(''));
      return out;
    };
    if (report === undefined) return done();

    add('roundDuration', id, report.durationSeconds);
    // Once per target, not per check: a round runs every check, so they all finished with it.
    add('roundFinished', id, report.finishedAtMs / 1000);
    add('rounds', id, this.rounds);
    for (const { check, where, outcome } of checkResults(report)) {
      const labels = { ...id, check, ...where };
      add('success', labels, outcome.ok ? 1 : 0);
      if (!outcome.ok && outcome.reason) add('failureReason', { ...labels, reason: outcome.reason }, 1);
      add('duration', labels, outcome.durationSeconds);
    }

    if (report.dnsRequired !== undefined) add('dnsRequired', id, report.dnsRequired ? 1 : 0);
    if (target.checks.includes('dns')) {
      for (const result of report.dns) {
        const resolver = result.resolver;
        add('dnsCnameLength', { ...id, resolver }, result.cnameChain.length);
        for (const record of result.records) {
          const byType = { ...id, type: record.type, resolver };
          const byFamily = { ...id, family: record.family, resolver };
          add('dnsAddresses', byFamily, record.addresses.length);
          const judged = report.dnsJudgements.find((j) => j.resolver === resolver && j.type === record.type);
          if (judged?.outsideAllowlist !== undefined) add('dnsOutside', byFamily, judged.outsideAllowlist);
          if (record.ok && record.ttl !== null) add('dnsTtl', byType, record.ttl);
          if (judged?.ttlMax === undefined) continue;
          add('dnsTtlMax', byType, judged.ttlMax);
          if (judged.ttlBelowRefresh !== undefined) add('dnsTtlBelowRefresh', byType, judged.ttlBelowRefresh ? 1 : 0);
          if (judged.addressSetSinceMs !== undefined) add('dnsAddressChanged', byFamily, judged.addressSetSinceMs / 1000);
        }
      }
    }

    const credential = report.paths.find((p) => p.registry?.credential?.expiresAtSeconds !== undefined)?.registry?.credential;
    if (credential?.expiresAtSeconds !== undefined) add('registryCredentialExpiry', { ...id, username: credential.username }, credential.expiresAtSeconds);

    for (const entry of report.paths) {
      const path = entry.path.name;
      const labels = { ...id, path };
      for (const family of entry.tcp?.families ?? []) {
        const byFamily = { ...id, family: family.family, path };
        add('tcpProbed', byFamily, family.probed);
        add('tcpReachable', byFamily, family.reachable);
        let slowest: number | undefined;
        for (const attempt of family.attempts) if (attempt.ok && (slowest === undefined || attempt.connectSeconds > slowest)) slowest = attempt.connectSeconds;
        if (slowest !== undefined) add('tcpConnect', byFamily, slowest);
      }

      const tls = entry.tls;
      if (tls) {
        // Untested is not "not met": the series is absent, the failure reason tells why.
        for (const r of tls.requirements) if (r.verdict !== 'untested') add('tlsRequirement', { ...labels, requirement: r.requirement }, r.verdict === 'met' ? 1 : 0);
        if (entry.requirementsAtMs !== undefined) add('tlsRequirementsRun', labels, entry.requirementsAtMs / 1000);
        const facts = tls.handshake;
        if (facts) {
          add('tlsHandshake', labels, facts.handshakeSeconds);
          add('tlsVersion', { ...labels, version: facts.version }, 1);
          add('tlsCipher', { ...labels, cipher: facts.cipher }, 1);
          add('tlsGroup', { ...labels, group: facts.group }, 1);
          add('tlsAlpn', { ...labels, alpn: facts.alpn }, 1);
        }
        const cert = tls.certificate;
        if (cert) {
          add('tlsNotAfter', labels, cert.leafNotAfter);
          add('tlsEarliestNotAfter', labels, cert.earliestNotAfter);
          add('tlsIssuer', { ...labels, issuer: issuerLabel(cert) }, 1);
          add('tlsVerified', labels, cert.verified ? 1 : 0);
          add('tlsTrust', { ...labels, trust: cert.trust }, 1);
          add('tlsIntercepted', labels, (entry.intercepted ?? cert.intercepted) ? 1 : 0);
        }
      }

      const pull = entry.registry;
      if (pull) {
        for (const [step, result] of Object.entries(pull.steps)) if (result !== undefined) add('registryStep', { ...labels, step }, result.seconds);
        if (!pull.ok && pull.reason) add('registryFailure', { ...labels, step: pull.failedStep ?? 'ping', reason: pull.reason }, 1);
        const blobHost = pull.blobServedBy === 'registry' ? target.host : pull.blobHost;
        if (blobHost !== undefined) add('registryBlobHost', { ...labels, blob_host: blobHost }, 1);
      }

      const http = entry.http;
      if (http) {
        if (http.protocol !== undefined) add('httpVersion', labels, http.protocol === '2' ? 2 : 1.1);
        // No answer: nothing to judge, so no status, no "invalid" and no "downgraded".
        if (http.status !== undefined) {
          add('httpStatus', labels, http.status);
          add('httpValid', labels, http.valid ? 1 : 0);
        }
        if (entry.downgraded !== undefined) add('httpDowngraded', labels, entry.downgraded ? 1 : 0);
        for (const [phase, seconds] of Object.entries(httpPhases(report, entry))) if (seconds !== undefined) add('httpDuration', { ...labels, phase }, seconds);
      }
      // Only on a path that must stay blocked: its presence is what the "must work" alerts leave out.
      if (entry.blocked !== undefined) add('blockedVerdict', { ...labels, verdict: entry.blocked.verdict }, 1);
    }
    return done();
  }
}

/** The HTTP check's phases; on the direct path the lookup the round relied on is its dns phase. */
function httpPhases(report: RoundReport, entry: RoundReport['paths'][number]): Record<string, number | undefined> {
  const dns = entry.path.proxy === null ? report.dns[0]?.records[0]?.durationSeconds : undefined;
  return { dns, ...entry.http?.phases };
}
