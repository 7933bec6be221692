import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPki } from '../../../test/fixtures/pki.js';
import type { Pki } from '../../../test/fixtures/pki.js';
import { startOrigin } from '../../../test/fixtures/http-servers.js';
import type { RunningOrigin } from '../../../test/fixtures/http-servers.js';
import { startProxy } from '../../../test/fixtures/proxies.js';
import type { ProxyFixtureOptions, RunningProxy } from '../../../test/fixtures/proxies.js';
import { refusedPort, startRawServer, startRefusingPeers, startTlsServer } from '../../../test/fixtures/tls-servers.js';
import type { RunningServer } from '../../../test/fixtures/tls-servers.js';
import { eventually, timed } from '../../../test/helpers/timing.js';
import type { HttpExpectation } from '../../model/types.js';
import { directDial } from '../net/dial.js';
import { DEFAULT_USER_AGENT, judgeResponse, probeHttp, proxyGeneratedError } from './http.js';
import type { HttpProbeOptions, HttpResult } from './http.js';
import { proxyDial } from '../net/proxy.js';
import type { Target } from '../../model/types.js';

const REGISTRY: HttpExpectation = { method: 'GET', path: '/v2/', expectStatus: [401], expectHeaders: { 'docker-distribution-api-version': 'registry/2.0' } };

let pki: Pki;
let h2: RunningOrigin;
let h1: RunningOrigin;
let noAlpn: RunningOrigin;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  pki = await getPki();
  [h2, h1, noAlpn] = await Promise.all([startOrigin('h2'), startOrigin('h1'), startOrigin('no-alpn')]);
  closers.push(h2.close, h1.close, noAlpn.close);
});

afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
});

function target(host: string, port: number): Target {
  return { host, port, families: ['v4'], checks: ['http'], labels: {}, purpose: 'test', source: 'test' };
}

async function probe(host: string, port: number, options: HttpProbeOptions, ms = 10_000): Promise<HttpResult & { elapsed: number }> {
  const { result, elapsed } = await timed(ms, (signal) => probeHttp(target(host, port), options, signal));
  return { ...result, elapsed };
}

/** Probe options, and the deadline the probe's signal carries (the check's; default 10 s). */
type Options = Partial<HttpProbeOptions> & { deadlineMs?: number };

/** Probes origin `o` as cgr.dev:PORT directly. */
function direct(o: RunningOrigin | RunningServer, { deadlineMs, ...options }: Options = {}, host = 'cgr.dev') {
  return probe(host, o.port, { dial: directDial('127.0.0.1', o.port), ...options }, deadlineMs);
}

async function proxyFor(origins: readonly { host: string; port: number }[], options: Omit<ProxyFixtureOptions, 'map'>): Promise<RunningProxy> {
  const p = await startProxy({ ...options, map: Object.fromEntries(origins.map((o) => [`${o.host}:${o.port}`, o.port])) });
  closers.push(p.close);
  return p;
}

/** Probes cgr.dev:PORT (mapped by the proxy to origin `o`) through proxy `p`. */
function via(p: RunningProxy, o: { port: number }, { deadlineMs, ...options }: Options = {}, url = p.url, host = 'cgr.dev') {
  return probe(host, o.port, { dial: proxyDial({ name: 'corp', url: new URL(url) }, host, o.port), viaProxy: true, ...options }, deadlineMs);
}

describe('judgeResponse', () => {
  it('without an expected status, anything below 500 is valid', () => {
    expect(judgeResponse(404, {}, undefined).valid).toBe(true);
    expect(judgeResponse(499, {}, { method: 'GET', path: '/' }).valid).toBe(true);
    expect(judgeResponse(500, {}, undefined)).toEqual({ valid: false, problem: 'status 500, expected any status below 500' });
    expect(judgeResponse(503, {}, { method: 'GET', path: '/', expectStatus: [] }).valid).toBe(false);
  });

  it('checks the expected statuses and exact header values', () => {
    expect(judgeResponse(401, { 'docker-distribution-api-version': 'registry/2.0' }, REGISTRY).valid).toBe(true);
    expect(judgeResponse(200, { 'docker-distribution-api-version': 'registry/2.0' }, REGISTRY).problem).toBe('status 200, expected 401');
    expect(judgeResponse(401, {}, REGISTRY).problem).toContain('header docker-distribution-api-version missing');
    expect(judgeResponse(401, { 'docker-distribution-api-version': 'registry/3.0' }, REGISTRY).problem).toContain('is "registry/3.0"');
  });
});

