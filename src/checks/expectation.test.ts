import { describe, expect, it } from 'vitest';
import { PLAIN, renderJson, renderTable } from '../commands/check.js';
import { defaultConfig } from '../config/load.js';
import { renderRound } from '../metrics/view.js';
import { renderLandingPage } from '../server/landing-page.js';
import { renderTranscript } from '../server/transcript.js';
import type { Config } from '../config/types.js';
import type { CheckName, Target } from '../model/types.js';
import type { HttpResult } from '../probes/http/http.js';
import type { DnsResult } from '../probes/net/dns.js';
import type { ProxySpec } from '../probes/net/proxy.js';
import type { TcpResult } from '../probes/net/tcp.js';
import type { FailureReason } from '../probes/reasons.js';
import type { TlsCertFacts } from '../probes/tls/tls-certs.js';
import type { TlsResult } from '../probes/tls/tls.js';
import { blockedEverywhere, judgeExpectations } from './expectation.js';
import { dnsRequired, roundOk } from './judge.js';
import { PathHealth, healthWindowMs } from './path-health.js';
import type { BlockedJudgement, PathReport, RoundReport } from './report.js';

const config: Config = { ...defaultConfig(), intervalMs: 30_000, timeoutMs: 5_000 };
const NOW = 1_000_000;
const HOST = 'canary.example';

const tcpOk = (address = '192.0.2.10'): TcpResult => ({
  ok: true,
  durationSeconds: 0.01,
  families: [{ family: 'v4', probed: 1, reachable: 1, attempts: [{ address, family: 'v4', ok: true, connectSeconds: 0.001 }] }],
});
const tcpFail = (reason: FailureReason): TcpResult => ({
  ok: false,
  reason,
  message: `tcp ${reason}`,
  durationSeconds: 0.01,
  families: reason === 'no_addresses' ? [] : [{ family: 'v4', probed: 1, reachable: 0, attempts: [{ address: '192.0.2.10', family: 'v4', ok: false, reason, connectSeconds: 0.5 }] }],
});
const cert = (facts: Partial<TlsCertFacts> = {}): TlsCertFacts => ({
  leafNotAfter: 0,
  earliestNotAfter: 0,
  issuerCN: 'Public CA',
  issuerO: 'Public',
  verified: true,
  trust: 'system',
  intercepted: false,
  subjectCN: HOST,
  chainLength: 2,
  ...facts,
});
const tlsOk = (certificate: TlsCertFacts = cert()): TlsResult => ({
  ok: certificate.verified,
  ...(!certificate.verified && { reason: 'tls_cert_invalid' as const }),
  durationSeconds: 0.01,
  requirements: [],
  handshake: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', group: 'X25519', alpn: 'h2', ems: null, handshakeSeconds: 0.01 },
  certificate,
});
const tlsFail = (reason: FailureReason): TlsResult => ({ ok: false, reason, message: `tls ${reason}`, durationSeconds: 0.01, requirements: [] });
const httpAnswer = (status: number, more: Partial<HttpResult> = {}): HttpResult => ({ ok: status < 500, durationSeconds: 0.01, alpn: 'h2', protocol: '2', status, valid: true, phases: {}, viaProxy: false, ...more });
const httpFail = (reason: FailureReason, more: Partial<HttpResult> = {}): HttpResult => ({ ok: false, reason, message: `http ${reason}`, durationSeconds: 0.01, alpn: 'none', valid: false, phases: {}, viaProxy: false, ...more });
/** Every check after a tcp check that reached nothing fails at once with its reason (dial-plan.ts). */
const skipped = (reason: FailureReason): Pick<PathReport, 'http' | 'tls'> => ({ http: httpFail(reason), tls: tlsFail(reason) });
const dns = (reason?: FailureReason, addresses: string[] = ['192.0.2.10']): DnsResult => ({
  ok: reason === undefined,
  ...(reason !== undefined && { reason, message: `dns ${reason}` }),
  durationSeconds: 0.01,
  resolver: '192.0.2.53:53',
  cnameChain: [],
  records: [reason === undefined ? { type: 'A', family: 'v4', ok: true, addresses, ttl: 60, durationSeconds: 0.01 } : { type: 'A', family: 'v4', ok: false, reason, addresses: reason === 'sinkholed' ? ['0.0.0.0'] : [], ttl: null, durationSeconds: 0.01 }],
});

