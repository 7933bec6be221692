// Parses --web.listen-address the way Prometheus exporters do: ":9739",
// "127.0.0.1:9739", "[::1]:9739", "localhost:9739". An empty host listens on
// every address. A host that cannot be an address or a name is a usage error;
// one that is well formed but cannot be served on shows when listening, in one
// line (describeListenError).
import net from 'node:net';
import { hostPort, normaliseHost, splitHostPort } from '../host-port.js';

export interface ListenAddress {
  host: string | undefined;
  port: number;
}

const FLAG = '--web.listen-address';

export function parseListenAddress(value: string): ListenAddress {
  const address = splitHostPort(value, { allowZero: true });
  if (address === null || address.port === undefined) throw new Error(`${FLAG}: expected [host]:port such as :9739 or 127.0.0.1:9739, got "${value}"`);
  const { host, port } = address;
  if (address.bracketed) {
    if (!net.isIPv6(host)) throw new Error(`${FLAG}: "${host}" is not an IPv6 address`);
    return { host, port };
  }
  if (host === '') return { host: undefined, port };
  // Digits and dots only: meant as an IPv4 address, so it must be one (not 999.1.1.1).
  if (/^[0-9.]+$/.test(host)) {
    if (!net.isIPv4(host)) throw new Error(`${FLAG}: "${host}" is not an IPv4 address`);
  } else if (normaliseHost(host) === null) {
    throw new Error(`${FLAG}: "${host}" is not an IP address or a host name`);
  }
  return { host, port };
}

/** `host:port` as typed, IPv6 in brackets; every address for no host. */
export function formatListenAddress(address: ListenAddress): string {
  return address.host === undefined ? `:${address.port}` : hostPort(address.host, address.port);
}

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the port is already in use by another process',
  EADDRNOTAVAIL: 'the address is not one of this machine\'s',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved: no answer from the resolver',
  EAI_NONAME: 'the host name does not resolve',
  EAFNOSUPPORT: 'this machine has no network of that address family',
};

/**
 * Why the server could not listen, as one line for an operator
 * ("the port is already in use by another process (EADDRINUSE)"), or
 * undefined when `error` is not a listen or lookup failure (a bug).
 */
export function describeListenError(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, syscall } = error as { code?: unknown; syscall?: unknown };
  if (typeof code !== 'string' || (syscall !== 'listen' && syscall !== 'getaddrinfo' && syscall !== 'bind')) return undefined;
  return `${LISTEN_ERRORS[code] ?? (error instanceof Error ? error.message : code)} (${code})`;
}
