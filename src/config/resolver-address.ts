// A DNS server as the config names it (`dns.servers`, `feed.resolvers`): `ip`,
// `ip:port`, `[v6]`, `[v6]:port` or a bare v6 address, port 53 by default. Its
// name is the `resolver` label.
import { isIPv4, isIPv6, normaliseIp } from '../cidr.js';
import { splitHostPort } from '../host-port.js';
import type { ResolverAddress } from './types.js';

export const DNS_PORT = 53;

export function parseResolverAddress(text: string): ResolverAddress | null {
  const address = splitHostPort(text);
  // null: not ip[:port]; a bare IPv6 address has colons of its own.
  const { host: ip, port = DNS_PORT, bracketed: v6 } = address ?? { host: text, port: DNS_PORT, bracketed: true };
  if (v6) {
    if (!isIPv6(ip)) return null;
    const normalised = normaliseIp(ip) ?? ip;
    return { name: `[${normalised}]:${port}`, ip: normalised, port };
  }
  if (!isIPv4(ip)) return null;
  return { name: `${ip}:${port}`, ip, port };
}