const PROXY: ProxySpec = { name: 'corp', url: new URL('http://192.0.2.3:3128') };

interface RoundSpec {
  checks?: CheckName[];
  expect?: Target['expect'];
  dns?: DnsResult[];
  paths: Array<Partial<PathReport> & { name: string }>;
}

function round(spec: RoundSpec): RoundReport {
  const target: Target = { host: HOST, port: 443, families: ['v4'], checks: spec.checks ?? ['dns', 'tcp', 'tls', 'http'], labels: {}, purpose: '', source: 'config', expect: spec.expect ?? 'blocked' };
  return {
    target,
    startedAtMs: NOW,
    finishedAtMs: NOW,
    durationSeconds: 0.1,
    addresses: {},
    dns: spec.dns ?? [dns()],
    dnsJudgements: [],
    paths: spec.paths.map(({ name, ...results }) => ({ path: { name, proxy: name === 'direct' ? null : PROXY, expectInterception: false }, ...results })),
  };
}

/** A health where `reaching` hosts that must work got through on every path lately. */
function health(reaching: number): PathHealth {
  const h = new PathHealth();
  for (let i = 0; i < reaching; i++) {
    for (const name of ['direct', 'corp']) {
      h.record({
        ...round({ expect: 'reachable', paths: [{ name, tcp: tcpOk() }] }),
        target: { host: `work-${i}.example`, port: 443, families: ['v4'], checks: ['tcp'], labels: {}, purpose: '', source: 'config' },
        finishedAtMs: NOW - 1000,
      });
    }
  }
  return h;
}

function judged(spec: RoundSpec, reaching = 1): RoundReport {
  const report = round(spec);
  judgeExpectations(report, { pathHealth: health(reaching), config, now: () => NOW });
  return report;
}

const verdictOf = (spec: RoundSpec, reaching = 1): BlockedJudgement | undefined => judged(spec, reaching).paths[0]?.blocked;

