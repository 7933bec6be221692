import { describe, expect, it } from 'vitest';
import type { RoundReport } from '../checks/report.js';
import type { Target } from '../model/types.js';
import { PLAIN, TTY, TTY_NO_COLOR, renderJson, renderTable, selectTargets, styleFor } from './check.js';

const report: RoundReport = {
  target: { host: 'cgr.dev', port: 443, families: ['v4'], checks: ['dns', 'tcp', 'tls', 'http'], labels: {}, purpose: '', source: 'test' },
  startedAtMs: 0,
  finishedAtMs: 100,
  durationSeconds: 0.1,
  addresses: { v4: ['192.0.2.1'] },
  dns: [{ ok: true, durationSeconds: 0.001, resolver: 'system', cnameChain: [], records: [] }],
  dnsJudgements: [],
  paths: [
    {
      path: { name: 'corp', proxy: null, expectInterception: false },
      tcp: { ok: true, durationSeconds: 0.001, families: [] },
      tls: {
        ok: false,
        reason: 'tls_handshake_failed',
        durationSeconds: 0.01,
        handshake: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', group: 'P-256', alpn: 'h2', ems: null, handshakeSeconds: 0.004 },
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

describe('styleFor', () => {
  it('colours a terminal, drops the colour (not the symbols) with NO_COLOR, and prints words elsewhere', () => {
    expect(styleFor({ isTTY: true }, {})).toBe(TTY);
    expect(styleFor({ isTTY: true }, { NO_COLOR: '1' })).toBe(TTY_NO_COLOR);
    // no-color.org: set and not empty.
    expect(styleFor({ isTTY: true }, { NO_COLOR: '' })).toBe(TTY);
    expect(styleFor({ isTTY: false }, {})).toBe(PLAIN);
    const text = renderTable([report], TTY_NO_COLOR, 1.2);
    expect(text).not.toContain('\x1b[');
    expect(text).toContain('✓');
    expect(text).toContain('✗ tls_handshake_failed');
  });
});

describe('renderJson', () => {
  it('names every key in snake_case', () => {
    const keys: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value !== null && typeof value === 'object') {
        for (const [key, child] of Object.entries(value)) {
          keys.push(key);
          walk(child);
        }
      }
    };
    const json = JSON.parse(renderJson([report])) as { hosts: Array<{ paths: Array<{ tls: { handshake: Record<string, unknown> } }> }> };
    walk(json);
    expect(keys.filter((key) => !/^[a-z0-9_]+$/.test(key))).toEqual([]);
    expect(json.hosts[0]?.paths[0]?.tls.handshake).toEqual({ version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', group: 'P-256', alpn: 'h2', ems: null, handshake_seconds: 0.004 });
  });
});

describe('selectTargets (--host)', () => {
  const at = (host: string, port: number): Target => ({ host, port, families: ['v4'], checks: ['dns'], labels: {}, purpose: '', source: 'test' });
  const targets = [at('good.lab.test', 443), at('good.lab.test', 31999), at('other.lab.test', 443), at('::1', 8443)];
  const names = (picked: Target[] | string) => (typeof picked === 'string' ? picked : picked.map((t) => `${t.host}:${t.port}`));

  it('takes host:port as /probe?target= does, and a bare host with every port', () => {
    expect(names(selectTargets(targets, ['good.lab.test:31999']))).toEqual(['good.lab.test:31999']);
    expect(names(selectTargets(targets, ['GOOD.lab.test.']))).toEqual(['good.lab.test:443', 'good.lab.test:31999']);
    expect(names(selectTargets(targets, ['[::1]:8443', 'other.lab.test']))).toEqual(['other.lab.test:443', '::1:8443']);
  });

  it('names what selects nothing, and lists the targets with their ports', () => {
    expect(selectTargets(targets, ['good.lab.test:8080'])).toBe(
      '--host: "good.lab.test:8080" is not a target of the config (targets: good.lab.test, good.lab.test:31999, other.lab.test, [::1]:8443)',
    );
    expect(selectTargets(targets, ['a.test', 'b.test:1'])).toMatch(/^--host: "a\.test", "b\.test:1" are not targets of the config/);
    expect(selectTargets(targets, ['good.lab.test:http'])).toBe('--host: "good.lab.test:http" is not a host or host:port');
  });
});
