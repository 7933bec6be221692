// Does an answer fall inside the IP ranges a firewall allows?
import { CidrSet } from '../cidr.js';

export class Allowlist {
  private readonly ranges: CidrSet;
  constructor(cidrs: readonly string[]) {
    this.ranges = new CidrSet(cidrs);
  }
  get enabled(): boolean {
    return this.ranges.size > 0;
  }
  /** IPv4-mapped IPv6 counts as IPv4. */
  contains(address: string): boolean {
    return this.ranges.contains(address);
  }
  countOutside(addresses: readonly string[]): number {
    return addresses.filter((address) => !this.contains(address)).length;
  }
}
