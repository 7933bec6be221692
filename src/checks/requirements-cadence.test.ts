// The TLS requirement handshakes run on their own cadence: in the target's slot of
// tls.requirements_interval, at once when the default handshake's facts move,
// and again after one was left untested. Real handshakes against test servers;
// a spy records which requirement set each tls probe was asked for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import type { Target } from '../model/types.js';
import { probeTls } from '../probes/tls/tls.js';
import type { TlsProbeOptions } from '../probes/tls/tls.js';
import { startDnsServer } from '../../test/fixtures/dns-server.js';
import type { DnsFixture } from '../../test/fixtures/dns-server.js';
import { getPki } from '../../test/fixtures/pki.js';
import { startTlsServer } from '../../test/fixtures/tls-servers.js';
import type { RunningServer } from '../../test/fixtures/tls-servers.js';
import type { RoundReport } from './report.js';
import { targetKey } from './report.js';
import { runRound } from './round.js';
import { hostPhase, slotAfterMs } from '../async/slots.js';
import { testRoundContext } from '../../test/helpers/round.js';

const MINUTE = 60_000;

describe('TLS requirement cadence', () => {
  let dns: DnsFixture;
  let full: RunningServer;
  let noH2: RunningServer;
  let ca: string;
  const asked: Array<'all' | 'none'> = [];

  beforeAll(async () => {
    full = await startTlsServer('full');
    noH2 = await startTlsServer('no-h2');
    dns = await startDnsServer({ 'cgr.dev': { a: ['127.0.0.1'] } });
    ca = (await getPki()).rootCa;
  });
  afterAll(async () => {
    await dns.close();
    await full.close();
    await noH2.close();
  });

  function harness(port: number) {
    const config: Config = { ...defaultConfig(), timeoutMs: 5000, dns: { ...defaultConfig().dns, servers: [dns.address] }, proxy: 'none' };
    const target: Target = { host: 'cgr.dev', port, families: ['v4'], checks: ['tcp', 'tls'], labels: {}, purpose: '', source: 'test' };
    let clock = 1_000_000;
    let last: RoundReport | undefined;
    const ctx = testRoundContext({
      config,
      ca: [ca],
      probes: {
        tls: (t: Target, options: TlsProbeOptions, signal: AbortSignal) => {
          asked.push(options.requirements !== undefined && options.requirements.length === 0 ? 'none' : 'all');
          return probeTls(t, options, signal);
        },
      },
      previous: () => last,
      now: () => clock,
    });
    return {
      /** When the requirements next come due after a run at `at`: the target's slot, half an interval to one and a half later. */
      dueAfter(at: number): number {
        return slotAfterMs(at, config.tls.requirementsIntervalMs, hostPhase(targetKey(target)));
      },
      async round(at: number, changes: Partial<Target> = {}): Promise<RoundReport> {
        clock = at;
        asked.length = 0;
        last = await runRound({ ...target, ...changes }, ctx);
        return last;
      },
      set last(report: RoundReport) {
        last = report;
      },
    };
  }

  it('runs every requirement first, then only the default handshake until the target\'s slot in the interval', async () => {
    const h = harness(full.port);
    const first = await h.round(0);
    expect(asked).toEqual(['all']);
    const path = first.paths[0]!;
    expect(path.tls?.ok).toBe(true);
    expect(path.tls?.requirements.every((r) => r.verdict === 'met')).toBe(true);
    expect(path.requirementsAtMs).toBe(0);

    const second = await h.round(MINUTE);
    expect(asked).toEqual(['none']);
    const carried = second.paths[0]!;
    expect(carried.tls?.ok).toBe(true);
    expect(carried.tls?.requirements.map((r) => r.verdict)).toEqual(path.tls?.requirements.map((r) => r.verdict));
    expect(carried.requirementsAtMs).toBe(0);

    const dueAt = h.dueAfter(0);
    expect(dueAt).toBeGreaterThanOrEqual(5 * MINUTE);
    expect(dueAt).toBeLessThan(15 * MINUTE);
    await h.round(dueAt - 1);
    expect(asked).toEqual(['none']);
    const due = await h.round(dueAt);
    expect(asked).toEqual(['all']);
    expect(due.paths[0]!.requirementsAtMs).toBe(dueAt);
    // From then on, one interval apart.
    expect(h.dueAfter(dueAt)).toBe(dueAt + 10 * MINUTE);
  });

  it('runs them at once when the default handshake changes (another ALPN here)', async () => {
    const h = harness(full.port);
    await h.round(0);
    const moved = await h.round(MINUTE, { port: noH2.port });
    expect(asked).toEqual(['none', 'all']);
    const path = moved.paths[0]!;
    expect(path.requirementsAtMs).toBe(MINUTE);
    expect(path.tls?.requirements.find((r) => r.requirement === 'alpn_h2')?.verdict).toBe('not_met');
    expect(path.tls?.ok).toBe(false);
    expect(path.tls?.reason).toBe('tls_handshake_failed');
  });

  it('carries a not-met verdict onto the rounds between, still failing the check', async () => {
    const h = harness(noH2.port);
    await h.round(0);
    const between = await h.round(MINUTE);
    expect(asked).toEqual(['none']);
    const tls = between.paths[0]!.tls!;
    expect(tls.ok).toBe(false);
    expect(tls.reason).toBe('tls_handshake_failed');
    expect(tls.message).toContain('alpn_h2 not_met');
  });

  it('runs them again next round when the last run left one untested', async () => {
    const h = harness(full.port);
    const first = await h.round(0);
    const tls = first.paths[0]!.tls!;
    h.last = {
      ...first,
      paths: [{ ...first.paths[0]!, tls: { ...tls, requirements: tls.requirements.map((r, i) => (i === 0 ? { ...r, verdict: 'untested' as const, reason: 'timeout' as const } : r)) } }],
    };
    await h.round(MINUTE);
    expect(asked).toEqual(['all']);
  });
});