describe('proxyGeneratedError', () => {
  it('recognises squid and RFC 9209 error pages, by status', () => {
    expect(proxyGeneratedError(403, { 'x-squid-error': 'ERR_ACCESS_DENIED 0' })?.reason).toBe('proxy_denied');
    expect(proxyGeneratedError(503, { 'x-squid-error': 'ERR_DNS_FAIL 0' })?.reason).toBe('proxy_bad_gateway');
    expect(proxyGeneratedError(502, { 'proxy-status': 'corp-proxy; error=connection_refused' })?.reason).toBe('proxy_bad_gateway');
    expect(proxyGeneratedError(407, { 'proxy-status': 'corp; error=http_request_denied' })?.reason).toBe('proxy_auth_required');
    expect(proxyGeneratedError(400, { 'x-squid-error': 'ERR_INVALID_REQ 0' })?.reason).toBe('proxy_protocol_error');
    expect(proxyGeneratedError(401, {})).toBeUndefined();
    expect(proxyGeneratedError(503, { 'proxy-status': 'corp; received-status=503' })).toBeUndefined();
    expect(proxyGeneratedError(200, { 'x-squid-error': 'x' })).toBeUndefined();
  });
});

describe('probeHttp, direct', () => {
  it('HTTP/2 origin: protocol 2, the registry answer, every phase timed', async () => {
    const r = await direct(h2, { expectation: REGISTRY });
    expect(r).toMatchObject({ ok: true, valid: true, protocol: '2', alpn: 'h2', status: 401, viaProxy: false, tlsAuthorized: false });
    expect(r.reason).toBeUndefined();
    expect(r.headers?.['docker-distribution-api-version']).toBe('registry/2.0');
    expect(r.phases.connect).toBeGreaterThan(0);
    expect(r.phases.tls).toBeGreaterThan(0);
    expect(r.phases.first_byte).toBeGreaterThan(0);
    expect(r.phases.proxy_connect).toBeUndefined();
    const seen = h2.requests.at(-1);
    expect(seen).toMatchObject({ method: 'GET', path: '/v2/', httpVersion: '2.0', servername: 'cgr.dev' });
    expect(seen?.headers['user-agent']).toBe(DEFAULT_USER_AGENT);
    expect(seen?.headers[':authority']).toBe(`cgr.dev:${h2.port}`);
    expect(await eventually(() => h2.connections() === 0)).toBe(true);
  });

  it('trusts the chain when its root is passed in ca', async () => {
    const r = await direct(h2, { expectation: REGISTRY, ca: [pki.rootCa] });
    expect(r.tlsAuthorized).toBe(true);
    expect(r.tlsAuthorizationError).toBeUndefined();
    const other = await direct(h2, { ca: [pki.rootCa] }, 'example.test');
    expect(other.tlsAuthorized).toBe(false);
    expect(other.tlsAuthorizationError).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('HTTP/1.1-only origin: protocol 1.1', async () => {
    const r = await direct(h1, { expectation: REGISTRY, ca: [pki.rootCa] });
    expect(r).toMatchObject({ ok: true, protocol: '1.1', alpn: 'http/1.1', status: 401, tlsAuthorized: true });
    expect(h1.requests.at(-1)?.headers.host).toBe(`cgr.dev:${h1.port}`);
    expect(await eventually(() => h1.connections() === 0)).toBe(true);
  });

  it('a server with no ALPN at all: HTTP/1.1, no hang', async () => {
    const r = await direct(noAlpn, { expectation: REGISTRY, deadlineMs: 3000 });
    expect(r).toMatchObject({ ok: true, protocol: '1.1', alpn: 'none', status: 401 });
    expect(r.elapsed).toBeLessThan(2000);
    expect(await eventually(() => noAlpn.connections() === 0)).toBe(true);
  });

  it('IPv6 loopback literal: no SNI, the IP SAN verifies', async () => {
    const o = await startOrigin('h2', '::1');
    closers.push(o.close);
    const r = await probe('::1', o.port, { dial: directDial('::1', o.port), ca: [pki.rootCa] });
    expect(r).toMatchObject({ ok: true, protocol: '2', status: 200, tlsAuthorized: true });
    expect(o.requests.at(-1)?.servername).toBeUndefined();
  });

  it('the default expectation (GET /, any status below 500) accepts 404', async () => {
    const r = await direct(h2, { expectation: { method: 'GET', path: '/status/404' } });
    expect(r).toMatchObject({ ok: true, valid: true, status: 404 });
    const d = await direct(h2);
    expect(d).toMatchObject({ ok: true, valid: true, status: 200 });
    expect(h2.requests.at(-1)).toMatchObject({ method: 'GET', path: '/' });
  });

  it('a 500 without expectation is http_bad_response', async () => {
    const r = await direct(h2, { expectation: { method: 'GET', path: '/status/500' } });
    expect(r).toMatchObject({ ok: false, valid: false, reason: 'http_bad_response', status: 500, protocol: '2' });
    expect(r.message).toContain('expected any status below 500');
  });

  it('a wrong status or header is http_bad_response', async () => {
    const wrongStatus = await direct(h2, { expectation: { ...REGISTRY, path: '/' } });
    expect(wrongStatus).toMatchObject({ ok: false, valid: false, reason: 'http_bad_response', status: 200 });
    expect(wrongStatus.message).toContain('expected 401');
    const wrongHeader = await direct(h1, { expectation: { method: 'GET', path: '/header/docker-distribution-api-version/registry%2F1.0', expectHeaders: REGISTRY.expectHeaders! } });
    expect(wrongHeader).toMatchObject({ ok: false, valid: false, reason: 'http_bad_response', status: 200, protocol: '1.1' });
    expect(wrongHeader.message).toContain('registry/1.0');
  });

  it('honours the method', async () => {
    const r = await direct(h2, { expectation: { method: 'HEAD', path: '/v2/', expectStatus: [401] } });
    expect(r.ok).toBe(true);
    expect(h2.requests.at(-1)?.method).toBe('HEAD');
  });

  it('reads a bounded part of the body and does not wait for a body that never ends', async () => {
    const big = await direct(h1, { expectation: { method: 'GET', path: '/big' } });
    expect(big.ok).toBe(true);
    expect(big.bodyBytes).toBeGreaterThan(0);
    expect(big.bodyBytes).toBeLessThanOrEqual(64 * 1024);
    const slow = await direct(h2, { expectation: { method: 'GET', path: '/slow-body' }, bodyTimeoutMs: 200 });
    expect(slow).toMatchObject({ ok: true, status: 200 });
    expect(slow.elapsed).toBeLessThan(1500);
    const slow1 = await direct(h1, { expectation: { method: 'GET', path: '/slow-body' }, bodyTimeoutMs: 200 });
    expect(slow1).toMatchObject({ ok: true, status: 200, protocol: '1.1' });
    expect(await eventually(() => h1.connections() === 0 && h2.connections() === 0)).toBe(true);
  });

  it('a deadline reached while the body drains does not undo the response', async () => {
    for (const o of [h2, h1]) {
      const r = await direct(o, { expectation: { method: 'GET', path: '/slow-body' }, bodyTimeoutMs: 10_000, deadlineMs: 400 });
      expect(r).toMatchObject({ ok: true, valid: true, status: 200 });
      expect(r.reason).toBeUndefined();
      expect(r.elapsed).toBeGreaterThanOrEqual(350);
      expect(r.elapsed).toBeLessThan(1500);
    }
  });

  it('dial failures keep their reason', async () => {
    const port = await refusedPort();
    const r = await probe('cgr.dev', port, { dial: directDial('127.0.0.1', port) });
    expect(r).toMatchObject({ ok: false, valid: false, reason: 'refused', viaProxy: false });
    expect(r.protocol).toBeUndefined();
  });

  it('TLS failures: an alert or a non-TLS answer is tls_handshake_failed, a close is reset', async () => {
    const alert = await startRawServer('alert');
    const garbage = await startRawServer('garbage');
    const close = await startRawServer('close');
    closers.push(() => alert.close(), () => garbage.close(), () => close.close());
    expect(await direct(alert)).toMatchObject({ ok: false, reason: 'tls_handshake_failed' });
    expect(await direct(garbage)).toMatchObject({ ok: false, reason: 'tls_handshake_failed' });
    const closed = await direct(close);
    expect(closed).toMatchObject({ ok: false, reason: 'reset' });
  });

  it('a server that never answers: timeout within the deadline', async () => {
    const silent = await startRawServer('silent');
    closers.push(() => silent.close());
    const r = await direct(silent, { deadlineMs: 300 });
    expect(r).toMatchObject({ ok: false, reason: 'timeout' });
    expect(r.elapsed).toBeLessThan(1500);
    expect(await eventually(() => silent.connections() === 0)).toBe(true);
  });

  it('ALPN h2 but no HTTP/2 behind it: timeout within the deadline, session destroyed', async () => {
    const mute = await startTlsServer('full');
    closers.push(() => mute.close());
    const r = await direct(mute, { deadlineMs: 400 });
    expect(r).toMatchObject({ ok: false, reason: 'timeout', protocol: '2', alpn: 'h2' });
    expect(r.elapsed).toBeLessThan(1500);
    expect(await eventually(() => mute.connections() === 0)).toBe(true);
  });

  it('ends at the deadline its signal carries: the one deadline of the check', async () => {
    const silent = await startRawServer('silent');
    closers.push(() => silent.close());
    const r = await probe('cgr.dev', silent.port, { dial: directDial('127.0.0.1', silent.port) }, 200);
    expect(r.reason).toBe('timeout');
    expect(r.elapsed).toBeLessThan(1500);
  });
});

describe('probeHttp, through proxies', () => {
  it('plain CONNECT tunnel: h2 survives; proxy_connect is timed', async () => {
    const p = await proxyFor([{ host: 'cgr.dev', port: h2.port }], { mode: 'tunnel' });
    const r = await via(p, h2, { expectation: REGISTRY, ca: [pki.rootCa] });
    expect(r).toMatchObject({ ok: true, valid: true, protocol: '2', alpn: 'h2', status: 401, viaProxy: true, tlsAuthorized: true });
    expect(r.phases.proxy_connect).toBeGreaterThan(0);
    expect(r.phases.connect).toBeGreaterThan(0);
    expect(r.phases.tls).toBeGreaterThan(0);
    expect(r.phases.first_byte).toBeGreaterThan(0);
    expect(p.connects.at(-1)).toMatchObject({ target: `cgr.dev:${h2.port}`, answer: 'tunnel' });
    expect(h2.requests.at(-1)).toMatchObject({ httpVersion: '2.0', servername: 'cgr.dev', path: '/v2/' });
    expect(await eventually(() => p.connections() === 0)).toBe(true);
  });

  it('intercepting proxy: HTTP/1.1, ALPN http/1.1, not authorized unless its CA is trusted; the origin answer is relayed', async () => {
    const p = await proxyFor([{ host: 'cgr.dev', port: h2.port }], { mode: 'intercept' });
    const r = await via(p, h2, { expectation: REGISTRY, ca: [pki.rootCa] });
    expect(r).toMatchObject({ ok: true, valid: true, protocol: '1.1', alpn: 'http/1.1', status: 401, viaProxy: true, tlsAuthorized: false });
    expect(r.tlsAuthorizationError).toBe('SELF_SIGNED_CERT_IN_CHAIN');
    expect(r.headers?.via).toBe('1.1 fixture-intercept');
    expect(r.phases.proxy_connect).toBeGreaterThan(0);
    expect(p.interceptedServernames.at(-1)).toBe('cgr.dev');
    expect(p.relayed.at(-1)).toMatchObject({ method: 'GET', path: '/v2/', httpVersion: '1.1' });

    const trusted = await via(p, h2, { expectation: REGISTRY, ca: [pki.evilCa] });
    expect(trusted).toMatchObject({ ok: true, protocol: '1.1', tlsAuthorized: true });
    expect(await eventually(() => p.connections() === 0)).toBe(true);
  });

  it('intercepting proxy offering no ALPN (squid ssl-bump style): HTTP/1.1, alpn none', async () => {
    const p = await proxyFor([{ host: 'cgr.dev', port: h2.port }], { mode: 'intercept', interceptAlpn: null });
    const r = await via(p, h2, { expectation: REGISTRY, deadlineMs: 3000 });
    expect(r).toMatchObject({ ok: true, protocol: '1.1', alpn: 'none', status: 401 });
    expect(r.elapsed).toBeLessThan(2000);
  });

  it('a proxy denying .dev: proxy_denied, and a non-.dev host still passes', async () => {
    const p = await proxyFor([{ host: 'cgr.dev', port: h2.port }, { host: 'localhost', port: h2.port }], { mode: 'tunnel', denySuffixes: ['.dev'] });
    const r = await via(p, h2, { expectation: REGISTRY });
    expect(r).toMatchObject({ ok: false, valid: false, reason: 'proxy_denied', viaProxy: true });
    expect(r.protocol).toBeUndefined();
    expect(r.message).toContain('proxy corp');
    const other = await via(p, h2, {}, p.url, 'localhost');
    expect(other).toMatchObject({ ok: true, protocol: '2' });
  });

  it('an intercepting proxy showing its own 403 inside the bumped tunnel (squid ssl-bump): proxy_denied, not the origin\'s fault', async () => {
    const p = await proxyFor([{ host: 'cgr.dev', port: h2.port }], { mode: 'intercept', denySuffixes: ['.dev'], bumpErrors: true });
    const r = await via(p, h2, { expectation: REGISTRY });
    expect(r).toMatchObject({ ok: false, valid: false, reason: 'proxy_denied', answeredByProxy: true, protocol: '1.1', status: 403, viaProxy: true });
    expect(r.message).toContain('X-Squid-Error: ERR_ACCESS_DENIED 0');
    expect(p.relayed.at(-1)).toMatchObject({ path: '/v2/' });
    const before = h2.requests.length;
    await via(p, h2, { expectation: REGISTRY });
    expect(h2.requests.length).toBe(before);
  });

  it('a proxy demanding credentials: proxy_auth_required without, the answer with', async () => {
    const p = await proxyFor([{ host: 'cgr.dev', port: h2.port }], { mode: 'tunnel', credentials: { user: 'alice', pass: 's3cret pass' } });
    const without = await via(p, h2, { expectation: REGISTRY });
    expect(without).toMatchObject({ ok: false, reason: 'proxy_auth_required' });
    const url = new URL(p.url);
    url.username = 'alice';
    url.password = encodeURIComponent('s3cret pass');
    const withCreds = await via(p, h2, { expectation: REGISTRY }, url.href);
    expect(withCreds).toMatchObject({ ok: true, protocol: '2', status: 401 });
    expect(JSON.stringify([without, withCreds])).not.toContain('s3cret');
  });

  it('a tunnel closed right after its 200: proxy_closed (and reset when not through a proxy)', async () => {
    const p = await proxyFor([{ host: 'cgr.dev', port: h2.port }], { mode: 'close-after-200' });
    const r = await via(p, h2, { expectation: REGISTRY });
    expect(r).toMatchObject({ ok: false, reason: 'proxy_closed', viaProxy: true });
    expect(r.phases.proxy_connect).toBeGreaterThan(0);
    expect(r.message).toContain('before any TLS answer');
  });

  it('a proxy that closes without answering: proxy_closed', async () => {
    const p = await proxyFor([{ host: 'cgr.dev', port: h2.port }], { mode: 'close' });
    expect(await via(p, h2)).toMatchObject({ ok: false, reason: 'proxy_closed' });
  });

  it('a proxy that never answers CONNECT: proxy_timeout within the deadline', async () => {
    const p = await proxyFor([{ host: 'cgr.dev', port: h2.port }], { mode: 'silent' });
    const r = await via(p, h2, { deadlineMs: 400 });
    expect(r).toMatchObject({ ok: false, reason: 'proxy_timeout' });
    expect(r.elapsed).toBeGreaterThanOrEqual(350);
    expect(r.elapsed).toBeLessThan(1500);
    expect(await eventually(() => p.connections() === 0)).toBe(true);
  });

  it('a proxy answering garbage or 502: proxy_protocol_error, proxy_bad_gateway', async () => {
    const garbage = await proxyFor([], { mode: 'garbage' });
    expect(await via(garbage, h2)).toMatchObject({ ok: false, reason: 'proxy_protocol_error' });
    const bad = await proxyFor([], { mode: 'status', status: 502 });
    expect(await via(bad, h2)).toMatchObject({ ok: false, reason: 'proxy_bad_gateway' });
  });

  it('a refused proxy: proxy_refused', async () => {
    const port = await refusedPort();
    const r = await via({ url: `http://127.0.0.1:${port}` } as RunningProxy, h2);
    expect(r).toMatchObject({ ok: false, reason: 'proxy_refused' });
  });

  it('https:// proxy: h2 survives inside TLS-in-TLS', async () => {
    const p = await proxyFor([{ host: 'cgr.dev', port: h2.port }], { mode: 'tunnel', tls: { key: pki.rsa.key, cert: pki.rsa.chain } });
    const r = await probe('cgr.dev', h2.port, {
      dial: proxyDial({ name: 'tls-proxy', url: new URL(p.url) }, 'cgr.dev', h2.port, { proxyCa: [pki.rootCa] }),
      viaProxy: true,
      expectation: REGISTRY,
    });
    expect(r).toMatchObject({ ok: true, protocol: '2', status: 401 });
  });

  it('no socket, session or timer outlives a probe, whatever the outcome', async () => {
    const silent = await proxyFor([], { mode: 'silent' });
    const closing = await proxyFor([{ host: 'cgr.dev', port: h2.port }], { mode: 'close-after-200' });
    const tunnel = await proxyFor([{ host: 'cgr.dev', port: h2.port }], { mode: 'tunnel' });
    const mute = await startTlsServer('full');
    closers.push(() => mute.close());
    const tlsProxy = await proxyFor([{ host: 'cgr.dev', port: h2.port }], { mode: 'tunnel', tls: { key: pki.rsa.key, cert: pki.rsa.chain }, denySuffixes: ['apk.cgr.dev'] });
    const viaTlsProxy = (host: string) =>
      probe(host, h2.port, { dial: proxyDial({ name: 'tls-proxy', url: new URL(tlsProxy.url) }, host, h2.port, { proxyCa: [pki.rootCa] }), viaProxy: true });
    const count = () => {
      const info = process.getActiveResourcesInfo();
      return { sockets: info.filter((r) => r === 'TCPSocketWrap').length, timers: info.filter((r) => r === 'Timeout').length };
    };
    await eventually(() => false, 100);
    const baseline = count();
    const results = await Promise.all([
      via(silent, h2, { deadlineMs: 300 }),
      via(closing, h2),
      via(tunnel, h2, { expectation: { method: 'GET', path: '/slow-body' }, bodyTimeoutMs: 100 }),
      direct(mute, { deadlineMs: 300 }),
      direct(h1, { expectation: { method: 'GET', path: '/big' } }),
      direct(noAlpn),
      viaTlsProxy('cgr.dev'),
      viaTlsProxy('apk.cgr.dev'),
    ]);
    expect(results.map((r) => r.reason ?? 'ok')).toEqual(['proxy_timeout', 'proxy_closed', 'ok', 'timeout', 'ok', 'ok', 'ok', 'proxy_denied']);
    const settled = await eventually(() => {
      const now = count();
      return now.sockets <= baseline.sockets && now.timers <= baseline.timers;
    });
    expect({ settled, baseline, now: count() }).toEqual({ settled: true, baseline, now: baseline });
  });

  it('many probes in a row leave nothing behind and print no warnings', async () => {
    const p = await proxyFor([{ host: 'cgr.dev', port: h2.port }], { mode: 'tunnel' });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      // One signal per probe, as the scheduler's check deadline gives.
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          probeHttp(
            target('cgr.dev', h2.port),
            i % 2 === 0 ? { dial: directDial('127.0.0.1', h2.port) } : { dial: proxyDial({ name: 'corp', url: new URL(p.url) }, 'cgr.dev', h2.port), viaProxy: true },
            new AbortController().signal,
          ),
        ),
      );
      expect(results.every((r) => r.ok && r.protocol === '2')).toBe(true);
      expect(await eventually(() => p.connections() === 0 && h2.connections() === 0)).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });
});

