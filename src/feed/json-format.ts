// The list with what is behind each address: for people and scripts that ask why an
// address is (still) listed. Times are ISO 8601; expiresAt is null while the address
// is held (its resolver has not answered since), and for a target that is an IP address
// (resolver, ttl, firstSeen and lastSeen null: it is listed as configured).
import type { ListSize, SizeLimits } from './size-limits.js';
import type { Listing } from './selection.js';

export interface JsonOptions {
  /** The named list, or null for a query. */
  list: string | null;
  generatedAtMs: number;
  size: ListSize;
  limits: SizeLimits;
  /** Why a firewall format of this list is refused, or null. */
  overLimit: string | null;
}

export function renderJson(listing: Listing, options: JsonOptions): string {
  // Most times repeat (every sighting of a round shares its time): each is formatted once.
  const formatted = new Map<number, string>();
  const iso = (ms: number | null): string | null => {
    if (ms === null || !Number.isFinite(ms)) return null;
    let text = formatted.get(ms);
    if (text === undefined) {
      text = new Date(ms).toISOString();
      formatted.set(ms, text);
    }
    return text;
  };
  const head = {
    list: options.list,
    generatedAt: iso(options.generatedAtMs),
    addresses: listing.addresses,
    size: options.size,
    limits: options.limits,
    overLimit: options.overLimit,
  };
  // One entry a line: readable as it comes, and quick to write for 60,000 of them.
  const entries = listing.sightings.map((s) =>
    JSON.stringify({
      address: s.address,
      family: s.family,
      host: s.host,
      port: s.port,
      resolver: s.resolver,
      ttl: s.ttlSeconds,
      firstSeen: iso(s.firstSeenMs),
      lastSeen: iso(s.lastSeenMs),
      expiresAt: iso(s.expiresAtMs),
      held: s.held,
    }),
  );
  return `${JSON.stringify(head).slice(0, -1)},"entries":[${entries.length === 0 ? '' : `\n${entries.join(',\n')}\n`}]}\n`;
}
