// The list as an nftables script that `nft -f` loads in one transaction: the set is
// declared (a no-op when it exists with the same type), flushed and filled, so a rule
// matching it never sees it half-loaded, and a script that fails changes nothing.
// One set per family, `<set>_v4` (ipv4_addr) and `<set>_v6` (ipv6_addr), in an inet
// table, so one rule set serves IPv4 and IPv6:
//
//   curl -fsS 'http://exporter:9739/addresses/chainguard?format=nft&table=filter' | nft -f -
import type { Family } from '../model/types.js';
import type { Listing } from './selection.js';
import { countText, hostsByAddress } from './text-format.js';
import type { CommentOptions } from './text-format.js';

/** nft's own identifiers allow more; this is what needs no quoting anywhere. */
export const NFT_NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export interface NftOptions {
  /** The inet table the sets live in (the table of the rules that match them). */
  table: string;
  /** The sets' name before `_v4` / `_v6`. */
  set: string;
  families: readonly Family[];
}

const TYPES: Record<Family, string> = { v4: 'ipv4_addr', v6: 'ipv6_addr' };

export function renderNft(listing: Listing, options: NftOptions, comments: CommentOptions | null): string {
  const families = options.families.filter((family) => family === 'v4' || family === 'v6');
  const byFamily = new Map<Family, string[]>(families.map((family) => [family, []]));
  for (const address of listing.addresses) byFamily.get(address.includes(':') ? 'v6' : 'v4')?.push(address);
  const hosts = comments === null ? null : hostsByAddress(listing);
  const setName = (family: Family): string => `${options.set}_${family}`;

  let out = '';
  if (comments !== null) {
    out += `# egress-exporter address feed: ${comments.title}: ${countText(listing.addresses.length)} at ${new Date(comments.generatedAtMs).toISOString()}\n`;
  }
  out += `table inet ${options.table} {\n`;
  for (const family of families) out += `\tset ${setName(family)} {\n\t\ttype ${TYPES[family]}\n\t}\n`;
  out += '}\n';
  for (const family of families) {
    const addresses = byFamily.get(family) ?? [];
    out += `flush set inet ${options.table} ${setName(family)}\n`;
    // An empty element list is a syntax error: an empty list is the flush alone.
    if (addresses.length === 0) continue;
    out += `add element inet ${options.table} ${setName(family)} {\n`;
    addresses.forEach((address, i) => {
      if (hosts !== null) out += `\t# ${(hosts.get(address) ?? []).join(', ')}\n`;
      out += `\t${address}${i === addresses.length - 1 ? '' : ','}\n`;
    });
    out += '}\n';
  }
  return out;
}
