// `proxy: env`: which proxy the environment names for an https:// target, and whether
// NO_PROXY sends that target around it.
//
// Decisions (curl 7.88 and Go's x/net/http/httpproxy disagree on several points; the
// table in no-proxy.test.ts runs the real curl on every row it safely can):
//   - Proxy variable: HTTPS_PROXY, then https_proxy (Go's order; curl reads the lower
//     case one first). The first non-empty one wins. ALL_PROXY/all_proxy are ignored
//     (Go's choice): they usually name a socks5:// proxy, which the exporter does not
//     speak. HTTP_PROXY is never used: every probed target is https.
//   - A proxy value without a scheme (`proxy:3128`) is http://. Schemes other than
//     http:// and https:// give no proxy and a `problem`, which the caller should report
//     at start-up (envProxyFor alone would silently go direct).
//   - NO_PROXY, then no_proxy (first non-empty wins). Entries are separated by commas
//     and/or white space, compared case-insensitively, trailing dots ignored.
//   - `*` as any entry matches every host (curl only honours a NO_PROXY that is exactly
//     `*`).
//   - `example.com`, `.example.com` and `*.example.com` all match example.com and every
//     subdomain, never `notexample.com` (curl; Go's leading dot excludes the domain itself).
//   - `host:port`, `[v6]:port`, `1.2.3.4:port` match that port only (Go; curl 7.88
//     never matches such an entry, so it proxies).
//   - IP literals and CIDR blocks (`10.0.0.0/8`, `::1`, `fd00::/8`) match IP-literal
//     targets of the same family; a name is never resolved to be compared with them,
//     and a domain entry never matches an IP literal (both as curl and Go).
//   - No implicit bypass of localhost or loopback addresses (curl; Go always bypasses them).
//   - Malformed entries (bad CIDR prefix, non-numeric port) are ignored.
import { BlockList, isIP } from 'node:net';
import type { ProxySpec } from './proxy.js';

export type NoProxyRule =
  | { kind: 'all' }
  /** `domain` is lower case, without leading or trailing dot. */
  | { kind: 'domain'; domain: string; port?: number }
  | { kind: 'cidr'; family: 4 | 6; network: string; prefix: number; port?: number };

export interface EnvProxy {
  url: URL | null;
  noProxy: NoProxyRule[];
  /** Why a proxy variable that is set gave no proxy (unsupported scheme, unparsable). */
  problem?: string;
}

const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy'] as const;
const NO_PROXY_VARS = ['NO_PROXY', 'no_proxy'] as const;

function firstNonEmpty(env: NodeJS.ProcessEnv, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value !== undefined && value !== '') return { name, value };
  }
  return undefined;
}

/** Parses a proxy URL as the environment gives it; no scheme means http://. */
export function parseProxyUrl(value: string): URL {
  const text = value.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  const url = new URL(withScheme);
  if (url.hostname === '') throw new Error('proxy URL has no host');
  return url;
}

/** The proxy and NO_PROXY rules the environment gives for https:// targets. */
export function proxyFromEnv(env: NodeJS.ProcessEnv): EnvProxy {
  const noProxy = parseNoProxy(firstNonEmpty(env, NO_PROXY_VARS)?.value ?? '');
  const found = firstNonEmpty(env, PROXY_VARS);
  if (found === undefined) return { url: null, noProxy };
  let url: URL;
  try {
    url = parseProxyUrl(found.value);
  } catch {
    // Never quote the value: it may hold a password.
    return { url: null, noProxy, problem: `${found.name} is not a valid proxy URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { url: null, noProxy, problem: `${found.name} uses ${url.protocol}//, only http:// and https:// proxies are supported` };
  }
  return { url, noProxy };
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

function trimDots(text: string): string {
  return text.replace(/\.+$/, '');
}

/** One NO_PROXY entry; undefined when it is empty or malformed. */
function parseEntry(raw: string): NoProxyRule | undefined {
  let entry = raw.trim().toLowerCase();
  if (entry === '') return undefined;
  if (entry === '*') return { kind: 'all' };
  let port: number | undefined;
  // [v6] or [v6]:port
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0) return undefined;
    const after = entry.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return cidrOrUndefined(entry.slice(1, close) + after, undefined);
      port = parsePort(after.slice(1));
      if (port === undefined) return undefined;
    }
    entry = entry.slice(1, close);
    return cidrOrUndefined(entry, port);
  }
  if (entry.includes('/')) return cidrOrUndefined(entry, undefined);
  if (isIP(entry) !== 0) return cidrOrUndefined(entry, undefined);
  // name:port or v4:port (a bare IPv6 literal has more than one colon and was handled above).
  const colon = entry.lastIndexOf(':');
  if (colon >= 0) {
    if (entry.indexOf(':') !== colon) return undefined;
    port = parsePort(entry.slice(colon + 1));
    if (port === undefined) return undefined;
    entry = entry.slice(0, colon);
    if (isIP(entry) !== 0) return cidrOrUndefined(entry, port);
  }
  if (entry.startsWith('*.')) entry = entry.slice(1);
  const domain = trimDots(entry.replace(/^\.+/, ''));
  if (domain === '') return undefined;
  return port === undefined ? { kind: 'domain', domain } : { kind: 'domain', domain, port };
}

function cidrOrUndefined(text: string, port: number | undefined): NoProxyRule | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family !== 4 && family !== 6) return undefined;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) return undefined;
    prefix = Number(p);
  }
  const rule: NoProxyRule = { kind: 'cidr', family, network: address, prefix };
  if (port !== undefined) rule.port = port;
  return rule;
}

/** Parses a NO_PROXY value: entries separated by commas and/or white space. */
export function parseNoProxy(value: string): NoProxyRule[] {
  const rules: NoProxyRule[] = [];
  for (const part of value.split(/[\s,]+/)) {
    const rule = parseEntry(part);
    if (rule !== undefined) rules.push(rule);
  }
  return rules;
}

const blockLists = new WeakMap<NoProxyRule, BlockList>();

function cidrMatches(rule: Extract<NoProxyRule, { kind: 'cidr' }>, address: string, family: 4 | 6): boolean {
  if (rule.family !== family) return false;
  let list = blockLists.get(rule);
  if (list === undefined) {
    list = new BlockList();
    list.addSubnet(rule.network, rule.prefix, family === 4 ? 'ipv4' : 'ipv6');
    blockLists.set(rule, list);
  }
  return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** True when a target host:port goes around the proxy under `rules`. */
export function bypassesProxy(host: string, port: number, rules: readonly NoProxyRule[]): boolean {
  if (rules.length === 0) return false;
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  h = trimDots(h);
  const family = isIP(h);
  for (const rule of rules) {
    if (rule.kind === 'all') return true;
    if (rule.port !== undefined && rule.port !== port) continue;
    if (rule.kind === 'cidr') {
      if ((family === 4 || family === 6) && cidrMatches(rule, h, family)) return true;
      continue;
    }
    if (family !== 0) continue;
    if (h === rule.domain || h.endsWith(`.${rule.domain}`)) return true;
  }
  return false;
}

/**
 * The proxy the environment gives for host:port, or null for a direct path (no proxy
 * variable, an unusable one, or a NO_PROXY match). `name` becomes ProxySpec.name.
 */
export function envProxyFor(host: string, port: number, env: NodeJS.ProcessEnv, name = 'proxy'): ProxySpec | null {
  const { url, noProxy } = proxyFromEnv(env);
  if (url === null || bypassesProxy(host, port, noProxy)) return null;
  return { name, url };
}
