// NO_PROXY and the proxy variables as a table, every row also run through the real curl
// (7.88 on Debian bookworm), which the exporter must agree with. Nothing leaves the
// machine: the proxies are loopback fixtures that record the CONNECTs they get (and answer
// 403), a SOCKS proxy is a loopback listener that records who came, and curl's direct path
// is sent to a loopback marker with --connect-to (names are pinned with --resolve too), so
// IP-literal targets such as 10.1.2.3 or fd12::1 are safe to run as well.
//
// `want` is what curl does. The exporter takes the same path, except where curl goes
// through a SOCKS proxy or refuses the proxy variable: there the exporter goes direct and
// proxyFromEnv reports a `problem` (logged at start-up).
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isIPv4, isIPv6 } from '../../cidr.js';
import { runCurl } from '../../../test/fixtures/curl.js';
import { startProxy } from '../../../test/fixtures/proxies.js';
import type { RunningProxy } from '../../../test/fixtures/proxies.js';
import { bypassesProxy, envProxyFor, parseNoProxy, parseProxyUrl, proxyFromEnv } from './no-proxy.js';

/** proxy2: a second http proxy, to tell which variable won. */
type Path = 'direct' | 'proxy' | 'proxy2' | 'socks' | 'fails';

interface Row {
  /** NO_PROXY value. */
  no?: string;
  /**
   * Environment besides HTTPS_PROXY={PROXY} and NO_PROXY (it may override them).
   * `{PROXY}`, `{PROXY2}` are http:// proxy URLs, `{PROXY_HOSTPORT}` the first one's
   * host:port, `{SOCKS}` a SOCKS proxy's host:port.
   */
  env?: Record<string, string>;
  /** The target host as the config gives it (curl gets it in an https:// URL, port 443). */
  host: string;
  want: Path;
  why: string;
}

const D: Path = 'direct';
const X: Path = 'proxy';

