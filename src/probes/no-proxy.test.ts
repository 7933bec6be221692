// NO_PROXY semantics as a table, each row also run through the real curl where that
// is safe: curl gets HTTPS_PROXY pointing at a loopback proxy that records CONNECTs,
// and every name it could reach directly is pinned to 127.0.0.1 with --resolve, so a
// direct path lands on a loopback marker server started here. Rows whose direct path
// would leave loopback (10.x, fd00::...) are checked against the exporter only.
//
// Where the exporter deliberately differs from curl 7.88 the row says so (`curl`
// column): `*` among other entries, `*.domain`, `host:port` entries, IPv6 CIDR on an
// IPv6 URL host, NO_PROXY vs no_proxy precedence, ALL_PROXY; the exporter's choice is
// documented in no-proxy.ts.
import { createServer as createNetServer, isIP } from 'node:net';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCurl } from '../../test/fixtures/curl.js';
import { startProxy } from '../../test/fixtures/proxies.js';
import type { RunningProxy } from '../../test/fixtures/proxies.js';
import { bypassesProxy, envProxyFor, parseNoProxy, parseProxyUrl, proxyFromEnv } from './no-proxy.js';

type Path = 'direct' | 'proxy';

interface Row {
  /** NO_PROXY value; `{P}`, `{Q}`, `{P6}` are replaced by the marker ports. */
  no?: string;
  /** Other environment instead of / besides NO_PROXY (placeholders too; `{PROXY}` = the proxy URL). */
  env?: Record<string, string>;
  host: string;
  port: 'P' | 'Q' | 'P6' | number;
  ours: Path;
  /** What curl 7.88 does; null when curl cannot be run safely (the direct path leaves loopback). */
  curl: Path | null;
  why: string;
}

const D: Path = 'direct';
const X: Path = 'proxy';

