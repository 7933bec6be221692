// Does an answer fall inside the IP ranges a firewall allows?
import ipaddr from 'ipaddr.js';

export class Allowlist {
  private readonly ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
  constructor(cidrs: readonly string[]) {
    this.ranges = cidrs.map((cidr) => ipaddr.parseCIDR(cidr));
  }
  get enabled(): boolean {
    return this.ranges.length > 0;
  }
  contains(address: string): boolean {
    if (!ipaddr.isValid(address)) return false;
    const parsed = ipaddr.process(address); // IPv4-mapped IPv6 counts as IPv4
    return this.ranges.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits));
  }
  countOutside(addresses: readonly string[]): number {
    return addresses.filter((address) => !this.contains(address)).length;
  }
}