const TABLE: Row[] = [
  // Which proxy variable.
  { no: '', host: 'cgr.dev', want: X, why: 'empty NO_PROXY: everything through the proxy' },
  { env: { HTTPS_PROXY: '', https_proxy: '{PROXY}' }, host: 'cgr.dev', want: X, why: 'lower-case https_proxy is read' },
  { env: { https_proxy: '{PROXY2}' }, host: 'cgr.dev', want: 'proxy2', why: 'https_proxy wins over HTTPS_PROXY' },
  { env: { https_proxy: '' }, host: 'cgr.dev', want: X, why: 'an empty https_proxy counts as unset' },
  { env: { HTTPS_PROXY: '', ALL_PROXY: '{PROXY}' }, host: 'cgr.dev', want: X, why: 'ALL_PROXY when no HTTPS proxy is set' },
  { env: { HTTPS_PROXY: '', all_proxy: '{PROXY}', ALL_PROXY: '{PROXY2}' }, host: 'cgr.dev', want: X, why: 'all_proxy wins over ALL_PROXY' },
  { env: { ALL_PROXY: '{PROXY2}' }, host: 'cgr.dev', want: X, why: 'HTTPS_PROXY wins over ALL_PROXY' },
  { env: { HTTPS_PROXY: '', HTTP_PROXY: '{PROXY}', http_proxy: '{PROXY}' }, host: 'cgr.dev', want: D, why: 'HTTP_PROXY is never used for https' },
  { env: { HTTPS_PROXY: '{PROXY_HOSTPORT}' }, host: 'cgr.dev', want: X, why: 'a proxy without a scheme is http://' },
  { env: { HTTPS_PROXY: '', ALL_PROXY: 'socks5://{SOCKS}' }, host: 'cgr.dev', want: 'socks', why: 'ALL_PROXY naming a SOCKS proxy: curl uses it' },
  { env: { HTTPS_PROXY: 'socks5h://{SOCKS}' }, host: 'cgr.dev', want: 'socks', why: 'socks5h:// in HTTPS_PROXY' },
  { env: { https_proxy: 'socks4://{SOCKS}' }, host: 'cgr.dev', want: 'socks', why: 'socks4:// in https_proxy, over an http HTTPS_PROXY' },
  { env: { HTTPS_PROXY: 'ftp://127.0.0.1:9' }, host: 'cgr.dev', want: 'fails', why: 'an unsupported scheme: curl refuses' },
  { env: { https_proxy: ' {PROXY}' }, host: 'cgr.dev', want: 'fails', why: 'white space in the value: curl refuses, and does not fall back to HTTPS_PROXY' },
  { env: { HTTPS_PROXY: 'http://[oops' }, host: 'cgr.dev', want: 'fails', why: 'a value that is not a URL: curl refuses' },
  { env: { HTTPS_PROXY: 'ftp://127.0.0.1:9' }, no: 'cgr.dev', host: 'cgr.dev', want: D, why: 'NO_PROXY is checked before the proxy variable is read' },
  // Which NO_PROXY variable.
  { env: { no_proxy: 'cgr.dev' }, host: 'cgr.dev', want: D, why: 'lower-case no_proxy is read' },
  { env: { NO_PROXY: 'cgr.dev', no_proxy: 'example.com' }, host: 'cgr.dev', want: X, why: 'no_proxy wins over NO_PROXY' },
  { env: { NO_PROXY: 'cgr.dev', no_proxy: '' }, host: 'cgr.dev', want: D, why: 'an empty no_proxy counts as unset' },
  { env: { NO_PROXY: 'cgr.dev', no_proxy: ' ' }, host: 'cgr.dev', want: X, why: 'a blank no_proxy is set: it hides NO_PROXY' },
  // `*`.
  { no: '*', host: 'cgr.dev', want: D, why: '* alone: nothing through the proxy' },
  { no: '*', host: '127.0.0.1', want: D, why: '* alone covers IP literals too' },
  { no: 'example.com,*', host: 'cgr.dev', want: X, why: '* among other entries is an ordinary entry' },
  { no: ' *', host: 'cgr.dev', want: X, why: '* with white space is not *' },
  { no: '*.cgr.dev', host: 'apk.cgr.dev', want: X, why: '*.domain is compared literally: no real host matches it' },
  // Names.
  { no: 'cgr.dev', host: 'cgr.dev', want: D, why: 'exact name' },
  { no: 'cgr.dev', host: 'apk.cgr.dev', want: D, why: 'a name covers its subdomains' },
  { no: '.cgr.dev', host: 'cgr.dev', want: D, why: 'leading dot still covers the domain itself' },
  { no: '.cgr.dev', host: 'apk.cgr.dev', want: D, why: 'leading dot covers subdomains' },
  { no: '..cgr.dev', host: 'apk.cgr.dev', want: X, why: 'only one leading dot is dropped' },
  { no: 'dev', host: 'cgr.dev', want: D, why: 'a top-level domain covers every name in it' },
  { no: 'cgr.dev', host: 'notcgr.dev', want: X, why: 'suffix match only on a label boundary' },
  { no: 'apk.cgr.dev', host: 'cgr.dev', want: X, why: 'a subdomain entry does not cover its parent' },
  { no: 'CGR.Dev', host: 'cgr.dev', want: D, why: 'case-insensitive entry' },
  { no: 'cgr.dev', host: 'CGR.DEV', want: D, why: 'case-insensitive host' },
  { no: 'cgr.dev.', host: 'cgr.dev', want: D, why: 'trailing dot of the entry ignored' },
  { no: 'cgr.dev..', host: 'cgr.dev', want: X, why: 'only one trailing dot of the entry is dropped' },
  { no: 'cgr.dev', host: 'cgr.dev.', want: D, why: 'trailing dot of the host ignored' },
  { no: 'localhost', host: 'localhost', want: D, why: 'localhost when listed' },
  { no: '', host: 'localhost', want: X, why: 'no implicit localhost bypass' },
  // Separators and white space.
  { no: 'example.com,cgr.dev', host: 'cgr.dev', want: D, why: 'comma-separated list' },
  { no: ' example.com , cgr.dev ', host: 'cgr.dev', want: D, why: 'spaces around entries' },
  { no: 'example.com cgr.dev', host: 'cgr.dev', want: D, why: 'space-separated list' },
  { no: 'example.com\tcgr.dev', host: 'cgr.dev', want: D, why: 'tab-separated list' },
  { no: ',,cgr.dev,', host: 'cgr.dev', want: D, why: 'empty entries are skipped' },
  { no: 'example.com\ncgr.dev', host: 'cgr.dev', want: X, why: 'a newline is not a separator' },
  { no: 'example.com;cgr.dev', host: 'cgr.dev', want: X, why: 'a semicolon is not a separator' },
  // Ports.
  { no: 'cgr.dev:443', host: 'cgr.dev', want: X, why: 'host:port never matches, even on that port' },
  { no: 'cgr.dev:8443', host: 'cgr.dev', want: X, why: 'host:port does not match another port' },
  { no: 'cgr.dev:notaport', host: 'cgr.dev', want: X, why: 'malformed entry matches nothing' },
  { no: '127.0.0.1:443', host: '127.0.0.1', want: X, why: 'ip:port never matches' },
  { no: '[::1]:443', host: '::1', want: X, why: '[v6]:port never matches' },
  // IPv4.
  { no: '127.0.0.1', host: '127.0.0.1', want: D, why: 'IPv4 literal' },
  { no: '127.0.0.0/8', host: '127.0.0.1', want: D, why: 'IPv4 CIDR' },
  { no: '10.0.0.0/8', host: '127.0.0.1', want: X, why: 'IPv4 CIDR not containing the address' },
  { no: '10.0.0.0/8', host: '10.1.2.3', want: D, why: 'IPv4 CIDR containing the address' },
  { no: '10.1.2.3/8', host: '10.200.0.1', want: D, why: 'host bits in a CIDR entry are ignored' },
  { no: '10.1.2.3/31', host: '10.1.2.2', want: D, why: 'a /31' },
  { no: '10.1.2.3/31', host: '10.1.2.4', want: X, why: 'outside a /31' },
  { no: '10.0.0.0/33', host: '10.1.2.3', want: X, why: 'a prefix above 32 matches nothing' },
  { no: '10.0.0.0/-1', host: '10.1.2.3', want: X, why: 'a negative prefix matches nothing' },
  { no: '10.0.0.0/0', host: '10.1.2.3', want: X, why: '/0 means the address itself' },
  { no: '0.0.0.0/0', host: '10.1.2.3', want: X, why: '0.0.0.0/0 matches only 0.0.0.0' },
  { no: '10.1.2.3/0', host: '10.1.2.3', want: D, why: '/0 means the address itself' },
  { no: '10.1.2.3/x', host: '10.1.2.3', want: D, why: 'a prefix that is not a number reads as 0' },
  { no: '10.0.0.0/8x', host: '10.1.2.3', want: D, why: 'the prefix is read as atoi reads it' },
  { no: '10.0.0.0/08', host: '10.1.2.3', want: D, why: 'a leading zero in the prefix is fine' },
  { no: '10.1.2.3.', host: '10.1.2.3', want: X, why: 'nothing is trimmed off an entry compared with an IPv4 host' },
  { no: '010.1.2.3', host: '10.1.2.3', want: X, why: 'an entry with a leading zero is not an address' },
  { no: '10.0.0.0/8', host: 'ten.example', want: X, why: 'CIDR entries never match names' },
  { no: '127.0.0.1', host: 'localhost', want: X, why: 'names are not resolved to be compared with IP entries' },
  { no: 'localhost', host: '127.0.0.1', want: X, why: 'a name entry never matches an IP literal' },
  // IPv6: a name to curl 7.88.
  { no: '::1', host: '::1', want: D, why: 'IPv6 literal' },
  { no: '::1/128', host: '::1', want: X, why: 'an IPv6 CIDR never matches' },
  { no: 'fd00::/8', host: 'fd12::1', want: X, why: 'an IPv6 CIDR never matches' },
  { no: '2001:DB8::/32', host: '2001:db8::1', want: X, why: 'an IPv6 CIDR never matches' },
  { no: '[::1]', host: '::1', want: X, why: 'brackets in the entry never match' },
  { no: '2001:DB8::1', host: '2001:db8::1', want: D, why: 'IPv6 compared ignoring case' },
  { no: '2001:db8::1', host: '[2001:db8:0::1]', want: D, why: 'an IPv6 host is compared in its short form' },
  { no: '::ffff:127.0.0.1', host: '::ffff:7f00:1', want: X, why: 'IPv6 compared as text: a mapped address written another way does not match' },
  { no: '127.0.0.1', host: '::ffff:7f00:1', want: X, why: 'an IPv4 entry never matches a mapped IPv6 host' },
  { no: '::/0', host: '192.0.2.1', want: X, why: 'an IPv6 block never matches an IPv4 address' },
];

