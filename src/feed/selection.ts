// Which targets a list holds, and what it lists of them now: every address a chosen
// resolver answered for them, within its retention and inside dns.allowlist_cidrs when
// that is set. Sinkholed answers never reach the book (address-feed.ts), so they are
// never listed either.
import { targetKey } from '../checks/report.js';
import { isIPv4, isIPv6 } from '../cidr.js';
import type { Family, Target } from '../model/types.js';
import type { AddressBook } from './address-book.js';
import { sortAddresses } from './address-order.js';
import type { FeedSettings } from './feed-settings.js';
import { expiresAtMs } from './retention.js';

/** Which targets: those of `hosts` (null: all) that carry every label of `labels`. */
export interface TargetFilter {
  hosts: readonly string[] | null;
  labels: Readonly<Record<string, string>>;
}

export function chooseTargets(targets: Iterable<Target>, filter: TargetFilter): Target[] {
  const hosts = filter.hosts === null ? null : new Set(filter.hosts);
  const labels = Object.entries(filter.labels);
  const chosen: Target[] = [];
  for (const target of targets) {
    if (hosts !== null && !hosts.has(target.host)) continue;
    if (labels.every(([name, value]) => target.labels[name] === value)) chosen.push(target);
  }
  return chosen;
}

/** One address as one resolver answered it for one target, or a target that is an IP address. */
export interface ListedSighting {
  address: string;
  family: Family;
  host: string;
  port: number;
  /** null: the target is this IP address (no lookup, always listed). */
  resolver: string | null;
  firstSeenMs: number | null;
  lastSeenMs: number | null;
  ttlSeconds: number | null;
  /** Infinity while held (the resolver has not answered since), and for an IP address target. */
  expiresAtMs: number;
  held: boolean;
}

export interface Listing {
  /** Unique, in list order (IPv4 then IPv6, by value). */
  addresses: string[];
  /** Every sighting behind them. */
  sightings: ListedSighting[];
  /** When the next of them expires (Infinity: none will on its own). */
  nextExpiryMs: number;
}

/** The family of a target that is an IP address; null for a name. */
export function literalFamily(host: string): Family | null {
  return isIPv4(host) ? 'v4' : isIPv6(host) ? 'v6' : null;
}

/** What a list of `targets` and `families` holds at `nowMs`. */
export function listAddresses(book: AddressBook, targets: readonly Target[], families: readonly Family[], settings: FeedSettings, nowMs: number): Listing {
  const sightings: ListedSighting[] = [];
  const allowed = (address: string): boolean => settings.allowlist === null || settings.allowlist.contains(address);
  let nextExpiryMs = Number.POSITIVE_INFINITY;
  for (const target of targets) {
    const literal = literalFamily(target.host);
    if (literal !== null) {
      if (families.includes(literal) && allowed(target.host)) {
        const never = Number.POSITIVE_INFINITY;
        sightings.push({ address: target.host, family: literal, host: target.host, port: target.port, resolver: null, firstSeenMs: null, lastSeenMs: null, ttlSeconds: null, expiresAtMs: never, held: false });
      }
      continue;
    }
    const entry = book.get(targetKey(target));
    if (entry === undefined) continue;
    for (const set of entry.sets.values()) {
      if (!families.includes(set.family)) continue;
      if (settings.resolvers !== null && !settings.resolvers.has(set.resolver)) continue;
      for (const sighting of set.sightings.values()) {
        const expires = expiresAtMs(sighting, set, settings.retention);
        if (expires <= nowMs || !allowed(sighting.address)) continue;
        nextExpiryMs = Math.min(nextExpiryMs, expires);
        sightings.push({ ...sighting, family: set.family, host: entry.host, port: entry.port, resolver: set.resolver, expiresAtMs: expires, held: set.held });
      }
    }
  }
  const addresses = sortAddresses(sightings.map((s) => s.address));
  const order = new Map(addresses.map((address, i) => [address, i]));
  sightings.sort(
    (a, b) => (order.get(a.address) ?? 0) - (order.get(b.address) ?? 0) || compareText(a.host, b.host) || a.port - b.port || compareText(a.resolver ?? '', b.resolver ?? ''),
  );
  return { addresses, sightings, nextExpiryMs };
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
