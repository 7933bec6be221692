// `proxy: env`: which proxy the environment names for an https:// target, and whether
// NO_PROXY sends that target around it, as curl 7.88 does (Debian bookworm's curl; its
// lib/url.c and lib/noproxy.c). The table in no-proxy.test.ts runs that curl on every row.
//
// The proxy:
//   - https_proxy, then HTTPS_PROXY, then all_proxy, then ALL_PROXY: the first that is set
//     and not empty wins, even when its value is unusable. HTTP_PROXY/http_proxy are never
//     read: every probed target is https.
//   - The value is taken as it is: white space anywhere makes it unusable (curl: "Unsupported
//     proxy syntax"), so does anything else that is not a URL.
//   - No scheme means http://. An http:// proxy without a port is on port 1080, an https://
//     one on 443.
//   - socks4://, socks4a://, socks5:// and socks5h:// are SOCKS proxies, which curl uses and
//     the exporter does not speak; other schemes curl refuses. Either way, and for an unusable
//     value, `problem` says so (the exporter logs it at start-up) and the exporter probes
//     directly where curl would go through SOCKS or fail.
// NO_PROXY (checked first: a host it matches goes direct whatever the proxy variable holds):
//   - no_proxy, then NO_PROXY: the first that is set and not empty wins, even when it is
//     only white space.
//   - A value that is exactly `*` matches every host. Otherwise `*` is an ordinary entry,
//     so `*` among others, ` *` and `*.example.com` match no real host.
//   - Entries are separated by runs of commas, spaces and tabs (not newlines).
//   - A host name or an IPv6 host is compared as text, ignoring ASCII case: one trailing dot
//     is dropped from the host, one trailing and then one leading dot from the entry, and the
//     entry matches the host itself and every name that ends in `.` + entry. So
//     `example.com` and `.example.com` both match example.com and its subdomains, never
//     `notexample.com`; `dev` matches every .dev host.
//   - Ports are never compared: `host:port` or `[v6]:port` entries match nothing.
//   - An IPv4 host (a dotted quad) is matched only by entries `a.b.c.d` or `a.b.c.d/bits`,
//     where bits is read as C's atoi reads it (`/8x` is /8) and 0 (or none) means the address
//     itself: `0.0.0.0/0` matches only 0.0.0.0. Above 32, or a network that is not a dotted
//     quad, matches nothing. Nothing is trimmed off these entries.
//   - An IPv6 host is a name to curl 7.88: `::1` matches it, `::1/128`, `fd00::/8` and
//     `[::1]` never do. Hosts come as the config writes them (RFC 5952, e.g. 2001:db8::1),
//     which is also how curl writes a URL's IPv6 host.
//   - Names are never resolved to be compared with IP entries, and localhost has no
//     implicit bypass.
import type { ProxySpec } from './proxy.js';
import { CidrSet, isIPv4, normaliseIp } from '../../cidr.js';

/** A parsed NO_PROXY value. */
export interface NoProxy {
  /** The value was exactly `*`. */
  all: boolean;
  entries: readonly string[];
}

export interface EnvProxy {
  url: URL | null;
  noProxy: NoProxy;
  /** Why a proxy variable that is set gave no proxy (unsupported scheme, unparsable). */
  problem?: string;
}

const PROXY_VARS = ['https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'] as const;
const NO_PROXY_VARS = ['no_proxy', 'NO_PROXY'] as const;
const SOCKS_SCHEMES = new Set(['socks4', 'socks4a', 'socks5', 'socks5h']);
/** curl's CURL_DEFAULT_PROXY_PORT, for an http:// proxy without a port. */
const DEFAULT_HTTP_PROXY_PORT = '1080';

/** curl_getenv: a variable set to the empty string counts as unset. */
function firstSet(env: NodeJS.ProcessEnv, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return { name, value };
  }
  return undefined;
}

/** Parses a proxy URL as the environment gives it; no scheme means http://. Throws when curl would refuse it. */
export function parseProxyUrl(value: string): URL {
  // WHATWG URL parsing drops white space that curl refuses.
  if (/\s/.test(value)) throw new Error('white space in a proxy URL');
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  if (url.hostname === '') throw new Error('proxy URL has no host');
  if (url.protocol === 'http:' && url.port === '') url.port = DEFAULT_HTTP_PROXY_PORT;
  return url;
}