describe('NO_PROXY parsing', () => {
  it('splits entries on runs of commas, spaces and tabs, and takes * only alone', () => {
    expect(parseNoProxy(' *.Example.COM., .b.org  c.net:8443,[::1]:443, 10.0.0.0/8 ,::1,1.2.3.4:80,,bad/99,x:y\ty\nz')).toEqual({
      all: false,
      entries: ['*.Example.COM.', '.b.org', 'c.net:8443', '[::1]:443', '10.0.0.0/8', '::1', '1.2.3.4:80', 'bad/99', 'x:y', 'y\nz'],
    });
    expect(parseNoProxy('*').all).toBe(true);
    expect(parseNoProxy('a.com,*').all).toBe(false);
    expect(bypassesProxy('anything', parseNoProxy(''))).toBe(false);
    expect(bypassesProxy('', parseNoProxy('*'))).toBe(false);
  });

  it('reads the proxy: https_proxy before HTTPS_PROXY, then ALL_PROXY; no scheme means http://, other schemes are refused', () => {
    expect(proxyFromEnv({ HTTPS_PROXY: 'http://a:3128', https_proxy: 'http://b:3128' }).url?.host).toBe('b:3128');
    expect(proxyFromEnv({ HTTPS_PROXY: '  ', https_proxy: 'http://b:3128' }).url?.host).toBe('b:3128');
    expect(proxyFromEnv({ HTTPS_PROXY: '  ' }).problem).toBe('HTTPS_PROXY is not a valid proxy URL');
    expect(proxyFromEnv({ HTTPS_PROXY: 'proxy.corp:3128' }).url?.href).toBe('http://proxy.corp:3128/');
    expect(proxyFromEnv({ HTTPS_PROXY: 'user:p%40ss@proxy.corp:3128' }).url?.password).toBe('p%40ss');
    expect(proxyFromEnv({ HTTPS_PROXY: 'https://proxy.corp' }).url?.protocol).toBe('https:');
    const socks = proxyFromEnv({ HTTPS_PROXY: 'socks5://user:hunter2@proxy:1080' });
    expect(socks.url).toBeNull();
    expect(socks.problem).toContain('socks5:');
    expect(socks.problem).not.toContain('hunter2');
    expect(proxyFromEnv({ ALL_PROXY: 'socks5h://proxy:1080' }).problem).toBe('ALL_PROXY uses socks5h://, only http:// and https:// proxies are supported (curl would use that SOCKS proxy)');
    expect(proxyFromEnv({ HTTPS_PROXY: 'http://[oops' }).problem).toBe('HTTPS_PROXY is not a valid proxy URL');
    expect(proxyFromEnv({ HTTP_PROXY: 'http://a:3128', ALL_PROXY: 'http://a:3128' }).url?.host).toBe('a:3128');
    expect(proxyFromEnv({ HTTP_PROXY: 'http://a:3128' }).url).toBeNull();
    expect(parseProxyUrl('[::1]:3128').hostname).toBe('[::1]');
  });

  it('puts an http:// proxy without a port on 1080 and an https:// one on 443, as curl does', () => {
    expect(parseProxyUrl('http://proxy.corp').port).toBe('1080');
    expect(parseProxyUrl('proxy.corp').port).toBe('1080');
    expect(parseProxyUrl('https://proxy.corp').port).toBe('');
    expect(parseProxyUrl('https://proxy.corp').href).toBe('https://proxy.corp/');
  });

  it('envProxyFor names the proxy and returns null for a direct path', () => {
    const env = { HTTPS_PROXY: 'http://proxy.corp:3128', NO_PROXY: '.internal' };
    expect(envProxyFor('cgr.dev', env)).toEqual({ name: 'proxy', url: new URL('http://proxy.corp:3128') });
    expect(envProxyFor('cgr.dev', env, 'env')?.name).toBe('env');
    expect(envProxyFor('git.internal', env)).toBeNull();
    expect(envProxyFor('cgr.dev', {})).toBeNull();
  });
});