const TABLE: Row[] = [
  { no: '', host: 'cgr.dev', port: 'P', ours: X, curl: X, why: 'empty NO_PROXY: everything through the proxy' },
  { no: '*', host: 'cgr.dev', port: 'P', ours: D, curl: D, why: '* alone: nothing through the proxy' },
  { no: 'cgr.dev', host: 'cgr.dev', port: 'P', ours: D, curl: D, why: 'exact name' },
  { no: 'cgr.dev', host: 'apk.cgr.dev', port: 'P', ours: D, curl: D, why: 'a name covers its subdomains' },
  { no: '.cgr.dev', host: 'cgr.dev', port: 'P', ours: D, curl: D, why: 'leading dot still covers the domain itself (Go would proxy)' },
  { no: '.cgr.dev', host: 'apk.cgr.dev', port: 'P', ours: D, curl: D, why: 'leading dot covers subdomains' },
  { no: 'cgr.dev', host: 'notcgr.dev', port: 'P', ours: X, curl: X, why: 'suffix match only on a label boundary' },
  { no: 'apk.cgr.dev', host: 'cgr.dev', port: 'P', ours: X, curl: X, why: 'a subdomain entry does not cover its parent' },
  { no: 'CGR.Dev', host: 'cgr.dev', port: 'P', ours: D, curl: D, why: 'case-insensitive entry' },
  { no: 'cgr.dev', host: 'CGR.DEV', port: 'P', ours: D, curl: D, why: 'case-insensitive host' },
  { no: 'cgr.dev.', host: 'cgr.dev', port: 'P', ours: D, curl: D, why: 'trailing dot of the entry ignored' },
  { no: 'cgr.dev', host: 'cgr.dev.', port: 'P', ours: D, curl: null, why: 'trailing dot of the host ignored (curl not run: it might resolve cgr.dev. itself)' },
  { no: 'example.com,cgr.dev', host: 'cgr.dev', port: 'P', ours: D, curl: D, why: 'comma-separated list' },
  { no: ' example.com , cgr.dev ', host: 'cgr.dev', port: 'P', ours: D, curl: D, why: 'spaces around entries' },
  { no: 'example.com cgr.dev', host: 'cgr.dev', port: 'P', ours: D, curl: D, why: 'space-separated list' },
  { no: 'example.com,*', host: 'cgr.dev', port: 'P', ours: D, curl: X, why: '* among other entries (curl honours only a NO_PROXY that is exactly *)' },
  { no: '*.cgr.dev', host: 'apk.cgr.dev', port: 'P', ours: D, curl: X, why: '*.domain taken as .domain (Go); curl compares it literally' },
  { no: 'cgr.dev:{P}', host: 'cgr.dev', port: 'P', ours: D, curl: X, why: 'host:port matches that port (Go); curl 7.88 never matches such an entry' },
  { no: 'cgr.dev:{Q}', host: 'cgr.dev', port: 'P', ours: X, curl: X, why: 'host:port does not match another port' },
  { no: 'cgr.dev:notaport', host: 'cgr.dev', port: 'P', ours: X, curl: X, why: 'malformed entry ignored' },
  { no: '127.0.0.1', host: '127.0.0.1', port: 'P', ours: D, curl: D, why: 'IPv4 literal' },
  { no: '127.0.0.0/8', host: '127.0.0.1', port: 'P', ours: D, curl: D, why: 'IPv4 CIDR' },
  { no: '10.0.0.0/8', host: '127.0.0.1', port: 'P', ours: X, curl: X, why: 'IPv4 CIDR not containing the address' },
  { no: '127.0.0.1:{P}', host: '127.0.0.1', port: 'P', ours: D, curl: X, why: 'ip:port matches that port (Go); curl 7.88 does not' },
  { no: '::1', host: '::1', port: 'P6', ours: D, curl: D, why: 'IPv6 literal' },
  { no: '::1/128', host: '::1', port: 'P6', ours: D, curl: X, why: 'IPv6 CIDR (curl 7.88 does not apply it to the URL host [::1], though it matches the bare ::1)' },
  { no: '[::1]:{P6}', host: '::1', port: 'P6', ours: D, curl: X, why: '[v6]:port matches that port (Go); curl 7.88 does not' },
  { no: '127.0.0.1', host: 'localhost', port: 'P', ours: X, curl: X, why: 'names are not resolved to be compared with IP entries' },
  { no: 'localhost', host: '127.0.0.1', port: 'P', ours: X, curl: X, why: 'a name entry never matches an IP literal' },
  { no: 'localhost', host: 'localhost', port: 'P', ours: D, curl: D, why: 'localhost only when listed (Go always bypasses it)' },
  { no: '', host: 'localhost', port: 'P', ours: X, curl: X, why: 'no implicit localhost bypass' },
  { env: { no_proxy: 'cgr.dev' }, host: 'cgr.dev', port: 'P', ours: D, curl: D, why: 'lower-case no_proxy is read' },
  { env: { NO_PROXY: 'cgr.dev', no_proxy: 'example.com' }, host: 'cgr.dev', port: 'P', ours: D, curl: X, why: 'NO_PROXY wins over no_proxy (Go order; curl reads no_proxy first)' },
  { env: { HTTPS_PROXY: '', https_proxy: '{PROXY}' }, host: 'cgr.dev', port: 'P', ours: X, curl: X, why: 'lower-case https_proxy is read' },
  { env: { HTTPS_PROXY: '', ALL_PROXY: '{PROXY}' }, host: 'cgr.dev', port: 'P', ours: D, curl: X, why: 'ALL_PROXY is ignored (it usually names socks5://); curl uses it' },
  // Rows the real curl must not run: their direct path would leave loopback.
  { no: '10.0.0.0/8', host: '10.1.2.3', port: 443, ours: D, curl: null, why: 'IPv4 CIDR containing the address' },
  { no: '10.1.2.3/8', host: '10.200.0.1', port: 443, ours: D, curl: null, why: 'host bits in a CIDR entry are ignored' },
  { no: '10.0.0.0/33', host: '10.1.2.3', port: 443, ours: X, curl: null, why: 'bad prefix length: entry ignored' },
  { no: 'fd00::/8', host: 'fd12::1', port: 443, ours: D, curl: null, why: 'IPv6 CIDR' },
  { no: '2001:DB8::/32', host: '[2001:db8::1]', port: 443, ours: D, curl: null, why: 'IPv6 case and brackets' },
  { no: '::/0', host: '192.0.2.1', port: 443, ours: X, curl: null, why: 'an IPv6 block never matches an IPv4 address' },
  { no: '10.0.0.0/8', host: 'ten.example', port: 443, ours: X, curl: null, why: 'CIDR entries never match names' },
];

