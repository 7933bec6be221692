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
    expect(text).toContain('1 host checked in 1.2 s: 0 meet every requirement, 1 does not.');
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

const NOW = Date.parse('2026-03-01T00:00:00Z');
const DAY = 86_400;
const lab = (host: string): Target => ({ host, port: 443, families: ['v4'], checks: ['dns', 'tcp', 'tls', 'http'], labels: {}, purpose: '', source: 'test' });
const direct = { name: 'direct', proxy: null, expectInterception: false };
const handshake = { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', group: 'X25519', alpn: 'h2', ems: null, handshakeSeconds: 0.004 };
const certificate = {
  leafNotAfter: NOW / 1000 + 2 * DAY + 600,
  earliestNotAfter: NOW / 1000 + 2 * DAY + 600,
  issuerCN: 'Lab CA',
  issuerO: 'Lab',
  verified: true,
  trust: 'ca_file' as const,
  intercepted: false,
  subjectCN: 'good.lab.test',
  chainLength: 2,
};
const dnsUp = { ok: true, durationSeconds: 0.001, resolver: 'system', cnameChain: [], records: [] };

function round(host: string, paths: RoundReport['paths'], extra: Partial<RoundReport> = {}): RoundReport {
  return { target: lab(host), startedAtMs: NOW, finishedAtMs: NOW, durationSeconds: 0.1, addresses: {}, dns: [dnsUp], dnsJudgements: [], paths, ...extra };
}
const whyLines = (text: string): string[] => text.split('\nWhy\n')[1]?.split('\n\n')[0]?.split('\n') ?? [];

describe('check shows the certificate', () => {
  const expiring = round('good.lab.test', [{ path: direct, tcp: { ok: true, durationSeconds: 0.001, families: [] }, tls: { ok: true, durationSeconds: 0.01, handshake, certificate, requirements: [] }, intercepted: false }]);

  it('in a table line per host-path (expiry, issuer, verified, trust), flagging one that expires within 14 days', () => {
    const text = renderTable([expiring], PLAIN, 1, NOW);
    expect(text).toContain('\nCertificates\n');
    expect(text).toMatch(/\nHOST +PATH +EXPIRES +ISSUER +VERIFIED +TRUST\n/);
    expect(text).toMatch(/\ngood\.lab\.test +direct +in 2 days +CN=Lab CA, O=Lab +yes +ca_file\n/);
    expect(whyLines(text)).toEqual(['  good.lab.test certificate via direct: expires in 2 days, on 2026-03-03T00:10:00.000Z (EgressTLSCertificateExpiringSoon warns below 14 days)']);
    expect(renderTable([expiring], TTY, 1, NOW)).toContain('\x1b[31min 2 days\x1b[0m');
    // Far off: no flag, no line under Why.
    const later = round('good.lab.test', [{ path: direct, tls: { ok: true, durationSeconds: 0.01, handshake, certificate: { ...certificate, leafNotAfter: NOW / 1000 + 90 * DAY, earliestNotAfter: NOW / 1000 + 40 * DAY }, requirements: [] } }]);
    const calm = renderTable([later], PLAIN, 1, NOW);
    expect(calm).toMatch(/\ngood\.lab\.test +direct +in 40 days \(a chain certificate, before the leaf: it expires in 90 days\) +CN=Lab CA/);
    expect(calm).not.toContain('\nWhy\n');
  });

  it('in its JSON: not_after, earliest_not_after, issuer, verified, trust, intercepted', () => {
    const json = JSON.parse(renderJson([expiring])) as { hosts: Array<{ paths: Array<{ tls: { certificate: Record<string, unknown> } }> }> };
    expect(json.hosts[0]?.paths[0]?.tls.certificate).toEqual({
      not_after: '2026-03-03T00:10:00.000Z',
      earliest_not_after: '2026-03-03T00:10:00.000Z',
      subject: 'good.lab.test',
      issuer: 'CN=Lab CA, O=Lab',
      verified: true,
      verify_error: null,
      trust: 'ca_file',
      intercepted: false,
      chain_length: 2,
    });
  });
});

describe('the Why section of check', () => {
  it('names an unmet requirement once, not again inside the tls line', () => {
    const tls = {
      ok: false,
      reason: 'tls_handshake_failed' as const,
      message: 'default: TLSv1.3 TLS_AES_256_GCM_SHA384 X25519 alpn http/1.1; alpn_h2 not_met: selected http/1.1',
      durationSeconds: 0.01,
      handshake,
      certificate,
      requirements: [{ requirement: 'alpn_h2' as const, verdict: 'not_met' as const, detail: 'selected http/1.1', durationSeconds: 0.001 }],
    };
    const lines = whyLines(renderTable([round('h1.lab.test', [{ path: direct, tls }])], PLAIN, 1, NOW - 60 * DAY * 1000));
    expect(lines).toEqual(['  h1.lab.test tls alpn_h2 via direct: not met - selected http/1.1']);
    // A chain that does not verify keeps its own line, still without the requirement.
    const unverified = { ...tls, reason: 'tls_cert_invalid' as const, certificate: { ...certificate, verified: false, trust: 'none' as const, authorizationError: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' }, message: `${tls.message}; certificate not verified: UNABLE_TO_GET_ISSUER_CERT_LOCALLY` };
    expect(whyLines(renderTable([round('h1.lab.test', [{ path: direct, tls: unverified }])], PLAIN, 1, NOW - 60 * DAY * 1000))).toEqual([
      '  h1.lab.test tls via direct: tls_cert_invalid - default: TLSv1.3 TLS_AES_256_GCM_SHA384 X25519 alpn http/1.1; certificate not verified: UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      '  h1.lab.test tls alpn_h2 via direct: not met - selected http/1.1',
    ]);
  });

  it('groups the checks that had no address to connect to in one line, after each failed lookup', () => {
    const skip = { ok: false, reason: 'no_addresses' as const, message: 'no addresses to connect to (the DNS check found none)', durationSeconds: 0 };
    const unresolved = Array.from({ length: 13 }, (_, i) =>
      round(`h${i}.lab.test`, [{ path: direct, tcp: { ...skip, families: [] }, tls: { ...skip, requirements: [] }, http: { ...skip, alpn: 'none', valid: false, phases: {}, viaProxy: false } }], {
        dns: [{ ok: false, reason: 'unreachable', message: 'A unreachable: A lookup failed: ECONNREFUSED', durationSeconds: 0.001, resolver: 'system', cnameChain: [], records: [] }],
      }),
    );
    const lines = whyLines(renderTable(unresolved, PLAIN, 1, NOW));
    expect(lines).toHaveLength(14);
    expect(lines[0]).toBe('  h0.lab.test dns via system: unreachable - A unreachable: A lookup failed: ECONNREFUSED');
    expect(lines[13]).toBe(
      `  tcp, tls, http via direct on 13 hosts (${unresolved.map((r) => r.target.host).join(', ')}): no_addresses - no addresses to connect to (the DNS check found none)`,
    );
    expect(whyLines(renderTable(unresolved.slice(0, 1), PLAIN, 1, NOW))[1]).toBe('  h0.lab.test tcp, tls, http via direct: no_addresses - no addresses to connect to (the DNS check found none)');
  });

  it('folds the checks a refused tcp check left untried into its line', () => {
    const notTried = { ok: false, reason: 'refused' as const, message: 'not tried: the tcp check reached nothing (connect ECONNREFUSED 127.0.0.1:443)', durationSeconds: 0 };
    const refused = round('h1.lab.test', [
      {
        path: direct,
        tcp: { ok: false, reason: 'refused', message: 'connect ECONNREFUSED 127.0.0.1:443', durationSeconds: 0.001, families: [{ family: 'v4', probed: 1, reachable: 0, attempts: [] }] },
        tls: { ...notTried, requirements: [] },
        http: { ...notTried, alpn: 'none', valid: false, phases: {}, viaProxy: false },
      },
    ]);
    expect(whyLines(renderTable([refused], PLAIN, 1, NOW))).toEqual(['  h1.lab.test tcp via direct: refused - connect ECONNREFUSED 127.0.0.1:443 (so tls, http not tried)']);
  });

  it('says a failed lookup is a fact where the target\'s clients do not resolve the name', () => {
    const behindProxy = round('h1.lab.test', [], { dnsRequired: false, dns: [{ ok: false, reason: 'nxdomain', message: 'A nxdomain', durationSeconds: 0.001, resolver: 'system', cnameChain: [], records: [] }] });
    expect(whyLines(renderTable([behindProxy], PLAIN, 1, NOW))).toEqual(["  h1.lab.test dns via system: nxdomain - A nxdomain (a fact, not a failure: this target's clients do not resolve it themselves)"]);
  });
});
