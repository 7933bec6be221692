import { describe, expect, it } from 'vitest';
import type { RoundReport } from '../checks/report.js';
import type { Target } from '../model/types.js';
import { flat, StringPool } from './shared-strings.js';

const target: Target = { host: 'a.example', port: 443, families: ['v4'], checks: ['dns', 'tcp', 'tls', 'http'], labels: {}, purpose: '', source: 'config', tlsRequirements: ['baseline'] };

/** A report as a round of `host` would make it: every string built anew. */
function report(host: string): RoundReport {
  const build = (...parts: string[]): string => parts.join('');
  return {
    target: { ...target, host },
    startedAtMs: 1,
    finishedAtMs: 2,
    durationSeconds: 0.1,
    addresses: { v4: [build('192.0.2.', '1')] },
    dns: [
      {
        ok: true,
        resolver: build('127.0.0.1', ':53'),
        message: build('A 192.0.2.1', ' (ttl 60)'),
        durationSeconds: 0.01,
        cnameChain: [],
        records: [{ type: 'A', family: 'v4', ok: true, addresses: [build('192.0.2.', '1')], ttl: 60, durationSeconds: 0.01, message: build('A ', 'ok') }],
      },
    ],
    dnsJudgements: [{ resolver: build('127.0.0.1', ':53'), type: 'A', family: 'v4', ttlChanged: false, addressesChanged: false }],
    paths: [
      {
        path: { name: 'direct', proxy: null, expectInterception: false },
        requirementsBasis: build('TLSv1.3|', 'X25519'),
        tcp: { ok: true, durationSeconds: 0.001, families: [{ family: 'v4', probed: 1, reachable: 1, attempts: [{ address: build('192.0.2.', '1'), family: 'v4', ok: true, connectSeconds: 0.001 }] }] },
        http: { ok: true, valid: true, alpn: 'h2', phases: {}, viaProxy: false, durationSeconds: 0.02, message: build('HTTP/2 200', ' (ALPN h2)') },
        tls: {
          ok: true,
          durationSeconds: 0.02,
          message: build('default: ', 'TLSv1.3'),
          requirements: [{ requirement: 'baseline', verdict: 'met', detail: build('TLSv1.3 ', 'X25519'), durationSeconds: 0.01 }],
        },
      },
    ],
  };
}

// Which copy of equal strings a report holds is not observable from JavaScript (strings are
// values); what is: sharing changes no fact of any report. The memory it saves is measured
// by the bench (BENCHMARKS.md).
describe('StringPool', () => {
  it('gives back an equal string, also after it started over', () => {
    const pool = new StringPool(2);
    for (const value of ['x1', 'x2', 'x3', ['x', '1'].join(''), '']) expect(pool.share(value)).toBe(value);
  });

  it("changes no fact of the reports it shares strings between, carried verdicts included", () => {
    const pool = new StringPool();
    const one = report('one.example');
    const two = report('two.example');
    const next = report('two.example');
    next.paths[0]!.tls!.requirements = two.paths[0]!.tls!.requirements;
    const before = [one, two, next].map((r) => JSON.stringify(r));
    pool.shareReport(one, undefined);
    pool.shareReport(two, undefined);
    pool.shareReport(next, two);
    expect([one, two, next].map((r) => JSON.stringify(r))).toEqual(before);
  });
});

describe('flat', () => {
  it('returns the string it is given', () => {
    const built = ['egress_probe_failures_total', '{host="a"}'].join('');
    expect(flat(built)).toBe('egress_probe_failures_total{host="a"}');
    expect(flat('')).toBe('');
  });
});