/** The proxy and NO_PROXY the environment gives for https:// targets. */
export function proxyFromEnv(env: NodeJS.ProcessEnv): EnvProxy {
  const noProxy = parseNoProxy(firstSet(env, NO_PROXY_VARS)?.value ?? '');
  const found = firstSet(env, PROXY_VARS);
  if (found === undefined) return { url: null, noProxy };
  // Never quote the value: it may hold a password.
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(found.value)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
    const socks = SOCKS_SCHEMES.has(scheme) ? ' (curl would use that SOCKS proxy)' : '';
    return { url: null, noProxy, problem: `${found.name} uses ${scheme}://, only http:// and https:// proxies are supported${socks}` };
  }
  try {
    return { url: parseProxyUrl(found.value), noProxy };
  } catch {
    return { url: null, noProxy, problem: `${found.name} is not a valid proxy URL` };
  }
}

/** Parses a NO_PROXY value: entries separated by runs of commas, spaces and tabs. */
export function parseNoProxy(value: string): NoProxy {
  return { all: value === '*', entries: value.split(/[ \t,]+/).filter((entry) => entry !== '') };
}

/** ASCII-only, as curl's strncasecompare. */
function lowerAscii(text: string): string {
  return text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** curl's `bits = atoi(after the slash)`, as the unsigned int it is stored in. */
function atoiBits(text: string): number {
  const m = /^[\t\n\v\f\r ]*([+-]?)(\d*)/.exec(text);
  const digits = m?.[2] ?? '';
  if (digits === '') return 0;
  // strtol saturates; the int that atoi returns is its low 32 bits.
  let n = BigInt(digits);
  if (m?.[1] === '-') n = -n;
  const max = 2n ** 63n - 1n;
  if (n > max) n = max;
  if (n < -max - 1n) n = -max - 1n;
  return Number(BigInt.asUintN(32, n));
}

/** Curl_cidr4_match of an IPv4 host against one entry. */
function ipv4EntryMatches(host: string, entry: string): boolean {
  if (entry.length >= 128) return false; // curl's buffer for the entry
  const slash = entry.indexOf('/');
  const network = slash < 0 ? entry : entry.slice(0, slash);
  const bits = slash < 0 ? 0 : atoiBits(entry.slice(slash + 1));
  if (bits > 32 || !isIPv4(network)) return false;
  return new CidrSet([`${network}/${bits === 0 ? 32 : bits}`]).contains(host);
}

function nameEntryMatches(name: string, raw: string): boolean {
  let entry = lowerAscii(raw);
  if (entry.endsWith('.')) entry = entry.slice(0, -1);
  if (entry.startsWith('.')) entry = entry.slice(1);
  if (entry.length === name.length) return entry === name;
  return entry.length < name.length && name[name.length - entry.length - 1] === '.' && name.endsWith(entry);
}

/**
 * True when the target host goes around the proxy under `noProxy`. The host is a target
 * host as the config writes it (a name, a dotted quad, or IPv6 without brackets).
 */
export function bypassesProxy(host: string, noProxy: NoProxy): boolean {
  if (host === '') return false;
  if (noProxy.all) return true;
  // A URL's brackets are not part of its host (curl drops them before this check).
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIPv4(bare)) return noProxy.entries.some((entry) => ipv4EntryMatches(bare, entry));
  let name = lowerAscii(normaliseIp(bare) ?? bare);
  if (name.endsWith('.')) name = name.slice(0, -1);
  return noProxy.entries.some((entry) => nameEntryMatches(name, entry));
}

/**
 * The proxy the environment gives for host:port, or null for a direct path (no proxy
 * variable, an unusable one, or a NO_PROXY match). `name` becomes ProxySpec.name. The port
 * takes no part: curl 7.88 compares no port with NO_PROXY.
 */
export function envProxyFor(host: string, env: NodeJS.ProcessEnv, name = 'proxy'): ProxySpec | null {
  const { url, noProxy } = proxyFromEnv(env);
  if (url === null || bypassesProxy(host, noProxy)) return null;
  return { name, url };
}