describe('NO_PROXY parsing', () => {
  it('turns entries into rules', () => {
    expect(parseNoProxy(' *.Example.COM., .b.org  c.net:8443,[::1]:443, 10.0.0.0/8 ,::1,1.2.3.4:80,,bad/99,x:y')).toEqual([
      { kind: 'domain', domain: 'example.com' },
      { kind: 'domain', domain: 'b.org' },
      { kind: 'domain', domain: 'c.net', port: 8443 },
      { kind: 'cidr', family: 6, network: '::1', prefix: 128, port: 443 },
      { kind: 'cidr', family: 4, network: '10.0.0.0', prefix: 8 },
      { kind: 'cidr', family: 6, network: '::1', prefix: 128 },
      { kind: 'cidr', family: 4, network: '1.2.3.4', prefix: 32, port: 80 },
    ]);
    expect(parseNoProxy('a.com,*')).toContainEqual({ kind: 'all' });
    expect(bypassesProxy('anything', 1, [])).toBe(false);
  });

  it('reads the proxy: HTTPS_PROXY before https_proxy, no scheme means http://, other schemes are refused', () => {
    expect(proxyFromEnv({ HTTPS_PROXY: 'http://a:3128', https_proxy: 'http://b:3128' }).url?.host).toBe('a:3128');
    expect(proxyFromEnv({ HTTPS_PROXY: '  ', https_proxy: 'http://b:3128' }).url?.host).toBe('b:3128');
    expect(proxyFromEnv({ HTTPS_PROXY: 'proxy.corp:3128' }).url?.href).toBe('http://proxy.corp:3128/');
    expect(proxyFromEnv({ HTTPS_PROXY: 'user:p%40ss@proxy.corp:3128' }).url?.password).toBe('p%40ss');
    expect(proxyFromEnv({ HTTPS_PROXY: 'https://proxy.corp' }).url?.protocol).toBe('https:');
    const socks = proxyFromEnv({ HTTPS_PROXY: 'socks5://user:hunter2@proxy:1080' });
    expect(socks.url).toBeNull();
    expect(socks.problem).toContain('socks5:');
    expect(socks.problem).not.toContain('hunter2');
    expect(proxyFromEnv({ HTTPS_PROXY: 'http://[oops' }).problem).toBe('HTTPS_PROXY is not a valid proxy URL');
    expect(proxyFromEnv({ HTTP_PROXY: 'http://a:3128', ALL_PROXY: 'http://a:3128' }).url).toBeNull();
    expect(parseProxyUrl('[::1]:3128').hostname).toBe('[::1]');
  });

  it('envProxyFor names the proxy and returns null for a direct path', () => {
    const env = { HTTPS_PROXY: 'http://proxy.corp:3128', NO_PROXY: '.internal' };
    expect(envProxyFor('cgr.dev', 443, env)).toEqual({ name: 'proxy', url: new URL('http://proxy.corp:3128') });
    expect(envProxyFor('cgr.dev', 443, env, 'env')?.name).toBe('env');
    expect(envProxyFor('git.internal', 443, env)).toBeNull();
    expect(envProxyFor('cgr.dev', 443, {})).toBeNull();
  });
});

