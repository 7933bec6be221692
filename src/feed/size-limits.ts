// The size of a list as a firewall takes it (plain text, one address a line) against
// what it takes at most. A list over a limit is never cut short: which addresses would
// a truncation drop? Live traffic to them. It is refused instead (503), and firewalls
// keep the last list they loaded (PAN-OS and FortiGate do on a failed fetch; an
// `nft -f` that is not run changes nothing).
export interface SizeLimits {
  maxAddresses: number;
  maxBytes: number;
}

export interface ListSize {
  addresses: number;
  /** Of the plain text form without comments: every address and its newline. */
  bytes: number;
}

export function sizeOf(addresses: readonly string[]): ListSize {
  let bytes = 0;
  for (const address of addresses) bytes += address.length + 1;
  return { addresses: addresses.length, bytes };
}

/** Why the list is over a limit, or null when it is not. */
export function overLimit(size: ListSize, limits: SizeLimits): string | null {
  if (size.addresses > limits.maxAddresses) return `the list would hold ${size.addresses} addresses, more than feed.max_addresses (${limits.maxAddresses})`;
  if (size.bytes > limits.maxBytes) return `the list would be ${size.bytes} bytes, more than feed.max_bytes (${limits.maxBytes})`;
  return null;
}
