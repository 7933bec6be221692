import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPki } from '../../../test/fixtures/pki.js';
import type { Pki } from '../../../test/fixtures/pki.js';
import { startProxy } from '../../../test/fixtures/proxies.js';
import type { ProxyFixtureOptions, RunningProxy } from '../../../test/fixtures/proxies.js';
import { refusedPort } from '../../../test/fixtures/tls-servers.js';
import { eventually, timed } from '../../../test/helpers/timing.js';
import { authority, parseProxyHead, proxyAuthorization, proxyDial, redactProxyUrl } from './proxy.js';
import type { ProxyDialOptions, ProxySpec } from './proxy.js';
import type { DialResult } from '../types.js';

/** A loopback echo server: the tunnel's far end. */
let echo: NetServer;
let echoPort: number;
const echoSockets = new Set<Socket>();
const opened: RunningProxy[] = [];
let pki: Pki;

beforeAll(async () => {
  pki = await getPki();
  echo = createNetServer((s) => {
    echoSockets.add(s);
    s.on('error', () => {});
    s.once('close', () => echoSockets.delete(s));
    s.pipe(s);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as AddressInfo).port;
});

afterAll(async () => {
  await Promise.all(opened.map((p) => p.close()));
  for (const s of echoSockets) s.destroy();
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

async function proxy(options: Partial<ProxyFixtureOptions> & Pick<ProxyFixtureOptions, 'mode'>): Promise<RunningProxy> {
  const p = await startProxy({ map: { [`echo.test:${echoPort}`]: echoPort, [`svc.dev:${echoPort}`]: echoPort }, ...options });
  opened.push(p);
  return p;
}

function spec(url: string, name = 'corp'): ProxySpec {
  return { name, url: new URL(url) };
}

function dial(p: ProxySpec, host = 'echo.test', port = echoPort, ms = 5000, options: ProxyDialOptions = {}): Promise<{ result: DialResult; elapsed: number }> {
  return timed(ms, (signal) => proxyDial(p, host, port, options)(signal));
}

function failure(result: DialResult): { reason: string; message: string } {
  if (result.ok) {
    result.socket.destroy();
    throw new Error('expected the dial to fail');
  }
  return { reason: result.reason, message: result.message };
}

/** Reads from a dialled socket until `bytes` have arrived or it ends. */
function readSome(socket: Socket, bytes: number, ms = 2000): Promise<{ data: string; ended: boolean }> {
  return new Promise((resolve) => {
    let data = Buffer.alloc(0);
    const done = (ended: boolean) => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      resolve({ data: data.toString('latin1'), ended });
    };
    const timer = setTimeout(() => done(false), ms);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= bytes) done(false);
    });
    socket.once('end', () => done(true));
    socket.once('close', () => done(true));
    socket.resume();
  });
}

describe('parseProxyHead', () => {
  it('waits for the whole head across split reads, and tolerates bare LF', () => {
    expect(parseProxyHead(Buffer.from('HT'))).toEqual({ kind: 'incomplete' });
    expect(parseProxyHead(Buffer.from('HTTP/1.1 200 OK\r\n'))).toEqual({ kind: 'incomplete' });
    const head = parseProxyHead(Buffer.from('HTTP/1.1 200 Connection established\r\nVia: 1.1 squid\r\n\r\nTUNNEL'));
    expect(head).toMatchObject({ kind: 'head', status: 200, reasonPhrase: 'Connection established', headers: { via: '1.1 squid' } });
    expect(head.kind === 'head' && head.headLength).toBe('HTTP/1.1 200 Connection established\r\nVia: 1.1 squid\r\n\r\n'.length);
    expect(parseProxyHead(Buffer.from('HTTP/1.0 200\n\n'))).toMatchObject({ kind: 'head', status: 200, headLength: 14 });
  });

  it('rejects what is not HTTP as soon as the first bytes show it', () => {
    expect(parseProxyHead(Buffer.from('SSH'))).toMatchObject({ kind: 'garbage' });
    expect(parseProxyHead(Buffer.from([0x16, 0x03, 0x01]))).toMatchObject({ kind: 'garbage' });
    expect(parseProxyHead(Buffer.from('HTTP/1.1 banana\r\n\r\n'))).toMatchObject({ kind: 'garbage' });
    expect(parseProxyHead(Buffer.from('HTTP/1.1 200 OK\r\nno colon here\r\n\r\n'))).toMatchObject({ kind: 'garbage' });
  });

  it('bounds the head', () => {
    const big = Buffer.from(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(20_000)}`);
    expect(parseProxyHead(big)).toEqual({ kind: 'too_large' });
    expect(parseProxyHead(Buffer.from(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(100)}\r\n\r\n`), 64)).toEqual({ kind: 'too_large' });
  });
});