describe('a path that must stay blocked', () => {
  // Each case: what the path's checks found, and the verdict and deciding check that follow.
  const cases: Array<[string, RoundSpec, BlockedJudgement['verdict'], CheckName | undefined]> = [
    ['a refused port', { paths: [{ name: 'direct', tcp: tcpFail('refused'), ...skipped('refused') }] }, 'blocked', 'tcp'],
    ['no route', { paths: [{ name: 'direct', tcp: tcpFail('unreachable'), ...skipped('unreachable') }] }, 'blocked', 'tcp'],
    ['an NXDOMAIN', { dns: [dns('nxdomain')], paths: [{ name: 'direct', tcp: tcpFail('no_addresses'), ...skipped('no_addresses') }] }, 'blocked', 'dns'],
    ['a sinkhole', { dns: [dns('sinkholed')], paths: [{ name: 'direct', tcp: tcpFail('no_addresses'), ...skipped('no_addresses') }] }, 'blocked', 'dns'],
    ['a resolver that fails', { dns: [dns('servfail')], paths: [{ name: 'direct', tcp: tcpFail('no_addresses'), ...skipped('no_addresses') }] }, 'unknown', 'dns'],
    ['a proxy that denies (403)', { paths: [{ name: 'corp', tcp: tcpFail('proxy_denied'), ...skipped('proxy_denied') }] }, 'blocked', 'tcp'],
    ['a proxy that wants credentials (407)', { paths: [{ name: 'corp', tcp: tcpFail('proxy_auth_required'), ...skipped('proxy_auth_required') }] }, 'blocked', 'tcp'],
    ['a proxy that cannot reach it (502)', { paths: [{ name: 'corp', tcp: tcpFail('proxy_bad_gateway'), ...skipped('proxy_bad_gateway') }] }, 'blocked', 'tcp'],
    [
      "a bumping proxy's 403 page inside the tunnel, on its own certificate for the name",
      { paths: [{ name: 'corp', tcp: tcpOk('proxy'), http: httpFail('proxy_denied', { status: 403, answeredByProxy: true, viaProxy: true }), tls: tlsFail('proxy_denied') }] },
      'blocked',
      'http',
    ],
    ['a proxy that is down', { paths: [{ name: 'corp', tcp: tcpFail('proxy_refused'), ...skipped('proxy_refused') }] }, 'unknown', 'tcp'],
    ['an SNI filter that resets the handshake', { paths: [{ name: 'direct', tcp: tcpOk(), http: httpFail('reset'), tls: tlsFail('reset') }] }, 'blocked', 'http'],
    [
      "a block page on a device's own certificate",
      { paths: [{ name: 'direct', tcp: tcpOk(), http: httpAnswer(403), tls: tlsOk(cert({ verified: false, authorizationError: 'ERR_TLS_CERT_ALTNAME_INVALID', subjectCN: 'firewall.corp' })) }] },
      'blocked',
      'tls',
    ],
    ['the host answers', { paths: [{ name: 'direct', tcp: tcpOk(), http: httpAnswer(200), tls: tlsOk() }] }, 'reachable', 'http'],
    ['the host answers through the proxy', { paths: [{ name: 'corp', tcp: tcpOk('proxy'), http: httpAnswer(404, { viaProxy: true }), tls: tlsOk() }] }, 'reachable', 'http'],
    ['a handshake with its certificate, and HTTP that breaks', { paths: [{ name: 'direct', tcp: tcpOk(), http: httpFail('http_bad_response'), tls: tlsOk() }] }, 'reachable', 'tls'],
    [
      'a chain that does not verify, for its name (a host reached with a broken chain)',
      { paths: [{ name: 'direct', tcp: tcpOk(), http: httpFail('timeout'), tls: tlsOk(cert({ verified: false, authorizationError: 'CERT_HAS_EXPIRED' })) }] },
      'reachable',
      'tls',
    ],
    [
      'a self-signed certificate of another name',
      { paths: [{ name: 'direct', tcp: tcpOk(), http: httpFail('timeout'), tls: tlsOk(cert({ verified: false, authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT', subjectCN: 'blockpage' })) }] },
      'blocked',
      'tls',
    ],
    ['a TCP connect, for a target that runs no TLS', { checks: ['dns', 'tcp'], paths: [{ name: 'direct', tcp: tcpOk() }] }, 'reachable', 'tcp'],
    ['a tunnel, for a target that runs no TLS', { checks: ['tcp'], paths: [{ name: 'corp', tcp: tcpOk('proxy') }] }, 'reachable', 'tcp'],
    ['an answer, for a target that only resolves', { checks: ['dns'], paths: [{ name: 'direct' }] }, 'reachable', 'dns'],
    ['an NXDOMAIN, for a target that only resolves', { checks: ['dns'], dns: [dns('nxdomain')], paths: [{ name: 'direct' }] }, 'blocked', 'dns'],
    ['a SERVFAIL, for a target that only resolves', { checks: ['dns'], dns: [dns('servfail')], paths: [{ name: 'direct' }] }, 'unknown', 'dns'],
  ];
  it.each(cases)('%s', (_name, spec, verdict, check) => {
    const got = verdictOf(spec);
    expect({ verdict: got?.verdict, check: got?.check }, got?.detail).toEqual({ verdict, check });
  });

  it('says what got out, how it was kept out, or why it cannot tell', () => {
    expect(verdictOf({ checks: ['dns', 'tcp'], paths: [{ name: 'direct', tcp: tcpOk('192.0.2.77') }] })?.detail).toBe('got out: a TCP connect to 192.0.2.77 completes');
    expect(verdictOf({ paths: [{ name: 'corp', tcp: tcpFail('proxy_denied'), ...skipped('proxy_denied') }] })?.detail).toBe('the proxy denies it (403): tcp proxy_denied');
    expect(verdictOf({ dns: [dns('nxdomain')], paths: [{ name: 'direct', tcp: tcpFail('no_addresses'), ...skipped('no_addresses') }] })?.detail).toBe('resolver 192.0.2.53:53 answers nxdomain: dns nxdomain');
    expect(verdictOf({ paths: [{ name: 'direct', tcp: tcpOk(), http: httpAnswer(200), tls: tlsOk() }] })?.detail).toBe('got out: the host answers HTTP 200');
  });

  it('is blocked after a silence only while the path reaches a host that must work; else it cannot tell', () => {
    const dropped: RoundSpec = { paths: [{ name: 'direct', tcp: tcpFail('timeout'), ...skipped('timeout') }] };
    expect(verdictOf(dropped, 2)).toEqual({ verdict: 'blocked', check: 'tcp', detail: 'no answer (timeout), while 2 hosts that must work answer on path direct' });
    expect(verdictOf(dropped, 0)).toEqual({
      verdict: 'unknown',
      check: 'tcp',
      detail: 'could not tell: no answer (timeout), and no host that must work answered on path direct lately, so a drop cannot be told from a dead path',
    });
    // A proxy that never answers the CONNECT for this host, or closes its tunnel: the same.
    expect(verdictOf({ paths: [{ name: 'corp', tcp: tcpFail('proxy_timeout'), ...skipped('proxy_timeout') }] }, 1)?.verdict).toBe('blocked');
    expect(verdictOf({ paths: [{ name: 'corp', tcp: tcpOk('proxy'), http: httpFail('proxy_closed'), tls: tlsFail('proxy_closed') }] }, 0)?.verdict).toBe('unknown');
  });

  it('judges only the paths that must stay blocked: per path, the others must work', () => {
    const report = judged({ expect: { corp: 'blocked' }, paths: [{ name: 'direct', tcp: tcpOk(), http: httpAnswer(200), tls: tlsOk() }, { name: 'corp', tcp: tcpFail('proxy_denied'), ...skipped('proxy_denied') }] });
    expect(report.paths.map((p) => p.blocked?.verdict)).toEqual([undefined, 'blocked']);
    expect(blockedEverywhere(report)).toBe(false);
  });
});

describe('a path that must stay blocked in the verdicts that read it', () => {
  const held = (): RoundReport => judged({ paths: [{ name: 'direct', tcp: tcpFail('refused'), ...skipped('refused') }] });
  const out = (): RoundReport => judged({ paths: [{ name: 'direct', tcp: tcpOk(), http: httpAnswer(200), tls: tlsOk() }] });
  const cannotTell = (): RoundReport => judged({ paths: [{ name: 'direct', tcp: tcpFail('timeout'), ...skipped('timeout') }] }, 0);

  it('roundOk: ok while it held (its failed checks are what keeps it out), failing when something got out or nothing could tell', () => {
    expect(roundOk(held())).toBe(true);
    expect(roundOk(out())).toBe(false);
    expect(roundOk(cannotTell())).toBe(false);
    // A path that must work still counts by its checks.
    const mixed = judged({ expect: { corp: 'blocked' }, paths: [{ name: 'direct', tcp: tcpFail('refused'), ...skipped('refused') }, { name: 'corp', tcp: tcpFail('proxy_denied'), ...skipped('proxy_denied') }] });
    expect(roundOk(mixed)).toBe(false);
  });

  it('a lookup is not required of a target that must stay blocked everywhere, nor by default of one whose direct path must stay blocked', () => {
    const everywhere = held();
    expect(dnsRequired(everywhere, null)).toBe(false);
    expect(dnsRequired(everywhere, true)).toBe(false);
    const directBlocked = judged({ expect: { direct: 'blocked' }, paths: [{ name: 'direct', tcp: tcpFail('refused') }, { name: 'corp', tcp: tcpOk('proxy') }] });
    expect(dnsRequired(directBlocked, null)).toBe(false);
    expect(dnsRequired(directBlocked, true)).toBe(true);
    // A failed lookup of a target blocked everywhere does not fail the round.
    const nx = judged({ dns: [dns('nxdomain')], paths: [{ name: 'direct', tcp: tcpFail('no_addresses'), ...skipped('no_addresses') }] });
    nx.dnsRequired = dnsRequired(nx, null);
    expect(roundOk(nx)).toBe(true);
  });
});

describe('a path that must stay blocked, as shown', () => {
  const report = judged({
    expect: { direct: 'blocked', corp: 'blocked' },
    paths: [
      { name: 'direct', tcp: tcpOk('192.0.2.77'), http: httpAnswer(200), tls: tlsOk() },
      { name: 'corp', tcp: tcpFail('proxy_denied'), ...skipped('proxy_denied') },
    ],
  });

  it('in the series: one verdict a path, none on a path that must work', () => {
    const text = renderRound(report, config);
    expect(text.split('\n').filter((line) => line.startsWith('egress_blocked_verdict'))).toEqual([
      'egress_blocked_verdict{host="canary.example",path="direct",verdict="reachable"} 1',
      'egress_blocked_verdict{host="canary.example",path="corp",verdict="blocked"} 1',
    ]);
    const mustWork = judged({ expect: { corp: 'blocked' }, paths: [{ name: 'direct', tcp: tcpOk(), http: httpAnswer(200), tls: tlsOk() }] });
    expect(renderRound(mustWork, config)).not.toContain('egress_blocked_verdict{');
  });

  it('on the status page, in check and in the /probe transcript', () => {
    const page = renderLandingPage({ version: 't', states: [{ target: report.target, report, overruns: 0 }], ready: true, nowMs: NOW });
    expect(page).toContain('must stay blocked on direct: <span class="fail">&#10007; REACHABLE</span> got out: the host answers HTTP 200');
    expect(page).toContain('must stay blocked on corp: <span class="ok">&#10003; blocked</span> the proxy denies it (403): tcp proxy_denied');
    // The proxy's 403 is what keeps it out: not a failing check.
    expect(page).toContain('1 target; every check passes; 1 path that must stay blocked got out.');
    const table = renderTable([report], PLAIN, 1);
    expect(table).toContain('Must stay blocked\nHOST            PATH    MUST STAY BLOCKED  WHY\ncanary.example  direct  FAIL REACHABLE     got out: the host answers HTTP 200\ncanary.example  corp    ok blocked         the proxy denies it (403): tcp proxy_denied');
    expect(table).not.toContain('canary.example tcp via corp');
    expect(table).toContain('0 meet every requirement, 1 does not.');
    // A certificate on a path that must stay blocked is shown, but its expiry is no finding.
    expect(table).not.toContain('canary.example certificate via direct');
    const json = JSON.parse(renderJson([report])) as { ok: boolean; hosts: Array<{ paths: Array<{ expect: string; blocked: unknown }> }> };
    expect(json.ok).toBe(false);
    expect(json.hosts[0]?.paths[1]).toMatchObject({ expect: 'blocked', blocked: { verdict: 'blocked', check: 'tcp', detail: 'the proxy denies it (403): tcp proxy_denied' } });
    expect(renderTranscript(report)).toContain('PATH direct: straight to the host\n  must stay blocked: IT GOT OUT - got out: the host answers HTTP 200\n');
  });
});

describe('path health', () => {
  it('counts the hosts that must work whose latest round got through on the path within two periods and a deadline', () => {
    expect(healthWindowMs(config)).toBe(65_000);
    expect(healthWindowMs({ ...config, schedule: '*/5 * * * *' })).toBe(2 * 300_000 + 5_000);
    const h = new PathHealth();
    const work = (host: string, atMs: number, tcp: TcpResult): RoundReport => ({
      ...round({ expect: 'reachable', paths: [{ name: 'direct', tcp }] }),
      target: { host, port: 443, families: ['v4'], checks: ['tcp'], labels: {}, purpose: '', source: 'config' },
      finishedAtMs: atMs,
    });
    h.record(work('a.example', NOW - 10_000, tcpOk()));
    h.record(work('b.example', NOW - 70_000, tcpOk()));
    h.record(work('c.example', NOW - 1_000, tcpFail('timeout')));
    // A host that must stay blocked says nothing of the path, whatever it found.
    h.record(round({ paths: [{ name: 'direct', tcp: tcpOk() }] }));
    expect(h.reaching('direct', NOW, 65_000)).toBe(1);
    expect(h.reaching('corp', NOW, 65_000)).toBe(0);
    // Its latest round replaces a target's earlier one: a path that died stops counting at once.
    h.record(work('a.example', NOW, tcpFail('timeout')));
    expect(h.reaching('direct', NOW, 65_000)).toBe(0);
  });
});
