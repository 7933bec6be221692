// curl --http2 is the independent judge of the HTTP check: for every origin and every
// fixture proxy, the protocol the exporter reports must equal curl's %{http_version},
// and the status codes (or the proxy's CONNECT answer) must agree.
//
// Network: curl only ever talks to 127.0.0.1. Direct runs pin cgr.dev to 127.0.0.1
// with --resolve and pass --noproxy '*'; proxied runs name the fixture proxy with -x
// (the proxy maps cgr.dev:PORT to the loopback origin, as a real proxy resolves).
// The child environment holds PATH only: no proxy variable leaks in (see fixtures/curl.ts).
// curl is required: if it is missing these tests fail, they never skip.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCurl } from './fixtures/curl.js';
import type { CurlRun } from './fixtures/curl.js';
import { startOrigin } from './fixtures/http-servers.js';
import type { OriginVariant, RunningOrigin } from './fixtures/http-servers.js';
import { getPki } from './fixtures/pki.js';
import type { Pki } from './fixtures/pki.js';
import { startProxy } from './fixtures/proxies.js';
import type { ProxyFixtureOptions, RunningProxy } from './fixtures/proxies.js';
import type { HttpExpectation } from '../src/model/types.js';
import { directDial } from '../src/probes/net/dial.js';
import { probeHttp } from '../src/probes/http/http.js';
import type { HttpResult } from '../src/probes/http/http.js';
import { proxyDial } from '../src/probes/net/proxy.js';

const REGISTRY: HttpExpectation = { method: 'GET', path: '/v2/', expectStatus: [401], expectHeaders: { 'docker-distribution-api-version': 'registry/2.0' } };
const HOST = 'cgr.dev';
const WRITE_OUT = '%{http_version} %{http_code} %{http_connect}';

let pki: Pki;
let dir: string;
let rootCaFile: string;
const origins = new Map<OriginVariant, RunningOrigin>();
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  pki = await getPki();
  dir = await mkdtemp(join(tmpdir(), 'egress-curl-'));
  rootCaFile = join(dir, 'root.pem');
  await writeFile(rootCaFile, pki.rootCa);
  for (const variant of ['h2', 'h1', 'no-alpn'] as const) {
    const o = await startOrigin(variant);
    origins.set(variant, o);
    closers.push(o.close);
  }
});

afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
  await rm(dir, { recursive: true, force: true });
});

function origin(variant: OriginVariant): RunningOrigin {
  const o = origins.get(variant);
  if (o === undefined) throw new Error(`origin ${variant} not started`);
  return o;
}

async function proxyTo(o: RunningOrigin, options: Omit<ProxyFixtureOptions, 'map'>): Promise<RunningProxy> {
  const p = await startProxy({ ...options, map: { [`${HOST}:${o.port}`]: o.port } });
  closers.push(p.close);
  return p;
}

interface CurlSays {
  /** '2', '1.1', or '0' when no HTTP exchange happened. */
  version: string;
  status: number;
  /** The proxy's answer to CONNECT (0 without proxy). */
  connect: number;
  run: CurlRun;
}

async function curl(port: number, extra: readonly string[]): Promise<CurlSays> {
  const run = await runCurl(['--http2', '-sk', '-o', '/dev/null', '--max-time', '10', '-w', WRITE_OUT, ...extra, `https://${HOST}:${port}/v2/`]);
  const [version = '', status = '', connect = ''] = run.stdout.trim().split(' ');
  return { version, status: Number(status), connect: Number(connect), run };
}

function curlDirect(o: RunningOrigin): Promise<CurlSays> {
  return curl(o.port, ['--noproxy', '*', '--resolve', `${HOST}:${o.port}:127.0.0.1`]);
}

function curlVia(o: RunningOrigin, proxyUrl: string, extra: readonly string[] = []): Promise<CurlSays> {
  return curl(o.port, ['-x', proxyUrl, ...extra]);
}

