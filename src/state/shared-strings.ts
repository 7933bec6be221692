// The strings of a stored report that many targets hold alike: a TLS requirement's
// detail ("TLSv1.3 TLS_AES_256_GCM_SHA384 X25519"), a check's message ("HTTP/2 200 (ALPN
// h2)"), a resolver's name, the handshake the requirement verdicts were judged on, an
// address. Each round builds them anew, one copy a target (a template literal is several
// strings until read); the store keeps one copy for all: about 1.3 KB of a target's 4.7 KB
// report when its hosts answer alike, as a CDN's do.
import type { RoundReport } from '../checks/report.js';
import type { ProbeOutcome } from '../probes/types.js';

/**
 * `value` as one flat string. A string built by concatenation (a template literal, +=) is
 * a tree of its pieces until something reads its characters, 225 instead of 137 bytes for
 * a 100-character series name; a Map key is hashed without being flattened. Reading a
 * character flattens it in place.
 */
export function flat(value: string): string {
  value.charCodeAt(0);
  return value;
}

/** At most this many distinct strings are remembered; then the pool starts over. */
const MAX_STRINGS = 50_000;

export class StringPool {
  private readonly strings = new Map<string, string>();

  constructor(private readonly max = MAX_STRINGS) {}

  /** The pool's copy of `value`, which becomes it when it is new. */
  share(value: string): string {
    const known = this.strings.get(value);
    if (known !== undefined) return known;
    // Strings seen once (a TTL counting down in a message) would fill it: start over.
    if (this.strings.size >= this.max) this.strings.clear();
    this.strings.set(value, flat(value));
    return value;
  }

  /** The pool's copy of an outcome's message. */
  private message(outcome: ProbeOutcome | undefined): void {
    if (outcome?.message !== undefined) outcome.message = this.share(outcome.message);
  }

  /**
   * Puts the pool's copies in place in a report about to be stored. Requirement verdicts
   * carried from `previous` (the same objects) were shared when they were new.
   */
  shareReport(report: RoundReport, previous: RoundReport | undefined): void {
    for (const dns of report.dns) {
      dns.resolver = this.share(dns.resolver);
      this.message(dns);
      for (const record of dns.records) {
        this.message(record);
        for (let i = 0; i < record.addresses.length; i += 1) record.addresses[i] = this.share(record.addresses[i] as string);
      }
    }
    for (const judgement of report.dnsJudgements) judgement.resolver = this.share(judgement.resolver);
    const carried = new Set(previous?.paths.flatMap((p) => p.tls?.requirements ?? []));
    for (const entry of report.paths) {
      if (entry.requirementsBasis !== undefined) entry.requirementsBasis = this.share(entry.requirementsBasis);
      this.message(entry.tcp);
      for (const family of entry.tcp?.families ?? []) for (const attempt of family.attempts) attempt.address = this.share(attempt.address);
      this.message(entry.http);
      this.message(entry.registry);
      const tls = entry.tls;
      if (tls === undefined) continue;
      this.message(tls);
      for (const requirement of tls.requirements) if (!carried.has(requirement)) requirement.detail = this.share(requirement.detail);
    }
  }
}
