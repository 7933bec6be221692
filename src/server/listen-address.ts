// Parses --web.listen-address the way Prometheus exporters do: ":9739",
// "127.0.0.1:9739", "[::1]:9739". An empty host listens on every address.
import net from 'node:net';

export interface ListenAddress {
  host: string | undefined;
  port: number;
}

export function parseListenAddress(value: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new Error(`--web.listen-address: expected [host]:port such as :9739 or 127.0.0.1:9739, got "${value}"`);
  const host = match[1] ?? match[2];
  if (match[1] !== undefined && net.isIPv6(match[1]) === false) throw new Error(`--web.listen-address: "${match[1]}" is not an IPv6 address`);
  return { host: host === '' ? undefined : host, port };
}
