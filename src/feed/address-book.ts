// What the resolvers answered for each target, address by address: when each address
// was first and last seen through each resolver, and the longest a client may have been
// told to cache it. The feed lists from here (selection.ts) and saves it (state-file.ts).
//
// An answer set (one target, family and resolver) learns from each round's lookup:
// - an answer with addresses: each is seen now; addresses it lacks age from their last sighting;
// - an answer without usable addresses (NXDOMAIN, NODATA, a sinkhole): nothing is seen,
//   everything ages, since clients asking the same resolver get the same;
// - no answer at all (timeout, SERVFAIL, REFUSED, unreachable): nothing is known to have
//   changed, so the set is held: its addresses do not age until an answer comes back, and
//   then age from the last round that held them.
import type { Family } from '../model/types.js';

export interface Sighting {
  address: string;
  firstSeenMs: number;
  lastSeenMs: number;
  /** The longest a client may cache it: the answer's TTL, or the resolver's configured TTL when that is larger. */
  ttlSeconds: number;
}

export interface AnswerSet {
  family: Family;
  resolver: string;
  /** The latest lookup got no answer: the addresses are held. */
  held: boolean;
  /** The latest round that held the set; its addresses age from here at the earliest. */
  heldAtMs?: number;
  /** The latest answer (with addresses or without); not saved: after a restart, the latest sighting. */
  answeredAtMs?: number;
  sightings: Map<string, Sighting>;
}

export interface TargetAddresses {
  /** host:port, as the result store keys targets. */
  key: string;
  host: string;
  port: number;
  /** By family and resolver (answerSetKey). */
  sets: Map<string, AnswerSet>;
}

/** One lookup's outcome, as the book takes it. */
export type Lookup =
  | { family: Family; resolver: string; kind: 'addresses'; addresses: readonly string[]; ttlSeconds: number }
  | { family: Family; resolver: string; kind: 'no-addresses' }
  | { family: Family; resolver: string; kind: 'no-answer' };

export const answerSetKey = (family: Family, resolver: string): string => `${family}\u0000${resolver}`;

export class AddressBook {
  private readonly targets = new Map<string, TargetAddresses>();
  private changes = 0;

  /** Bumped by every change: callers cache what they derive from the book against it. */
  get version(): number {
    return this.changes;
  }

  get size(): number {
    return this.targets.size;
  }

  get(key: string): TargetAddresses | undefined {
    return this.targets.get(key);
  }

  all(): IterableIterator<TargetAddresses> {
    return this.targets.values();
  }

  /**
   * A round's lookups of one target, at `atMs`. Returns whether what is listed may have
   * changed (an address new to its set or missing from the answer, a hold beginning or
   * ending), rather than only the times of what was seen again.
   */
  observe(target: { key: string; host: string; port: number }, lookups: readonly Lookup[], atMs: number): boolean {
    const entry = this.entry(target);
    let listed = false;
    for (const lookup of lookups) {
      const setKey = answerSetKey(lookup.family, lookup.resolver);
      let set = entry.sets.get(setKey);
      if (lookup.kind === 'no-answer') {
        // Nothing to hold yet: no set until a first answer.
        if (set === undefined) continue;
        listed ||= !set.held;
        set.held = true;
        set.heldAtMs = atMs;
        continue;
      }
      if (set === undefined) {
        set = { family: lookup.family, resolver: lookup.resolver, held: false, sightings: new Map() };
        entry.sets.set(setKey, set);
      }
      listed ||= set.held;
      set.held = false;
      // An address of the previous answer that this one lacks starts to age: its last sighting is final.
      const previous = set.answeredAtMs ?? latestOf(set);
      const answered = new Set(lookup.kind === 'addresses' ? lookup.addresses : []);
      for (const s of set.sightings.values()) if (s.lastSeenMs === previous && !answered.has(s.address)) listed = true;
      set.answeredAtMs = atMs;
      if (lookup.kind === 'no-addresses') continue;
      for (const address of lookup.addresses) {
        const seen = set.sightings.get(address);
        if (seen === undefined) {
          set.sightings.set(address, { address, firstSeenMs: atMs, lastSeenMs: atMs, ttlSeconds: lookup.ttlSeconds });
          listed = true;
        } else {
          seen.lastSeenMs = Math.max(seen.lastSeenMs, atMs);
          seen.ttlSeconds = lookup.ttlSeconds;
        }
      }
    }
    this.changes += 1;
    return listed;
  }

  /** Puts back a saved answer set (state-file.ts). */
  restore(target: { key: string; host: string; port: number }, set: AnswerSet): void {
    this.entry(target).sets.set(answerSetKey(set.family, set.resolver), set);
    this.changes += 1;
  }

  /** The target left the config: its addresses leave with it. */
  forget(key: string): void {
    if (this.targets.delete(key)) this.changes += 1;
  }

  /**
   * Drops the sightings for which `expired` says so, and the answer sets and targets left
   * with none; of one target when `key` is given. `changed` hears of each target that lost some.
   */
  prune(expired: (sighting: Sighting, set: AnswerSet) => boolean, key?: string, changed?: (key: string) => void): void {
    const entries = key === undefined ? [...this.targets.values()] : [this.targets.get(key)].filter((e) => e !== undefined);
    for (const entry of entries) {
      let dropped = false;
      for (const [setKey, set] of entry.sets) {
        for (const [address, sighting] of set.sightings) {
          if (!expired(sighting, set)) continue;
          set.sightings.delete(address);
          dropped = true;
        }
        if (set.sightings.size === 0) entry.sets.delete(setKey);
      }
      if (entry.sets.size === 0) this.targets.delete(entry.key);
      if (!dropped) continue;
      this.changes += 1;
      changed?.(entry.key);
    }
  }

  private entry(target: { key: string; host: string; port: number }): TargetAddresses {
    let entry = this.targets.get(target.key);
    if (entry === undefined) {
      entry = { key: target.key, host: target.host, port: target.port, sets: new Map() };
      this.targets.set(target.key, entry);
    }
    return entry;
  }
}

/** When the set's latest answer was: the last sighting of any of its addresses. */
function latestOf(set: AnswerSet): number {
  let latest = Number.NEGATIVE_INFINITY;
  for (const s of set.sightings.values()) if (s.lastSeenMs > latest) latest = s.lastSeenMs;
  return latest;
}
