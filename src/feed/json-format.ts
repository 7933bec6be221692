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

const iso = (ms: number): string => new Date(ms).toISOString();

export function renderJson(listing: Listing, options: JsonOptions): string {
  const body = {
    list: options.list,
    generatedAt: iso(options.generatedAtMs),
    addresses: listing.addresses,
    size: options.size,
    limits: options.limits,
    overLimit: options.overLimit,
    entries: listing.sightings.map((s) => ({
      address: s.address,
      family: s.family,
      host: s.host,
      port: s.port,
      resolver: s.resolver,
      ttl: s.ttlSeconds,
      firstSeen: s.firstSeenMs === null ? null : iso(s.firstSeenMs),
      lastSeen: s.lastSeenMs === null ? null : iso(s.lastSeenMs),
      expiresAt: Number.isFinite(s.expiresAtMs) ? iso(s.expiresAtMs) : null,
      held: s.held,
    })),
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}
