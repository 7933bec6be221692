// Hosts and ports as URLs and Prometheus write them: an IPv6 address in brackets
// ([::1]:443), so the port cannot be read as part of the address. The one
// formatter of host:port, its one parser, the one port parser and the one host
// normaliser: the config file, --web.listen-address and /probe?target= all read
// host:port here, each then saying which hosts it takes.
import { isIPv6, normaliseIp } from './cidr.js';

export function hostPort(host: string, port: number): string {
  // Only an IPv6 address has a colon: no name or IPv4 address does.
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A port in decimal digits: 1 to 65535 (0 too with `allowZero`: a listener's "any free port"), or null. */
export function parsePort(text: string, { allowZero = false } = {}): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port <= 65535 && (port >= 1 || allowZero) ? port : null;
}

export interface HostAndPort {
  /** As written, brackets dropped; not checked. */
  host: string;
  /** undefined: no port was given. */
  port: number | undefined;
  /** The host was in brackets, so it is meant as an IPv6 address. */
  bracketed: boolean;
}

/**
 * `host:port`, `[v6]:port`, `host` or `[v6]`, split. null when it has neither
 * shape (a colon outside brackets but the port's, a bracket out of place) or
 * the port is not one (parsePort). A bare IPv6 address has colons of its own,
 * so it is null here too.
 */
export function splitHostPort(text: string, options: { allowZero?: boolean } = {}): HostAndPort | null {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*))(?::(.*))?$/.exec(text);
  if (match === null) return null;
  const [, inBrackets, plain, portText] = match;
  const port = portText === undefined ? undefined : parsePort(portText, options);
  if (port === null) return null;
  return { host: inBrackets ?? plain ?? '', port, bracketed: inBrackets !== undefined };
}

const HOST_LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A DNS name (lower-cased, trailing dot stripped) or an IP literal (IPv6
 * normalised, brackets dropped). Returns null for anything else.
 */
export function normaliseHost(text: string): string | null {
  let host = text.endsWith('.') ? text.slice(0, -1) : text;
  if (host.startsWith('[') && host.endsWith(']')) {
    const inner = host.slice(1, -1);
    return isIPv6(inner) ? normaliseIp(inner) : null;
  }
  const ip = normaliseIp(host);
  if (ip !== null) return ip;
  host = host.toLowerCase();
  if (host.length === 0 || host.length > 253) return null;
  const labels = host.split('.');
  if (!labels.every((label) => HOST_LABEL_RE.test(label))) return null;
  // An all-numeric last label reads as a (malformed) IPv4 address, not a name.
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return null;
  return host;
}