describe('NO_PROXY table', () => {
  const PROXY_URL = 'http://proxy.test:3128';
  const ports = { P: 40001, Q: 40002, P6: 40003 };

  function expand(text: string, proxyUrl: string, p: typeof ports): string {
    return text.replaceAll('{P}', String(p.P)).replaceAll('{Q}', String(p.Q)).replaceAll('{P6}', String(p.P6)).replaceAll('{PROXY}', proxyUrl);
  }

  function envOf(row: Row, proxyUrl: string, p: typeof ports): Record<string, string> {
    const env: Record<string, string> = { HTTPS_PROXY: proxyUrl };
    if (row.no !== undefined) env.NO_PROXY = expand(row.no, proxyUrl, p);
    for (const [k, v] of Object.entries(row.env ?? {})) env[k] = expand(v, proxyUrl, p);
    return env;
  }

  function portOf(row: Row, p: typeof ports): number {
    return typeof row.port === 'number' ? row.port : p[row.port];
  }

  it('has at least 20 rows', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(20);
    expect(TABLE.filter((r) => r.curl !== null).length).toBeGreaterThanOrEqual(20);
  });

  it.each(TABLE.map((row) => [`${row.no ?? JSON.stringify(row.env)} | ${row.host} -> ${row.ours}: ${row.why}`, row] as const))('%s', (_name, row) => {
    const env = envOf(row, PROXY_URL, ports);
    const got: Path = envProxyFor(row.host, portOf(row, ports), env) === null ? 'direct' : 'proxy';
    expect(got).toBe(row.ours);
  });

  describe('curl 7.88 on the same rows', () => {
    let proxy: RunningProxy;
    const markers: { server: NetServer; hits: number }[] = [];
    const real = { P: 0, Q: 0, P6: 0 };

    async function marker(host: string): Promise<{ port: number; hits: () => number }> {
      const m = { server: createNetServer((s) => {
        m.hits++;
        s.on('error', () => {});
        s.destroy();
      }), hits: 0 };
      markers.push(m);
      await new Promise<void>((resolve, reject) => {
        m.server.once('error', reject);
        m.server.listen(0, host, resolve);
      });
      return { port: (m.server.address() as AddressInfo).port, hits: () => m.hits };
    }

    beforeAll(async () => {
      proxy = await startProxy({ mode: 'status', status: 403 });
      real.P = (await marker('127.0.0.1')).port;
      real.Q = (await marker('127.0.0.1')).port;
      real.P6 = (await marker('::1')).port;
    });

    afterAll(async () => {
      await proxy.close();
      await Promise.all(markers.map((m) => new Promise<void>((resolve) => m.server.close(() => resolve()))));
    });

    it('curl takes the path the curl column says, on every row it can run safely', async () => {
      const mismatches: string[] = [];
      for (const row of TABLE) {
        if (row.curl === null) continue;
        const host = row.host;
        const port = portOf(row, real);
        // Every path curl could take directly is pinned to a loopback marker started here.
        const literal = isIP(host) !== 0;
        if (typeof row.port === 'number') throw new Error(`row ${row.why}: curl rows must use the marker ports`);
        if (literal && host !== '127.0.0.1' && host !== '::1') throw new Error(`row ${row.why}: refusing to run curl on a row that could leave loopback`);
        const urlHost = host === '::1' ? '[::1]' : host;
        const args = ['-s', '-o', '/dev/null', '--connect-timeout', '3', '--max-time', '5', '-w', '%{http_connect}'];
        if (!literal) args.push('--resolve', `${host}:${port}:127.0.0.1`, '--resolve', `${host.toLowerCase()}:${port}:127.0.0.1`);
        args.push(`https://${urlHost}:${port}/`);
        const hitsBefore = markers.reduce((n, m) => n + m.hits, 0);
        const connectsBefore = proxy.connects.length;
        const run = await runCurl(args, envOf(row, proxy.url, real));
        const viaProxy = proxy.connects.length > connectsBefore;
        const direct = markers.reduce((n, m) => n + m.hits, 0) > hitsBefore;
        const path: Path | 'neither' | 'both' = viaProxy && direct ? 'both' : viaProxy ? 'proxy' : direct ? 'direct' : 'neither';
        if (path !== row.curl) mismatches.push(`${row.why}: curl went ${path}, table says ${row.curl}\n  ${run.command} (exit ${run.code}) ${run.stderr}`);
        // And the exporter, with the real ports, agrees with its own column.
        const ours: Path = envProxyFor(host, port, envOf(row, proxy.url, real)) === null ? 'direct' : 'proxy';
        if (ours !== row.ours) mismatches.push(`${row.why}: exporter went ${ours}, table says ${row.ours}`);
      }
      expect(mismatches).toEqual([]);
    });
  });
});
