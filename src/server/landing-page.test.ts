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
