// What a target's DNS answers mean beyond one round, judged once per round where the
// other verdicts are, so that metrics, the status page, `check` and /probe read the same
// facts: the configured TTL behind a caching resolver's countdown and its drift
// (dns-history.ts), whether that TTL is shorter than the firewall's refresh, whether the
// address set changed, and how many addresses fall outside dns.allowlist_cidrs. Each
// resolver and record type carries its history from the target's previous round.
import type { Config } from '../config/types.js';
import { Allowlist } from './allowlist.js';
import { DnsHistory } from './dns-history.js';
import type { DnsRecordJudgement, RoundReport } from './report.js';

const allowlists = new WeakMap<readonly string[], Allowlist>();

/** dns.allowlist_cidrs as a matcher, built once per config. */
function allowlistOf(cidrs: readonly string[]): Allowlist {
  let allowlist = allowlists.get(cidrs);
  if (allowlist === undefined) {
    allowlist = new Allowlist(cidrs);
    allowlists.set(cidrs, allowlist);
  }
  return allowlist;
}

const keyOf = (j: Pick<DnsRecordJudgement, 'resolver' | 'type'>): string => `${j.resolver}\u0000${j.type}`;

/** Fills report.dnsJudgements from this round's answers and the previous round's; nothing when the dns check is not wanted. */
export function judgeDns(report: RoundReport, previous: RoundReport | undefined, config: Config): void {
  if (!report.target.checks.includes('dns')) return;
  const allowlist = allowlistOf(config.dns.allowlistCidrs);
  const refreshMs = config.dns.firewallRefreshIntervalMs;
  const before = new Map((previous?.dnsJudgements ?? []).map((j) => [keyOf(j), j]));
  for (const result of report.dns) {
    for (const record of result.records) {
      const judgement: DnsRecordJudgement = { resolver: result.resolver, type: record.type, family: record.family, ttlChanged: false, addressesChanged: false };
      const last = before.get(keyOf(judgement));
      let history = last?.history;
      if (record.ok && record.ttl !== null) {
        history = history?.clone() ?? new DnsHistory({ intervalMs: config.intervalMs });
        const update = history.observe(record.ttl, record.addresses, report.finishedAtMs);
        judgement.ttlMax = update.ttlMax;
        judgement.ttlChanged = update.ttlChanged;
        judgement.addressesChanged = update.addressesChanged;
        judgement.addressSetSinceMs = update.addressSetSinceMs;
      } else if (last !== undefined) {
        // No usable answer: nothing changed, and the estimate stays.
        if (last.ttlMax !== undefined) judgement.ttlMax = last.ttlMax;
        if (last.addressSetSinceMs !== undefined) judgement.addressSetSinceMs = last.addressSetSinceMs;
      }
      if (history !== undefined) judgement.history = history;
      if (refreshMs !== null && judgement.ttlMax !== undefined) judgement.ttlBelowRefresh = judgement.ttlMax * 1000 < refreshMs;
      if (allowlist.enabled) judgement.outsideAllowlist = allowlist.countOutside(record.addresses);
      report.dnsJudgements.push(judgement);
    }
  }
}

/** A round's judgement of one resolver's answers of one record type. */
export function dnsJudgementOf(report: RoundReport, resolver: string, type: 'A' | 'AAAA'): DnsRecordJudgement | undefined {
  return report.dnsJudgements.find((j) => j.resolver === resolver && j.type === type);
}

/** What a judgement says that a person should see, in words (the status page, `check`); empty when all is well. */
export function dnsFindings(j: DnsRecordJudgement): string[] {
  const out: string[] = [];
  if (j.ttlBelowRefresh === true) out.push(`${j.type} TTL about ${j.ttlMax ?? '?'} s is shorter than dns.firewall_refresh_interval: IP-based rules go stale`);
  if (j.ttlChanged) out.push(`${j.type} TTL drifted: now about ${j.ttlMax ?? '?'} s`);
  if (j.addressesChanged) out.push(`${j.type} address set changed this round`);
  if (j.outsideAllowlist !== undefined && j.outsideAllowlist > 0) out.push(`${j.type}: ${j.outsideAllowlist} address${j.outsideAllowlist === 1 ? '' : 'es'} outside dns.allowlist_cidrs`);
  return out;
}

/** Every fact of a judgement, for the debug transcript. */
export function dnsJudgementLine(j: DnsRecordJudgement): string {
  const parts = [j.ttlMax === undefined ? 'no TTL estimate yet' : `TTL about ${j.ttlMax} s (the largest seen lately)${j.ttlChanged ? ', DRIFTED this round' : ''}`];
  if (j.ttlBelowRefresh !== undefined) parts.push(`shorter than the firewall refresh: ${j.ttlBelowRefresh ? 'YES' : 'no'}`);
  if (j.addressSetSinceMs !== undefined) parts.push(`address set ${j.addressesChanged ? 'CHANGED this round' : `unchanged since ${new Date(j.addressSetSinceMs).toISOString()}`}`);
  if (j.outsideAllowlist !== undefined) parts.push(`outside the allowlist: ${j.outsideAllowlist}`);
  return parts.join('; ');
}