describe('probeHttp: the TLS is native (no WireTap), its failures keep their reasons', () => {
  /** A real TLS server sharing no cipher with the client: ECDSA key, RSA-signed TLS 1.2 suites only. */
  let noSharedCipher: number;
  /** Closes each connection as soon as it is accepted. */
  let closeOnAccept: number;

  beforeAll(async () => {
    const peers = await startRefusingPeers(pki);
    noSharedCipher = peers.noSharedCipher;
    closeOnAccept = peers.closeOnAccept;
    closers.push(peers.close);
  });

  const at = (port: number, options: Options = {}) => direct({ port } as RunningServer, options);

  it('an alert (no shared cipher): tls_handshake_failed, the alert read from the ssl error', async () => {
    expect(await at(noSharedCipher)).toMatchObject({ ok: false, reason: 'tls_handshake_failed', message: 'TLS handshake failed: alert 40 handshake_failure', alpn: 'none' });
  });

  it('a plain-HTTP answer: tls_handshake_failed, named by its ssl code', async () => {
    const garbage = await startRawServer('garbage');
    closers.push(() => garbage.close());
    expect(await direct(garbage)).toMatchObject({ ok: false, reason: 'tls_handshake_failed', message: 'TLS handshake failed: not a TLS answer: wrong_version_number' });
  });

  it('a server that closes as soon as it accepts: reset, after 0 bytes', async () => {
    expect(await at(closeOnAccept)).toMatchObject({ ok: false, reason: 'reset', message: 'TLS handshake failed: connection closed without an alert after 0 bytes (ECONNRESET)' });
  });

  it('a server that never answers: timeout', async () => {
    const silent = await startRawServer('silent');
    closers.push(() => silent.close());
    expect(await direct(silent, { deadlineMs: 300 })).toMatchObject({ ok: false, reason: 'timeout', message: 'no TLS answer before the deadline' });
  });

  it('a CONNECT proxy that closes the tunnel after its 200, plain or https://: proxy_closed (its answer is not a TLS byte)', async () => {
    const plain = await proxyFor([{ host: 'cgr.dev', port: h2.port }], { mode: 'close-after-200' });
    const message = 'TLS handshake failed: the proxy closed the tunnel before any TLS answer (ECONNRESET)';
    expect(await via(plain, h2)).toMatchObject({ ok: false, reason: 'proxy_closed', message });
    const overTls = await proxyFor([{ host: 'cgr.dev', port: h2.port }], { mode: 'close-after-200', tls: { key: pki.rsa.key, cert: pki.rsa.chain } });
    const r = await probe('cgr.dev', h2.port, { dial: proxyDial({ name: 'tls-proxy', url: new URL(overTls.url) }, 'cgr.dev', h2.port, { proxyCa: [pki.rootCa] }), viaProxy: true });
    expect(r).toMatchObject({ ok: false, reason: 'proxy_closed', message });
  });
});
