import { describe, expect, it } from 'vitest';
import type { RoundReport } from '../scheduler/round.js';
import { PLAIN, TTY, renderTable } from './check.js';

const report: RoundReport = {
  target: { host: 'cgr.dev', port: 443, families: ['v4'], checks: ['dns', 'tcp', 'tls', 'http'], labels: {}, purpose: '', source: 'test' },
  startedAtMs: 0,
  finishedAtMs: 100,
  durationSeconds: 0.1,
  addresses: { v4: ['192.0.2.1'] },
  dns: [{ ok: true, durationSeconds: 0.001, resolver: 'system', cnameChain: [], records: [] }],
  paths: [
    {
      path: { name: 'corp', proxy: null, expectInterception: false },
      tcp: { ok: true, durationSeconds: 0.001, families: [] },
      tls: {
        ok: false,
        reason: 'tls_handshake_failed',
        durationSeconds: 0.01,
        requirements: [
          { requirement: 'alpn_h2', verdict: 'not_met', detail: 'selected http/1.1', durationSeconds: 0.001 },
          { requirement: 'extended_master_secret', verdict: 'untested', reason: 'reset', detail: 'reset before ServerHello', durationSeconds: 0.001 },
        ],
      },
      http: { ok: true, durationSeconds: 0.02, protocol: '1.1', alpn: 'http/1.1', status: 401, valid: true, phases: {}, viaProxy: true },
      intercepted: true,
      downgraded: true,
    },
  ],
};

describe('renderTable', () => {
  it('uses symbols and colour on a terminal', () => {
    const text = renderTable([report], TTY, 1.2);
    expect(text).toContain('\x1b[32m✓\x1b[0m');
    expect(text).toContain('\x1b[31m✗ tls_handshake_failed\x1b[0m');
    expect(text).toContain('\x1b[31m intercepted\x1b[0m');
    expect(text).toContain('\x1b[31m downgraded\x1b[0m');
  });

  it('uses plain words elsewhere, and says why for every failure and every unmet or untested requirement', () => {
    const text = renderTable([report], PLAIN, 1.2);
    expect(text).not.toContain('\x1b[');
    expect(text).toMatch(/cgr\.dev +corp +ok +ok +FAIL tls_handshake_failed intercepted +ok HTTP\/1\.1 401 downgraded/);
    expect(text).toContain('cgr.dev tls alpn_h2 via corp: not met - selected http/1.1');
    expect(text).toContain('cgr.dev tls extended_master_secret via corp: untested (reset) - reset before ServerHello');
    expect(text).toContain('1 host checked in 1.2 s: 0 meet every requirement, 1 do not.');
  });
});
