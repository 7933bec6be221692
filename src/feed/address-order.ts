// The order a list is written in: IPv4 before IPv6, each by numeric value, so that the
// same addresses always make the same bytes (a firewall, or a diff, sees no change
// where there is none). A pull of a 60,000-address list sorts them all: each address's
// sort key is made once, without a parser, and kept.
import ipaddr from 'ipaddr.js';

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** `4` + 8 hex digits, or `6` + 32: ordered as the addresses' values. Input: a valid IP address. */
function makeKey(address: string): string {
  if (!address.includes(':')) return `4${address.split('.').map((part) => hex(Number(part), 2)).join('')}`;
  // An IPv6 address with a dotted tail (::ffff:10.0.0.1) is rare: the parser does it.
  if (address.includes('.')) return `6${ipaddr.parse(address).toByteArray().map((b) => hex(b, 2)).join('')}`;
  const [head = '', tail] = address.split('::');
  const groups = (text: string): string[] => (text === '' ? [] : text.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const zeros = Array.from({ length: 8 - left.length - right.length }, () => '0');
  return `6${[...left, ...zeros, ...right].map((g) => g.padStart(4, '0').toLowerCase()).join('')}`;
}

/** Made keys, kept while there are fewer than this: enough for every address of every list. */
const KEPT = 250_000;
const keys = new Map<string, string>();

export function sortKey(address: string): string {
  let key = keys.get(address);
  if (key === undefined) {
    if (keys.size >= KEPT) keys.clear();
    key = makeKey(address);
    keys.set(address, key);
  }
  return key;
}

/** The addresses, unique, in list order; each must be a valid IP address. */
export function sortAddresses(addresses: Iterable<string>): string[] {
  const keyed = [...new Set(addresses)].map((address) => [sortKey(address), address] as const);
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return keyed.map(([, address]) => address);
}
