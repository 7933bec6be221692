// The named lists' series kept up to date as rounds come in, without walking whole lists:
// each target's contribution (the addresses it brings to a list now, and when the first
// of them expires) is recomputed when that target reports or when that expiry comes, and
// each list counts how many contributions hold each address. An address entering (count
// 0 -> 1) or leaving (1 -> 0) is a change of the list, at that moment. A whole list is
// walked only when which targets it holds may have changed: a start, a reload.
import type { FeedListConfig } from '../config/types.js';
import { sizeOf } from './size-limits.js';
import type { ListSize } from './size-limits.js';

/** What one target brings to one list now. */
export interface Contribution {
  /** Unique. */
  addresses: readonly string[];
  /** When the first of them leaves (Infinity: none will on its own). */
  nextExpiryMs: number;
}

export interface ListFacts {
  name: string;
  size: ListSize;
  lastChangeMs: number;
}

interface ListState {
  list: FeedListConfig;
  /** Target key -> what it brings. */
  contributions: Map<string, Contribution>;
  /** Address -> how many contributions hold it. */
  counts: Map<string, number>;
  bytes: number;
  lastChangeMs: number;
}

export class ListStats {
  private lists = new Map<string, ListState>();

  /**
   * Starts over: the lists, and for each the keys of its targets and what each brings.
   * A list that existed keeps its last change unless its addresses differ.
   */
  rebuild(lists: readonly FeedListConfig[], targetsOf: (list: FeedListConfig) => readonly string[], contribution: (list: FeedListConfig, key: string) => Contribution, nowMs: number): void {
    const next = new Map<string, ListState>();
    for (const list of lists) {
      const state: ListState = { list, contributions: new Map(), counts: new Map(), bytes: 0, lastChangeMs: nowMs };
      for (const key of targetsOf(list)) this.add(state, key, contribution(list, key));
      const before = this.lists.get(list.name);
      if (before !== undefined && sameAddresses(before.counts, state.counts)) state.lastChangeMs = before.lastChangeMs;
      next.set(list.name, state);
    }
    this.lists = next;
  }

  /**
   * The target `key` may bring something else now (it reported, or some of its addresses
   * expired). Returns when the first of what it brings now expires.
   */
  update(key: string, contribution: (list: FeedListConfig) => Contribution, nowMs: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const state of this.lists.values()) {
      const before = state.contributions.get(key);
      // Only the lists that hold the target: which ones is rebuild's business.
      if (before === undefined) continue;
      const now = contribution(state.list);
      next = Math.min(next, now.nextExpiryMs);
      // The new counted before the old is taken back: an address in both never drops to 0.
      const changed = this.add(state, key, now) + this.remove(state, before);
      if (changed > 0) state.lastChangeMs = nowMs;
    }
    return next;
  }

  /** The targets with a contribution that expires by `nowMs`. */
  due(nowMs: number): Set<string> {
    const keys = new Set<string>();
    for (const state of this.lists.values()) for (const [key, c] of state.contributions) if (c.nextExpiryMs <= nowMs) keys.add(key);
    return keys;
  }

  /** When the next contribution expires. */
  nextExpiryMs(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const state of this.lists.values()) for (const c of state.contributions.values()) if (c.nextExpiryMs < next) next = c.nextExpiryMs;
    return next;
  }

  facts(): ListFacts[] {
    return [...this.lists.values()].map((s) => ({ name: s.list.name, size: { addresses: s.counts.size, bytes: s.bytes }, lastChangeMs: s.lastChangeMs }));
  }

  /** Adds a contribution; returns how many addresses entered the list. */
  private add(state: ListState, key: string, contribution: Contribution): number {
    state.contributions.set(key, contribution);
    let entered = 0;
    for (const address of contribution.addresses) {
      const count = state.counts.get(address) ?? 0;
      state.counts.set(address, count + 1);
      if (count === 0) {
        entered += 1;
        state.bytes += sizeOf([address]).bytes;
      }
    }
    return entered;
  }

  /** Takes a contribution back; returns how many addresses left the list. */
  private remove(state: ListState, contribution: Contribution): number {
    let left = 0;
    for (const address of contribution.addresses) {
      const count = state.counts.get(address) ?? 0;
      if (count <= 1) {
        state.counts.delete(address);
        left += 1;
        state.bytes -= sizeOf([address]).bytes;
      } else state.counts.set(address, count - 1);
    }
    return left;
  }
}

function sameAddresses(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const address of a.keys()) if (!b.has(address)) return false;
  return true;
}