describe('proxy URL helpers', () => {
  it('redacts the password and keeps the rest', () => {
    expect(redactProxyUrl('http://alice:s3cret@proxy.corp:3128')).toBe('http://alice:***@proxy.corp:3128');
    expect(redactProxyUrl(new URL('http://alice@proxy.corp:3128/'))).toBe('http://alice@proxy.corp:3128');
    expect(redactProxyUrl('https://proxy.corp')).toBe('https://proxy.corp');
    expect(redactProxyUrl('not a url')).toBe('<invalid proxy url>');
  });

  it('builds Proxy-Authorization from URL-decoded parts', () => {
    const header = proxyAuthorization(new URL('http://us%40er:p%3Ass%20w%25rd@proxy:3128'));
    expect(header).toBe(`Basic ${Buffer.from('us@er:p:ss w%rd').toString('base64')}`);
    expect(proxyAuthorization(new URL('http://proxy:3128'))).toBeUndefined();
  });

  it('brackets IPv6 literals in the CONNECT authority', () => {
    expect(authority('::1', 443)).toBe('[::1]:443');
    expect(authority('[::1]', 443)).toBe('[::1]:443');
    expect(authority('cgr.dev', 443)).toBe('cgr.dev:443');
  });
});

describe('proxyDial', () => {
  it('opens a tunnel and times TCP and CONNECT separately', async () => {
    const p = await proxy({ mode: 'tunnel' });
    const { result } = await dial(spec(p.url));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.connectSeconds).toBeGreaterThan(0);
    expect(result.proxyConnectSeconds).toBeGreaterThan(0);
    expect(result.remoteAddress).toBe('127.0.0.1');
    expect(p.connects.at(-1)).toMatchObject({ target: `echo.test:${echoPort}`, answer: 'tunnel' });
    expect(p.connects.at(-1)?.headers.host).toBe(`echo.test:${echoPort}`);
    expect(p.connects.at(-1)?.headers['proxy-authorization']).toBeUndefined();
    result.socket.write('ping');
    expect((await readSome(result.socket, 4)).data).toBe('ping');
    result.socket.destroy();
  });

  it('keeps bytes that arrive with the 200 head (they belong to the tunnel)', async () => {
    const p = await proxy({ mode: 'tunnel', afterHead: Buffer.from('EARLY-BYTES|') });
    const { result } = await dial(spec(p.url));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    result.socket.write('after');
    expect((await readSome(result.socket, 'EARLY-BYTES|after'.length)).data).toBe('EARLY-BYTES|after');
    result.socket.destroy();
  });

  it('parses a 200 head dribbled out three bytes at a time, and still keeps the bytes after it', async () => {
    const p = await proxy({ mode: 'tunnel', splitHead: true, afterHead: Buffer.from('X') });
    const { result } = await dial(spec(p.url));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.proxyConnectSeconds).toBeGreaterThan(0.002);
    result.socket.write('y');
    expect((await readSome(result.socket, 2)).data).toBe('Xy');
    result.socket.destroy();
  });

  it('proxy_refused when nothing listens on the proxy port', async () => {
    const port = await refusedPort();
    const f = failure((await dial(spec(`http://127.0.0.1:${port}`, 'office'))).result);
    expect(f.reason).toBe('proxy_refused');
    expect(f.message).toContain('proxy office');
  });

  it('proxy_refused when the proxy name does not resolve, without touching the network', async () => {
    const resolveProxyHost = () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));
    const f = failure((await dial(spec('http://proxy.invalid:3128'), 'echo.test', echoPort, 2000, { resolveProxyHost })).result);
    expect(f.reason).toBe('proxy_refused');
    expect(f.message).toContain('ENOTFOUND');
  });

  it('proxy_timeout when reaching the proxy takes longer than the deadline', async () => {
    const resolveProxyHost = () => new Promise<string>(() => {});
    const { result, elapsed } = await dial(spec('http://proxy.invalid:3128'), 'echo.test', echoPort, 200, { resolveProxyHost });
    expect(failure(result).reason).toBe('proxy_timeout');
    expect(elapsed).toBeLessThan(1500);
    const ac = new AbortController();
    ac.abort();
    const pre = await proxyDial(spec('http://127.0.0.1:1'), 'echo.test', 443)(ac.signal);
    expect(failure(pre).reason).toBe('proxy_timeout');
  });

  it('proxy_timeout when the proxy never answers CONNECT, within the deadline', async () => {
    const p = await proxy({ mode: 'silent' });
    const { result, elapsed } = await dial(spec(p.url), 'echo.test', echoPort, 300);
    const f = failure(result);
    expect(f.reason).toBe('proxy_timeout');
    expect(f.message).toContain('no answer to CONNECT');
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1500);
    expect(await eventually(() => p.connections() === 0)).toBe(true);
  });

  it('proxy_closed when the proxy closes without answering', async () => {
    const p = await proxy({ mode: 'close' });
    const f = failure((await dial(spec(p.url))).result);
    expect(f.reason).toBe('proxy_closed');
    expect(f.message).toContain('without answering CONNECT');
  });

  it('a tunnel closed right after its 200 is a successful dial whose socket ends at once', async () => {
    const p = await proxy({ mode: 'close-after-200' });
    const { result } = await dial(spec(p.url));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const read = await readSome(result.socket, 1);
    expect(read).toEqual({ data: '', ended: true });
    result.socket.destroy();
  });

  it('proxy_protocol_error for an answer that is not HTTP', async () => {
    const p = await proxy({ mode: 'garbage' });
    const f = failure((await dial(spec(p.url))).result);
    expect(f.reason).toBe('proxy_protocol_error');
    expect(f.message).toContain('SSH-2.0');
  });

  it.each([
    [502, 'proxy_bad_gateway'],
    [503, 'proxy_bad_gateway'],
    [504, 'proxy_bad_gateway'],
    [403, 'proxy_denied'],
    [407, 'proxy_auth_required'],
    [400, 'proxy_protocol_error'],
    [405, 'proxy_protocol_error'],
    [301, 'proxy_protocol_error'],
  ])('status %i -> %s', async (status, reason) => {
    const p = await proxy({ mode: 'status', status });
    const f = failure((await dial(spec(p.url))).result);
    expect(f.reason).toBe(reason);
    expect(f.message).toContain(`with ${status}`);
  });

  it.each([
    ['tinyproxy: 500 Unable to connect', 'Unable to connect', '', '500 Unable to connect: the proxy could not reach or resolve the host'],
    ['squid: 500 with X-Squid-Error ERR_CANNOT_FORWARD', 'Internal Server Error', 'X-Squid-Error: ERR_CANNOT_FORWARD 0\r\n', '500 Internal Server Error (X-Squid-Error: ERR_CANNOT_FORWARD 0): the proxy could not reach or resolve the host'],
  ])('%s -> proxy_bad_gateway, in the proxy\'s words', async (_name, statusPhrase, statusHeaders, said) => {
    const p = await proxy({ mode: 'status', status: 500, statusPhrase, statusHeaders });
    const f = failure((await dial(spec(p.url))).result);
    expect(f.reason).toBe('proxy_bad_gateway');
    expect(f.message).toContain(`with ${said}`);
  });

  it('a 500 that says nothing of the host stays the proxy failing (proxy_protocol_error)', async () => {
    const p = await proxy({ mode: 'status', status: 500, statusPhrase: 'Internal Server Error' });
    expect(failure((await dial(spec(p.url))).result).reason).toBe('proxy_protocol_error');
  });

  it('proxy_bad_gateway when the proxy cannot reach the target (unmapped here)', async () => {
    const p = await proxy({ mode: 'tunnel' });
    const f = failure((await dial(spec(p.url), 'nowhere.test', 443)).result);
    expect(f.reason).toBe('proxy_bad_gateway');
  });

  it('proxy_denied from an ACL denying .dev, while other hosts pass', async () => {
    const p = await proxy({ mode: 'tunnel', denySuffixes: ['.dev'] });
    const f = failure((await dial(spec(p.url), 'svc.dev', echoPort)).result);
    expect(f.reason).toBe('proxy_denied');
    expect(f.message).toContain(`CONNECT svc.dev:${echoPort} with 403`);
    const { result } = await dial(spec(p.url), 'echo.test', echoPort);
    expect(result.ok).toBe(true);
    if (result.ok) result.socket.destroy();
  });

  it('credentials: 407 without, 200 with; the header is Basic of the URL-decoded parts; the password never shows', async () => {
    const user = 'us@er';
    const pass = 'p:ss w%rd!';
    const p = await proxy({ mode: 'tunnel', credentials: { user, pass } });
    const base = new URL(p.url);

    const without = failure((await dial({ name: 'auth', url: base })).result);
    expect(without.reason).toBe('proxy_auth_required');
    expect(without.message).toContain('no credentials sent');
    expect(without.message).toContain('Basic');

    const wrong = new URL(p.url);
    wrong.username = encodeURIComponent(user);
    wrong.password = encodeURIComponent('wrong-password');
    const refused = failure((await dial({ name: 'auth', url: wrong })).result);
    expect(refused.reason).toBe('proxy_auth_required');
    expect(refused.message).not.toContain('wrong-password');
    expect(refused.message).toContain('***');

    const right = new URL(p.url);
    right.username = encodeURIComponent(user);
    right.password = encodeURIComponent(pass);
    expect(right.href).toContain('p%3Ass%20w%25rd');
    const { result } = await dial({ name: 'auth', url: right });
    expect(result.ok).toBe(true);
    if (result.ok) result.socket.destroy();
    expect(p.connects.at(-1)?.headers['proxy-authorization']).toBe(`Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`);
    for (const message of [without.message, refused.message]) {
      expect(message).not.toContain(pass);
      expect(message).not.toContain(encodeURIComponent(pass));
    }
  });

  it('a password in a failing proxy URL never appears in the message', async () => {
    const port = await refusedPort();
    const f = failure((await dial(spec(`http://bob:hunter2-secret@127.0.0.1:${port}`, 'office'))).result);
    expect(f.reason).toBe('proxy_refused');
    expect(f.message).not.toContain('hunter2');
    expect(f.message).toContain('bob:***@');
  });

  it('a proxy echoing the password in its reason phrase is scrubbed', async () => {
    const garbled = await proxy({ mode: 'garbage', garbage: 'HTTP/1.1 418 hunter2-secret\r\n\r\n' });
    const url = new URL(garbled.url);
    url.username = 'bob';
    url.password = 'hunter2-secret';
    const f = failure((await dial({ name: 'echoing', url })).result);
    expect(f.reason).toBe('proxy_protocol_error');
    expect(f.message).not.toContain('hunter2');
  });

  it('https:// proxy: TLS to the proxy, then CONNECT inside it', async () => {
    const p = await proxy({ mode: 'tunnel', tls: { key: pki.ecdsa.key, cert: pki.ecdsa.chain } });
    const { result } = await dial(spec(p.url), 'echo.test', echoPort, 5000, { proxyCa: [pki.rootCa] });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    result.socket.write('over-tls');
    expect((await readSome(result.socket, 8)).data).toBe('over-tls');
    result.socket.destroy();

    const untrusted = failure((await dial(spec(p.url), 'echo.test', echoPort, 5000)).result);
    expect(untrusted.reason).toBe('proxy_protocol_error');
    expect(untrusted.message).toContain('TLS to the proxy');
  });

  it('rejects proxy schemes it does not speak', async () => {
    const f = failure((await dial(spec('socks5://127.0.0.1:1080'))).result);
    expect(f.reason).toBe('proxy_protocol_error');
  });

  it('leaves no socket behind on failure', async () => {
    const p = await proxy({ mode: 'status', status: 403 });
    for (let i = 0; i < 5; i++) failure((await dial(spec(p.url))).result);
    expect(await eventually(() => p.connections() === 0)).toBe(true);
  });
});
