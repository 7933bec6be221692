// The tls check judges the http check's handshake as its default one: one handshake
// a round for both, with the facts a handshake of its own would show. Real rounds
// against a real HTTP/2 origin that counts the connections it accepts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import type { CheckName, Target } from '../model/types.js';
import { loopbackDial } from '../../test/fixtures/tls-servers.js';
import { SharedDefaultHandshake, probeTls, REQUIREMENT_SPECS } from '../probes/tls/tls.js';
import type { TlsResult } from '../probes/tls/tls.js';
import { probeHttp } from '../probes/http/http.js';
import { startDnsServer } from '../../test/fixtures/dns-server.js';
import type { DnsFixture } from '../../test/fixtures/dns-server.js';
import { getPki } from '../../test/fixtures/pki.js';
import type { Pki } from '../../test/fixtures/pki.js';
import { startOrigin } from '../../test/fixtures/http-servers.js';
import type { RunningOrigin } from '../../test/fixtures/http-servers.js';
import { deadline } from '../../test/helpers/timing.js';
import { renderTranscript } from '../server/transcript.js';
import type { RoundReport } from './report.js';
import { runRound } from './round.js';
import { testRoundContext } from '../../test/helpers/round.js';

const REQUIREMENT_HANDSHAKES = REQUIREMENT_SPECS.reduce((n, spec) => n + spec.handshakes.length, 0);

/** What a default handshake showed, without its timing. */
function facts(tls: TlsResult | undefined) {
  expect(tls?.handshake).toBeDefined();
  const { version, cipher, group, alpn, ems } = tls!.handshake!;
  return { handshake: { version, cipher, group, alpn, ems }, certificate: tls!.certificate, requirements: tls!.requirements.map((r) => `${r.requirement} ${r.verdict}`) };
}

describe('one default handshake for the tls and http checks', () => {
  let pki: Pki;
  let dns: DnsFixture;
  let origin: RunningOrigin;

  beforeAll(async () => {
    pki = await getPki();
    origin = await startOrigin('h2');
    dns = await startDnsServer({ 'cgr.dev': { a: ['127.0.0.1'] } });
  });
  afterAll(async () => {
    await dns.close();
    await origin.close();
  });

  function rounds(checks: CheckName[]) {
    const config: Config = { ...defaultConfig(), timeoutMs: 5000, dns: { ...defaultConfig().dns, servers: [dns.address] }, proxy: 'none' };
    const target: Target = { host: 'cgr.dev', port: origin.port, families: ['v4'], checks, labels: {}, purpose: '', source: 'test' };
    let last: RoundReport | undefined;
    const ctx = testRoundContext({ config, ca: [pki.rootCa], previous: () => last });
    return async (): Promise<{ report: RoundReport; connections: number }> => {
      const before = origin.totals().accepted;
      last = await runRound(target, ctx);
      return { report: last, connections: origin.totals().accepted - before };
    };
  }

  it('makes one handshake a round where there were two, and judges it as its own would be', async () => {
    const both = rounds(['tls', 'http']);
    const first = await both();
    // Every requirement runs in the first round: its handshakes, and the http check's.
    expect(first.connections).toBe(1 + REQUIREMENT_HANDSHAKES);
    const again = await both();
    expect(again.connections).toBe(1);
    const direct = again.report.paths[0]!;
    expect(direct.http?.ok).toBe(true);
    expect(direct.http?.protocol).toBe('2');
    expect(direct.tls?.ok).toBe(true);
    // The same measurement, once: the tls check's handshake time is the http check's tls phase.
    expect(direct.tls?.handshake?.handshakeSeconds).toBe(direct.http?.phases.tls);
    expect(direct.tls?.handshake?.madeBy).toBe('http');
    // A debug transcript says whose handshake it was.
    expect(renderTranscript(again.report)).toMatch(/default client gets: TLSv1\.3 .*, handshake [\d.]+ ms \(the http check's\)/);
    expect(direct.tls!.durationSeconds).toBeGreaterThanOrEqual(direct.http!.phases.tls!);

    // A tls check alone makes its own default handshake, and sees the same.
    const alone = rounds(['tls']);
    await alone();
    const own = await alone();
    expect(own.connections).toBe(1);
    expect(own.report.paths[0]!.tls?.handshake?.madeBy).toBeUndefined();
    expect(facts(direct.tls)).toEqual(facts(own.report.paths[0]!.tls));
    expect(facts(direct.tls).handshake).toEqual({ version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', group: 'X25519', alpn: 'h2', ems: null });
  });

  it('is not used for a handshake made otherwise: another trust, or past the tls deadline', async () => {
    const target: Target = { host: 'localhost', port: origin.port, families: ['v4'], checks: ['tls', 'http'], labels: {}, purpose: '', source: 'test' };
    const dial = loopbackDial(origin.port);
    const run = async (share: SharedDefaultHandshake, tlsCa: readonly string[]) => {
      const d = deadline(5000);
      try {
        const http = await probeHttp(target, { dial, ca: [pki.rootCa], onHandshake: share.witness }, d.signal);
        expect(http.ok).toBe(true);
        const before = origin.totals().accepted;
        const tls = await probeTls(target, { dial, ca: tlsCa, requirements: [], shared: share }, d.signal);
        return { tls, connections: origin.totals().accepted - before };
      } finally {
        d.clear();
      }
    };
    const ca = [pki.rootCa];
    // Made for the same trust: judged, no connection of its own.
    const same = await run(new SharedDefaultHandshake(target, { ca }), ca);
    expect(same.connections).toBe(0);
    expect(same.tls.certificate?.verified).toBe(true);
    // Shared for one trust, asked under another (no tls.ca_file): its own handshake, its own verdict.
    const other = await run(new SharedDefaultHandshake(target, { ca }), []);
    expect(other.connections).toBe(1);
    expect(other.tls.certificate?.verified).toBe(false);
    // The http check trusted another CA set than the share: the witness does not take it.
    const mismatch = new SharedDefaultHandshake(target, { ca: [] });
    const seen = await run(mismatch, []);
    expect(seen.connections).toBe(1);
    // A handshake slower than the tls check's deadline would have let its own finish.
    const strict = new SharedDefaultHandshake(target, { ca, handshakeTimeoutMs: 0 });
    const slow = await run(strict, ca);
    expect(slow.connections).toBe(1);
    expect(slow.tls.ok).toBe(true);
  });
});
