// Which targets a list holds, and what it lists of them now: every address a chosen
// resolver answered for them, within its retention and inside dns.allowlist_cidrs when
// that is set. Sinkholed answers never reach the book (address-feed.ts), so they are
// never listed either.
import { DIRECT_PATH } from '../checks/paths.js';
import { targetKey } from '../checks/report.js';
import { isIP } from 'node:net';
import { expectationOn } from '../model/types.js';
import type { Family, Target } from '../model/types.js';
import type { AddressBook, AnswerSet, Sighting, TargetAddresses } from './address-book.js';
import { sortAddresses } from './address-order.js';
import type { FeedSettings } from './feed-settings.js';
import { expiresAtMs } from './retention.js';

/**
 * Which targets: those of `hosts` (null: all) that carry every label of `labels`. Never a
 * target whose direct path must stay blocked (`expect`): a firewall that loaded its
 * addresses would open the very hole the target guards.
 */
export interface TargetFilter {
  hosts: readonly string[] | null;
  labels: Readonly<Record<string, string>>;
}

export function chooseTargets(targets: Iterable<Target>, filter: TargetFilter): Target[] {
  const hosts = filter.hosts === null ? null : new Set(filter.hosts);
  const labels = Object.entries(filter.labels);
  const chosen: Target[] = [];
  for (const target of targets) {
    if (expectationOn(target, DIRECT_PATH) === 'blocked') continue;
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
  // node's check, not the config's parser: this runs for every target of every pull, and
  // the parser throws (slowly) for every name. Target hosts are already normalised.
  const version = isIP(host);
  return version === 4 ? 'v4' : version === 6 ? 'v6' : null;
}

/** Called for each listed sighting of a book's target; `set` and `expiresAtMs` as retention.ts has them. */
type Visit = (sighting: Sighting, set: AnswerSet, entry: TargetAddresses, expiresAtMs: number) => void;

/**
 * Walks what a list of `targets` and `families` holds at `nowMs`: the sightings of the
 * chosen resolvers within their retention and the allowlist, then each target that is an
 * IP address (as `literal`). Returns when the next of the sightings expires.
 */
export function walkListed(
  book: AddressBook,
  targets: readonly Target[],
  families: readonly Family[],
  settings: FeedSettings,
  nowMs: number,
  visit: Visit,
  literal: (target: Target, family: Family) => void = () => {},
): number {
  const allowed = (address: string): boolean => settings.allowlist === null || settings.allowlist.contains(address);
  let nextExpiryMs = Number.POSITIVE_INFINITY;
  for (const target of targets) {
    const family = literalFamily(target.host);
    if (family !== null) {
      if (families.includes(family) && allowed(target.host)) literal(target, family);
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
        if (expires < nextExpiryMs) nextExpiryMs = expires;
        visit(sighting, set, entry, expires);
      }
    }
  }
  return nextExpiryMs;
}

/** What a list of `targets` and `families` holds at `nowMs`, in list order. */
export function listAddresses(book: AddressBook, targets: readonly Target[], families: readonly Family[], settings: FeedSettings, nowMs: number): Listing {
  const byAddress = new Map<string, ListedSighting[]>();
  const add = (listed: ListedSighting): void => {
    const group = byAddress.get(listed.address);
    if (group === undefined) byAddress.set(listed.address, [listed]);
    else group.push(listed);
  };
  const nextExpiryMs = walkListed(
    book,
    targets,
    families,
    settings,
    nowMs,
    (s, set, entry, expires) =>
      add({ address: s.address, family: set.family, host: entry.host, port: entry.port, resolver: set.resolver, firstSeenMs: s.firstSeenMs, lastSeenMs: s.lastSeenMs, ttlSeconds: s.ttlSeconds, expiresAtMs: expires, held: set.held }),
    (target, family) =>
      add({ address: target.host, family, host: target.host, port: target.port, resolver: null, firstSeenMs: null, lastSeenMs: null, ttlSeconds: null, expiresAtMs: Number.POSITIVE_INFINITY, held: false }),
  );
  const addresses = sortAddresses(byAddress.keys());
  const sightings: ListedSighting[] = [];
  for (const address of addresses) {
    const group = byAddress.get(address) ?? [];
    if (group.length > 1) group.sort((a, b) => compareText(a.host, b.host) || a.port - b.port || compareText(a.resolver ?? '', b.resolver ?? ''));
    for (const listed of group) sightings.push(listed);
  }
  return { addresses, sightings, nextExpiryMs };
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