async function exporter(o: RunningOrigin, proxyUrl?: string, proxyCa?: readonly string[]): Promise<HttpResult> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 10_000);
  try {
    const dial = proxyUrl === undefined ? directDial('127.0.0.1', o.port) : proxyDial({ name: 'corp', url: new URL(proxyUrl) }, HOST, o.port, proxyCa === undefined ? {} : { proxyCa });
    return await probeHttp({ host: HOST, port: o.port, families: ['v4'], checks: ['http'], labels: {}, purpose: 'test', source: 'test' }, { dial, viaProxy: proxyUrl !== undefined, expectation: REGISTRY }, ac.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** The exporter's protocol and status equal curl's. */
function agree(ours: HttpResult, theirs: CurlSays): void {
  const context = `curl said ${JSON.stringify(theirs.run.stdout)} (exit ${theirs.run.code}) for: ${theirs.run.command}\nexporter said: ${JSON.stringify({ protocol: ours.protocol, alpn: ours.alpn, status: ours.status, reason: ours.reason, message: ours.message })}`;
  expect(theirs.run.code, context).toBe(0);
  expect(ours.protocol, context).toBe(theirs.version);
  expect(ours.status, context).toBe(theirs.status);
}

describe('exporter and curl --http2 agree', () => {
  it.each([
    ['h2', '2'],
    ['h1', '1.1'],
    ['no-alpn', '1.1'],
  ] as const)('direct to the %s origin: HTTP/%s', async (variant, version) => {
    const o = origin(variant);
    const [ours, theirs] = [await exporter(o), await curlDirect(o)];
    agree(ours, theirs);
    expect(theirs.version).toBe(version);
    expect(theirs.status).toBe(401);
    expect(ours.ok).toBe(true);
  });

  it('through a plain CONNECT tunnel: h2 survives for both', async () => {
    const o = origin('h2');
    const p = await proxyTo(o, { mode: 'tunnel' });
    const [ours, theirs] = [await exporter(o, p.url), await curlVia(o, p.url)];
    agree(ours, theirs);
    expect(theirs.version).toBe('2');
    expect(theirs.connect).toBe(200);
    expect(p.connects.map((c) => c.target)).toEqual([`${HOST}:${o.port}`, `${HOST}:${o.port}`]);
  });

  it.each([
    ['http/1.1 only', ['http/1.1']],
    ['no ALPN (squid ssl-bump style)', null],
  ] as const)('through an intercepting proxy offering %s: both get HTTP/1.1 and the relayed 401', async (_name, alpn) => {
    const o = origin('h2');
    const p = await proxyTo(o, { mode: 'intercept', interceptAlpn: alpn === null ? null : [...alpn] });
    const [ours, theirs] = [await exporter(o, p.url), await curlVia(o, p.url)];
    agree(ours, theirs);
    expect(theirs.version).toBe('1.1');
    expect(theirs.status).toBe(401);
    expect(ours.tlsAuthorized).toBe(false);
  });

  it('through an https:// proxy (TLS to the proxy): h2 survives for both', async () => {
    const o = origin('h2');
    const p = await proxyTo(o, { mode: 'tunnel', tls: { key: pki.ecdsa.key, cert: pki.ecdsa.chain } });
    const [ours, theirs] = [await exporter(o, p.url, [pki.rootCa]), await curlVia(o, p.url, ['--proxy-cacert', rootCaFile])];
    agree(ours, theirs);
    expect(theirs.version).toBe('2');
  });

  it('through a proxy demanding credentials: both get 407 without and the answer with', async () => {
    const o = origin('h2');
    const p = await proxyTo(o, { mode: 'tunnel', credentials: { user: 'alice', pass: 'pa ss@word' } });
    const withoutOurs = await exporter(o, p.url);
    const withoutCurl = await curlVia(o, p.url);
    expect(withoutOurs.reason).toBe('proxy_auth_required');
    expect(withoutCurl.connect).toBe(407);
    expect(withoutCurl.version).toBe('0');

    const url = new URL(p.url);
    url.username = 'alice';
    url.password = encodeURIComponent('pa ss@word');
    const [ours, theirs] = [await exporter(o, url.href), await curlVia(o, url.href)];
    agree(ours, theirs);
    expect(theirs.version).toBe('2');
    // curl and the exporter sent the same header.
    const sent = p.connects.filter((c) => c.answer === 'tunnel').map((c) => c.headers['proxy-authorization']);
    expect(sent).toEqual([`Basic ${Buffer.from('alice:pa ss@word').toString('base64')}`, `Basic ${Buffer.from('alice:pa ss@word').toString('base64')}`]);
  });

  it.each([
    ['an ACL denying .dev', { mode: 'tunnel', denySuffixes: ['.dev'] }, 403, 'proxy_denied'],
    ['a 502', { mode: 'status', status: 502 }, 502, 'proxy_bad_gateway'],
  ] as const)('through a proxy with %s: the CONNECT answer is the proxy reason for both', async (_name, options, connect, reason) => {
    const o = origin('h2');
    const p = await proxyTo(o, { ...options, denySuffixes: 'denySuffixes' in options ? [...options.denySuffixes] : undefined });
    const [ours, theirs] = [await exporter(o, p.url), await curlVia(o, p.url)];
    expect(ours.reason).toBe(reason);
    expect(ours.protocol).toBeUndefined();
    expect(theirs.connect, theirs.run.command).toBe(connect);
    expect(theirs.version).toBe('0');
    expect(theirs.run.code).not.toBe(0);
  });

  it('through an intercepting proxy that shows its 403 inside the bumped tunnel (squid ssl-bump): same version and status; the exporter blames the proxy', async () => {
    const o = origin('h2');
    const p = await proxyTo(o, { mode: 'intercept', denySuffixes: ['.dev'], bumpErrors: true, interceptAlpn: null });
    const [ours, theirs] = [await exporter(o, p.url), await curlVia(o, p.url)];
    agree(ours, theirs);
    expect(theirs.connect).toBe(200);
    expect(theirs.status).toBe(403);
    expect(ours).toMatchObject({ reason: 'proxy_denied', answeredByProxy: true, protocol: '1.1' });
  });

  it('through a proxy that closes the tunnel after its 200: neither gets an HTTP answer', async () => {
    const o = origin('h2');
    const p = await proxyTo(o, { mode: 'close-after-200' });
    const [ours, theirs] = [await exporter(o, p.url), await curlVia(o, p.url)];
    expect(ours.reason).toBe('proxy_closed');
    expect(theirs.connect, theirs.run.command).toBe(200);
    expect(theirs.version).toBe('0');
    expect(theirs.run.code).not.toBe(0);
  });
});
