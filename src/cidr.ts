// IP addresses and CIDR blocks, done one way (on ipaddr.js): the written form the config
// gives them, and whether an address falls inside a set of blocks. The config's parser,
// the dns check's sinkhole ranges, the firewall allowlist and NO_PROXY all use this.
import ipaddr from 'ipaddr.js';

/** A dotted quad of four decimal parts, 0-255, no leading zeros (what inet_pton(AF_INET) takes). */
export function isIPv4(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text);
}

/** An IPv6 address, without a zone (`%eth0`): a zone names an interface of one machine. */
export function isIPv6(text: string): boolean {
  return !text.includes('%') && ipaddr.IPv6.isValid(text);
}

/** An IP literal in its one written form: IPv4 as it is, IPv6 in RFC 5952 form (`2001:db8::1`); null for anything else. */
export function normaliseIp(text: string): string | null {
  if (isIPv4(text)) return text;
  if (isIPv6(text)) return ipaddr.IPv6.parse(text).toString();
  return null;
}

/** A CIDR normalised to its network address: `104.16.1.1/13` -> `104.16.0.0/13`; null when it is not one. */
export function normaliseCidr(text: string): string | null {
  const match = /^([^/]+)\/(0|[1-9]\d{0,2})$/.exec(text);
  if (match === null) return null;
  const [, ip = '', prefixText = ''] = match;
  const prefix = Number(prefixText);
  if (isIPv4(ip) && prefix <= 32) return `${ipaddr.IPv4.networkAddressFromCIDR(`${ip}/${prefix}`).toString()}/${prefix}`;
  if (isIPv6(ip) && prefix <= 128) return `${ipaddr.IPv6.networkAddressFromCIDR(`${ip}/${prefix}`).toString()}/${prefix}`;
  return null;
}

/** A set of CIDR blocks. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is matched as the IPv4 address it carries. */
export class CidrSet {
  private readonly blocks: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;

  /** Throws on a block that is not `address/prefix` (host bits are allowed and ignored). */
  constructor(cidrs: readonly string[]) {
    this.blocks = cidrs.map((cidr) => ipaddr.parseCIDR(cidr));
  }

  get size(): number {
    return this.blocks.length;
  }

  /** False for anything that is not an IP address. */
  contains(address: string): boolean {
    if (!ipaddr.isValid(address)) return false;
    const ip = ipaddr.process(address);
    return this.blocks.some(([network, prefix]) => network.kind() === ip.kind() && ip.match(network, prefix));
  }
}
