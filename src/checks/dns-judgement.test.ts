import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import type { DnsResult } from '../probes/net/dns.js';
import { PLAIN, renderJson, renderTable } from '../commands/check.js';
import { renderLandingPage } from '../server/landing-page.js';
import { renderTranscript } from '../server/transcript.js';
import { dnsFindings, dnsJudgementOf, judgeDns } from './dns-judgement.js';
import type { RoundReport } from './report.js';

const config: Config = {
  ...defaultConfig(),
  intervalMs: 30_000,
  dns: { ...defaultConfig().dns, firewallRefreshIntervalMs: 300_000, allowlistCidrs: ['192.0.2.0/24'] },
};

function round(atMs: number, ttl: number, addresses: string[], previous?: RoundReport, ok = true): RoundReport {
  const dns: DnsResult = {
    ok,
    durationSeconds: 0.001,
    resolver: '127.0.0.1:53',
    cnameChain: [],
    records: [ok ? { type: 'A', family: 'v4', ok: true, addresses, ttl, durationSeconds: 0.001 } : { type: 'A', family: 'v4', ok: false, reason: 'servfail', addresses: [], ttl: null, durationSeconds: 0.001 }],
  };
  const report: RoundReport = {
    target: { host: 'cgr.dev', port: 443, families: ['v4'], checks: ['dns'], labels: {}, purpose: '', source: 'test' },
    startedAtMs: atMs,
    finishedAtMs: atMs,
    durationSeconds: 0.01,
    addresses: { v4: addresses },
    dns: [dns],
    dnsJudgements: [],
    paths: [],
  };
  judgeDns(report, previous, config);
  return report;
}

describe('the DNS judgements of a round', () => {
  it('judges the TTL against the firewall refresh, the allowlist and the address set, carrying the history from round to round', () => {
    const first = round(0, 300, ['192.0.2.1', '198.51.100.7']);
    const a1 = dnsJudgementOf(first, '127.0.0.1:53', 'A');
    expect(a1).toMatchObject({ ttlMax: 300, ttlChanged: false, addressesChanged: false, addressSetSinceMs: 0, outsideAllowlist: 1, ttlBelowRefresh: false });
    // A caching resolver's countdown is not drift; a new address set is a change.
    const second = round(30_000, 270, ['192.0.2.2'], first);
    expect(dnsJudgementOf(second, '127.0.0.1:53', 'A')).toMatchObject({ ttlMax: 300, ttlChanged: false, addressesChanged: true, addressSetSinceMs: 30_000, outsideAllowlist: 0 });
    // The authoritative TTL rises to 3600: drift, at once.
    const third = round(60_000, 3600, ['192.0.2.2'], second);
    expect(dnsJudgementOf(third, '127.0.0.1:53', 'A')).toMatchObject({ ttlMax: 3600, ttlChanged: true, addressesChanged: false, addressSetSinceMs: 30_000 });
    // A judged round stays as it was judged: the next one observes a copy of its history.
    expect(dnsJudgementOf(second, '127.0.0.1:53', 'A')?.ttlMax).toBe(300);
    // No usable answer: nothing changed, and the estimate stays.
    const failed = round(90_000, 0, [], third, false);
    expect(dnsJudgementOf(failed, '127.0.0.1:53', 'A')).toMatchObject({ ttlMax: 3600, ttlChanged: false, addressesChanged: false, addressSetSinceMs: 30_000 });
  });

  it('says a TTL under the firewall refresh, drift and addresses outside the allowlist in words, where people look', () => {
    const first = round(0, 60, ['198.51.100.7']);
    const second = round(30_000, 45, ['198.51.100.8'], first);
    const findings = second.dnsJudgements.flatMap(dnsFindings);
    expect(findings).toEqual([
      'A TTL about 60 s is shorter than dns.firewall_refresh_interval: IP-based rules go stale',
      'A address set changed this round',
      'A: 1 address outside dns.allowlist_cidrs',
    ]);
    const page = renderLandingPage({ version: 't', states: [{ target: second.target, report: second, overruns: 0 }], ready: true, nowMs: 40_000 });
    for (const finding of findings) expect(page).toContain(`127.0.0.1:53: ${finding}`);
    expect(renderTable([second], PLAIN, 1)).toContain(`cgr.dev dns via 127.0.0.1:53: ${findings[0]!}`);
    const json = JSON.parse(renderJson([second])) as { hosts: { dns: { records: Record<string, unknown>[] }[] }[] };
    expect(json.hosts[0]?.dns[0]?.records[0]).toMatchObject({ ttl: 45, ttl_max: 60, ttl_below_firewall_refresh: true, addresses_outside_allowlist: 1 });
    expect(renderTranscript(second)).toContain('judged: TTL about 60 s (the largest seen lately); shorter than the firewall refresh: YES; address set CHANGED this round; outside the allowlist: 1');
  });

  it('judges nothing when the dns check is not wanted', () => {
    const report = round(0, 60, ['192.0.2.1']);
    const quiet: RoundReport = { ...report, target: { ...report.target, checks: ['tcp'] }, dnsJudgements: [] };
    judgeDns(quiet, undefined, config);
    expect(quiet.dnsJudgements).toEqual([]);
  });
});