describe('NO_PROXY table', () => {
  interface Places {
    PROXY: string;
    PROXY2: string;
    PROXY_HOSTPORT: string;
    SOCKS: string;
  }
  const FAKE: Places = { PROXY: 'http://proxy.test:3128', PROXY2: 'http://proxy2.test:3128', PROXY_HOSTPORT: 'proxy.test:3128', SOCKS: 'socks.test:1080' };

  function expand(text: string, places: Places): string {
    return text.replace(/\{(PROXY|PROXY2|PROXY_HOSTPORT|SOCKS)\}/g, (_all, key: keyof Places) => places[key]);
  }

  function envOf(row: Row, places: Places): Record<string, string> {
    const env: Record<string, string> = { HTTPS_PROXY: places.PROXY };
    if (row.no !== undefined) env.NO_PROXY = row.no;
    for (const [k, v] of Object.entries(row.env ?? {})) env[k] = expand(v, places);
    return env;
  }

  /** The path the exporter takes, and whether it reports a problem with the environment. */
  function exporterPath(row: Row, places: Places): { path: Path | 'other'; problem: boolean } {
    const env = envOf(row, places);
    const spec = envProxyFor(row.host, env);
    const problem = proxyFromEnv(env).problem !== undefined;
    if (spec === null) return { path: 'direct', problem };
    if (spec.url.href === new URL(places.PROXY).href) return { path: 'proxy', problem };
    if (spec.url.href === new URL(places.PROXY2).href) return { path: 'proxy2', problem };
    return { path: 'other', problem };
  }

  /** What the exporter must do on a row: curl's path, or direct with a problem where it cannot follow curl. */
  function exporterWant(row: Row): { path: Path; problem?: boolean } {
    if (row.want === 'socks' || row.want === 'fails') return { path: 'direct', problem: true };
    if (row.want === 'direct') return { path: 'direct' };
    return { path: row.want, problem: false };
  }

  function check(row: Row, places: Places): string | undefined {
    const got = exporterPath(row, places);
    const want = exporterWant(row);
    if (got.path !== want.path || (want.problem !== undefined && got.problem !== want.problem)) {
      return `exporter went ${got.path}${got.problem ? ' with a problem' : ''}, want ${want.path}${want.problem === true ? ' with a problem' : ''}`;
    }
    return undefined;
  }

  it('has a row for every rule, most of them on loopback-only paths', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(60);
  });

  it.each(TABLE.map((row) => [`${row.no ?? ''} ${JSON.stringify(row.env ?? {})} | ${row.host} -> ${row.want}: ${row.why}`, row] as const))('%s', (_name, row) => {
    expect(check(row, FAKE)).toBeUndefined();
  });

  describe('curl 7.88 on every row', () => {
    const proxies: RunningProxy[] = [];
    const listeners: NetServer[] = [];
    const hits = { direct: 0, socks: 0 };
    let places: Places;
    let directPort = 0;

    /** A loopback listener that counts who connects, then hangs up on them. */
    async function counter(kind: keyof typeof hits): Promise<number> {
      const server = createNetServer((s) => {
        hits[kind]++;
        s.on('error', () => {});
        s.destroy();
      });
      listeners.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      return (server.address() as AddressInfo).port;
    }

    beforeAll(async () => {
      proxies.push(await startProxy({ mode: 'status', status: 403 }), await startProxy({ mode: 'status', status: 403 }));
      const [proxy, proxy2] = proxies as [RunningProxy, RunningProxy];
      directPort = await counter('direct');
      const socksPort = await counter('socks');
      places = { PROXY: proxy.url, PROXY2: proxy2.url, PROXY_HOSTPORT: `127.0.0.1:${proxy.port}`, SOCKS: `127.0.0.1:${socksPort}` };
    });

    afterAll(async () => {
      await Promise.all(proxies.map((p) => p.close()));
      await Promise.all(listeners.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    });

    it('curl takes the path the table says, and so does the exporter', async () => {
      const [proxy, proxy2] = proxies as [RunningProxy, RunningProxy];
      const mismatches: string[] = [];
      for (const row of TABLE) {
        const bare = row.host.replace(/^\[(.*)\]$/, '$1');
        const urlHost = isIPv6(bare) ? `[${bare}]` : row.host;
        // Every direct connection goes to the loopback counter, whatever the host; a name is
        // also pinned there, so curl never asks a resolver about it.
        const args = ['-s', '-o', '/dev/null', '--connect-timeout', '3', '--max-time', '5', '-w', '%{remote_ip}', '--connect-to', `::127.0.0.1:${directPort}`];
        if (!isIPv4(bare) && !isIPv6(bare)) args.push('--resolve', `${row.host}:443:127.0.0.1`, '--resolve', `${row.host.toLowerCase()}:443:127.0.0.1`);
        args.push(`https://${urlHost}:443/`);
        const before = { proxy: proxy.connects.length, proxy2: proxy2.connects.length, ...hits };
        const run = await runCurl(args, envOf(row, places));
        const seen: Path[] = [];
        if (proxy.connects.length > before.proxy) seen.push('proxy');
        if (proxy2.connects.length > before.proxy2) seen.push('proxy2');
        if (hits.socks > before.socks) seen.push('socks');
        if (hits.direct > before.direct) seen.push('direct');
        const path = seen.length === 0 ? 'fails' : seen.join('+');
        if (path !== row.want) mismatches.push(`${row.why}: curl went ${path}, table says ${row.want}\n  ${run.command} (exit ${run.code}) ${run.stderr}`);
        if (!/^(127\.0\.0\.1)?$/.test(run.stdout)) mismatches.push(`${row.why}: curl connected to ${run.stdout}, not loopback`);
        const ours = check(row, places);
        if (ours !== undefined) mismatches.push(`${row.why}: ${ours}`);
      }
      expect(mismatches).toEqual([]);
    });
  });
});
