import { describe, expect, it } from 'vitest';
import type { Target } from '../model/types.js';
import type { RoundReport } from '../checks/report.js';
import { renderLandingPage } from './landing-page.js';

const literal: Target = { host: '127.0.0.1', port: 29443, families: ['v4'], checks: ['dns', 'tcp'], labels: {}, purpose: '', source: 'config' };

describe('the status page', () => {
  it('says no targets instead of "every check passes" when there are none', () => {
    const html = renderLandingPage({ version: 't', states: [], ready: true });
    expect(html).toContain('No targets: the config and its catalog list nothing to check.');
    expect(html).not.toContain('every check passes');
  });

  it('shows an IP-literal target as needing no lookup, never as dns "pending"', () => {
    const report: RoundReport = {
      target: literal,
      startedAtMs: 0,
      finishedAtMs: 1000,
      durationSeconds: 0.01,
      addresses: { v4: ['127.0.0.1'] },
      dns: [],
      dnsJudgements: [],
      paths: [{ path: { name: 'direct', proxy: null, expectInterception: false }, tcp: { ok: true, durationSeconds: 0.001, families: [] } }],
    };
    const html = renderLandingPage({ version: 't', states: [{ target: literal, report, overruns: 0 }], ready: true, nowMs: 2000 });
    const row = html.split('<tr>').find((r) => r.includes('127.0.0.1:29443')) ?? '';
    expect(row).toContain('no lookup (IP)');
    expect(row).not.toContain('pending');
    expect(html).toContain('1 target; every check passes.');
  });
});

describe('the status page shows what a round means', () => {
  const NOW = Date.parse('2026-03-01T00:00:00Z');
  const host: Target = { host: 'good.lab.test', port: 31999, families: ['v4'], checks: ['dns', 'tcp', 'tls'], labels: {}, purpose: '', source: 'config' };
  const certificate = {
    leafNotAfter: NOW / 1000 + 2 * 86_400 + 60,
    earliestNotAfter: NOW / 1000 + 2 * 86_400 + 60,
    issuerCN: 'Lab CA',
    issuerO: 'Lab',
    verified: true,
    trust: 'ca_file' as const,
    intercepted: false,
    subjectCN: 'good.lab.test',
    chainLength: 2,
  };
  const report = (extra: Partial<RoundReport>): RoundReport => ({
    target: host,
    startedAtMs: NOW,
    finishedAtMs: NOW,
    durationSeconds: 0.01,
    addresses: { v4: ['127.0.0.1'] },
    dns: [{ ok: true, durationSeconds: 0.001, resolver: 'system', cnameChain: [], records: [] }],
    dnsJudgements: [],
    paths: [{ path: { name: 'direct', proxy: null, expectInterception: false }, tcp: { ok: true, durationSeconds: 0.001, families: [] }, tls: { ok: true, durationSeconds: 0.01, certificate, requirements: [] } }],
    ...extra,
  });
  const rowOf = (html: string) => html.split('<tr>').find((r) => r.includes('good.lab.test:31999')) ?? '';
  const cells = (row: string) => row.split('<td').slice(1);

  it('under tls: the certificate, flagged when it expires within 14 days', () => {
    const html = renderLandingPage({ version: 't', states: [{ target: host, report: report({}), overruns: 0 }], ready: true, nowMs: NOW });
    const tls = cells(rowOf(html))[2] ?? '';
    expect(tls).toContain('<div class="detail finding warn">direct: certificate expires in 2 days; issuer CN=Lab CA, O=Lab; verified (tls.ca_file)</div>');
    const later = renderLandingPage({ version: 't', states: [{ target: host, report: report({}), overruns: 0 }], ready: true, nowMs: NOW - 30 * 86_400_000 });
    expect(cells(rowOf(later))[2]).toContain('<div class="detail finding">direct: certificate expires in 32 days;');
  });

  it('shows a failed lookup that is not required as a fact, not a failure', () => {
    const failed = { ok: false, reason: 'nxdomain' as const, message: 'A nxdomain', durationSeconds: 0.001, resolver: 'system', cnameChain: [], records: [] };
    const html = renderLandingPage({ version: 't', states: [{ target: host, report: report({ dns: [failed], dnsRequired: false }), overruns: 0 }], ready: true, nowMs: NOW });
    const dns = cells(rowOf(html))[0] ?? '';
    expect(dns).toMatch(/^ class="fact">/);
    expect(dns).toContain('<span class="fact">&#8505; nxdomain</span>');
    expect(dns).toContain("not required: this target&#39;s clients reach it through a proxy that resolves the name");
    expect(html).toContain('1 target; every check passes.');
    // Where the clients resolve it themselves, it is a failure.
    const required = renderLandingPage({ version: 't', states: [{ target: host, report: report({ dns: [failed], dnsRequired: true }), overruns: 0 }], ready: true, nowMs: NOW });
    expect(cells(rowOf(required))[0]).toMatch(/^ class="fail">/);
    expect(required).toContain('1 target; 1 check failing.');
  });

  it("links the target's own transcript: host and port", () => {
    const html = renderLandingPage({ version: 't', states: [{ target: host, report: report({}), overruns: 0 }], ready: true, nowMs: NOW });
    expect(rowOf(html)).toContain('<a href="/probe?target=good.lab.test:31999&amp;debug=true">debug</a>');
    const v6: Target = { ...host, host: '::1', port: 8443 };
    expect(renderLandingPage({ version: 't', states: [{ target: v6, report: undefined, overruns: 0 }], ready: false })).toContain('href="/probe?target=%5B::1%5D:8443&amp;debug=true"');
  });
});
