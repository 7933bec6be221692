// The order a list is written in: IPv4 before IPv6, each by numeric value, so that the
// same addresses always make the same bytes (a firewall, or a diff, sees no change
// where there is none).
import ipaddr from 'ipaddr.js';

function sortKey(address: string): string {
  const bytes = ipaddr.parse(address).toByteArray();
  const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${bytes.length === 4 ? '4' : '6'}${hex}`;
}

/** The addresses, unique, in list order; each must be a valid IP address. */
export function sortAddresses(addresses: Iterable<string>): string[] {
  const keyed = [...new Set(addresses)].map((address) => [sortKey(address), address] as const);
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return keyed.map(([, address]) => address);
}
