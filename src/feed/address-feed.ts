// The address feed: a view of the result store, as the metrics are. Every round's DNS
// answers go into the address book; a firewall's pull gets what is listed at that moment
// (selection.ts); named lists keep their size and last change for the series; the book
// is saved to --storage.path soon after it changes and on shutdown, and read back at start.
//
// Never an empty list by accident: a list is served once every target it holds has had
// a round in this process, or has addresses still within their retention in the saved
// state. Until then the answer is "not ready", with the reason.
import { counted } from '../plural.js';
import { dnsJudgementOf } from '../checks/dns-judgement.js';
import { targetKey } from '../checks/report.js';
import type { RoundReport } from '../checks/report.js';
import type { Config, FeedListConfig } from '../config/types.js';
import type { Logger } from '../logging/logger.js';
import { FAMILIES } from '../model/types.js';
import type { Family, Target } from '../model/types.js';
import type { FailureReason } from '../probes/reasons.js';
import type { ResultListener, TargetState } from '../state/result-store.js';
import { AddressBook } from './address-book.js';
import type { Lookup } from './address-book.js';
import { feedSettings } from './feed-settings.js';
import type { FeedSettings } from './feed-settings.js';
import { expiresAtMs } from './retention.js';
import { SaveSchedule } from './save-schedule.js';
import { ListStats } from './list-stats.js';
import type { Contribution } from './list-stats.js';
import { chooseTargets, listAddresses, literalFamily, walkListed } from './selection.js';
import type { Listing, TargetFilter } from './selection.js';
import { overLimit, sizeOf } from './size-limits.js';
import type { ListSize, SizeLimits } from './size-limits.js';
import { decodeState, encodeState, encodeTarget } from './state-file.js';
import type { StateStorage } from './state-storage.js';

/** Lookups that got no answer at all: the resolver said nothing about the name, so its addresses are held. */
const NO_ANSWER: ReadonlySet<FailureReason> = new Set<FailureReason>(['timeout', 'servfail', 'refused', 'unreachable', 'dns_error']);

/** A change of what is listed is saved within this of the last save... */
export const SAVE_SOON_MS = 5000;
/** ...and the times of addresses seen again within this (a crash loses at most this much of them). */
export const SAVE_LATER_MS = 30_000;
/** The named lists' membership is worked out again this long after the targets changed (a reload sets them one by one). */
const REBUILD_DELAY_MS = 1000;
/** Targets named in a not-ready reason, at most. */
const NAMED_IN_REASON = 5;

/** A list by name (feed.lists), or one a query chooses. */
export type FeedRequest = { list: string } | { hosts: readonly string[] | null; labels: Readonly<Record<string, string>>; families: readonly Family[] | null };

export type FeedAnswer =
  | { kind: 'listing'; list: string | null; families: readonly Family[]; listing: Listing; size: ListSize; limits: SizeLimits; overLimit: string | null; generatedAtMs: number }
  /** 404: no list of that name. */
  | { kind: 'no-such-list'; message: string }
  /** 400: a parameter names what is not there. */
  | { kind: 'bad-request'; parameter: 'host' | 'label'; message: string }
  /** 503: the list could be served empty or short, so it is not. */
  | { kind: 'not-ready'; message: string };

/** What the series of the feed show (metrics/feed-series.ts). */
export interface FeedStats {
  lists: Array<{ name: string; addresses: number; bytes: number; lastChangeMs: number; overLimit: boolean }>;
  /** When the state was last saved; null: not yet, or no --storage.path. */
  savedAtMs: number | null;
}

export interface AddressFeedOptions {
  config: Config;
  /** The targets at start, this replica's shard of them: saved state of any other target is dropped. */
  targets: readonly Target[];
  /** Sharded: which shard this replica is ("shard 1 of 3"), said where a host is another shard's. */
  shard?: string;
  /** --storage.path; null: in memory only. */
  storage: StateStorage | null;
  logger: Logger;
  now?: () => number;
}

export class AddressFeed implements ResultListener {
  private readonly book = new AddressBook();
  private settings: FeedSettings;
  private readonly targets = new Map<string, Target>();
  /** Targets with a round in this process. */
  private readonly reportedKeys = new Set<string>();
  /** Targets with addresses within their retention in the saved state. */
  private readonly restoredKeys = new Set<string>();
  /** What the saved state could not give, for the not-ready reason. */
  private restoreNote: string;
  /** Each target's piece of the state file, until it changes. */
  private readonly encoded = new Map<string, string>();
  private readonly saves: SaveSchedule | null;
  private savedAtMs: number | null = null;
  private readonly stats = new ListStats();
  private rebuildTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private expiryDueMs = Number.POSITIVE_INFINITY;
  private closed = false;
  private readonly now: () => number;

  private constructor(private readonly options: AddressFeedOptions) {
    this.now = options.now ?? Date.now;
    this.settings = feedSettings(options.config);
    for (const target of options.targets) this.targets.set(targetKey(target), target);
    this.saves = options.storage === null ? null : new SaveSchedule(() => this.save(), SAVE_SOON_MS, SAVE_LATER_MS, this.now);
    this.restoreNote = options.storage === null ? 'the feed is kept in memory only (no --storage.path), so it starts empty after a restart' : '';
  }

  /** A feed with the saved state read back, when there is one. */
  static async open(options: AddressFeedOptions): Promise<AddressFeed> {
    const feed = new AddressFeed(options);
    if (options.storage !== null) await feed.restore(options.storage);
    feed.rebuildStats();
    return feed;
  }

  /** A reload: the resolvers, allowlist, retention, limits and lists of the new config. */
  configure(config: Config): void {
    this.settings = feedSettings(config);
    this.rebuildStats();
  }

  // --- ResultListener ----------------------------------------------------------------

  targetSet(state: TargetState): void {
    this.targets.set(targetKey(state.target), state.target);
    this.membershipChanged();
  }

  reported(state: TargetState): void {
    const report = state.report;
    if (report === undefined) return;
    const key = targetKey(report.target);
    const listed = this.book.observe({ key, host: report.target.host, port: report.target.port }, lookupsOf(report), report.finishedAtMs);
    const now = this.now();
    this.book.prune((s, set) => expiresAtMs(s, set, this.settings.retention) <= now, key);
    this.reportedKeys.add(key);
    this.encoded.delete(key);
    this.saves?.changed(listed ? 'listed' : 'times');
    this.updateStats(key, now);
  }

  removed(key: string): void {
    this.targets.delete(key);
    this.book.forget(key);
    this.reportedKeys.delete(key);
    this.restoredKeys.delete(key);
    this.encoded.delete(key);
    this.saves?.changed('listed');
    this.membershipChanged();
  }

  // --- Serving -----------------------------------------------------------------------

  /** What a firewall pulling `request` gets now. */
  answer(request: FeedRequest): FeedAnswer {
    const nowMs = this.now();
    let chosen: Target[];
    let families: readonly Family[];
    let list: string | null = null;
    if ('list' in request) {
      const named = this.settings.lists.find((l) => l.name === request.list);
      if (named === undefined) {
        const names = this.settings.lists.map((l) => l.name);
        return { kind: 'no-such-list', message: `no list named ${JSON.stringify(request.list)}: ${names.length === 0 ? 'feed.lists is empty' : `feed.lists has ${names.join(', ')}`}` };
      }
      chosen = this.choose(named);
      families = named.families;
      list = named.name;
    } else {
      const hosts = new Set([...this.targets.values()].map((t) => t.host));
      const unknown = request.hosts?.find((host) => !hosts.has(host));
      if (unknown !== undefined) {
        const scope = this.options.shard === undefined ? '' : ` of this replica (${this.options.shard}: it lists only its shard's targets)`;
        return { kind: 'bad-request', parameter: 'host', message: `${JSON.stringify(unknown)} is not the host of any target${scope}` };
      }
      chosen = this.choose({ hosts: request.hosts, labels: request.labels });
      const labels = Object.entries(request.labels);
      if (chosen.length === 0 && labels.length > 0) {
        const wanted = labels.map(([name, value]) => `${name}:${value}`).join(' and ');
        return { kind: 'bad-request', parameter: 'label', message: `no ${request.hosts === null ? 'target' : 'target of the hosts given'} has ${wanted}` };
      }
      families = request.families ?? FAMILIES;
    }
    // A target that is an IP address has nothing to wait for.
    const waiting = chosen.filter((t) => literalFamily(t.host) === null).map(targetKey).filter((key) => !this.reportedKeys.has(key) && !this.restoredKeys.has(key));
    if (waiting.length > 0) return { kind: 'not-ready', message: this.notReady(waiting, chosen.length) };
    const listing = listAddresses(this.book, chosen, families, this.settings, nowMs);
    const size = sizeOf(listing.addresses);
    return { kind: 'listing', list, families, listing, size, limits: this.settings.limits, overLimit: overLimit(size, this.settings.limits), generatedAtMs: nowMs };
  }

  /** The series' facts: each named list now, and the last save. */
  statistics(): FeedStats {
    return {
      lists: this.stats.facts().map(({ name, size, lastChangeMs }) => ({
        name,
        addresses: size.addresses,
        bytes: size.bytes,
        lastChangeMs,
        overLimit: overLimit(size, this.settings.limits) !== null,
      })),
      savedAtMs: this.savedAtMs,
    };
  }

  /** Stops the timers and saves what changed since the last save. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.rebuildTimer);
    clearTimeout(this.expiryTimer);
    await this.saves?.close();
  }

  // --- Inside ------------------------------------------------------------------------

  private choose(filter: TargetFilter): Target[] {
    return chooseTargets(this.targets.values(), filter);
  }

  private notReady(waiting: string[], chosen: number): string {
    const named = waiting.slice(0, NAMED_IN_REASON).join(', ') + (waiting.length > NAMED_IN_REASON ? ', ...' : '');
    const why = `not ready: waiting for the first round of ${waiting.length} of the ${counted(chosen, 'target')} of this list (${named})`;
    return this.restoreNote === '' ? why : `${why}; ${this.restoreNote}`;
  }

  private async restore(storage: StateStorage): Promise<void> {
    const { logger } = this.options;
    let text: string | null;
    try {
      text = await storage.read();
    } catch (error) {
      this.restoreNote = `the saved state in ${storage.file} could not be read`;
      logger.error({ err: error, file: storage.file }, 'feed: cannot read the saved state: starting empty');
      return;
    }
    if (text === null) {
      this.restoreNote = `no saved state in ${storage.file} yet`;
      return;
    }
    const decoded = decodeState(text);
    if (!decoded.ok) {
      this.restoreNote = `the saved state in ${storage.file} is unusable (${decoded.problem})`;
      logger.warn({ file: storage.file, problem: decoded.problem }, 'feed: the saved state is unusable: starting empty');
      return;
    }
    const nowMs = this.now();
    for (const saved of decoded.targets) {
      if (!this.targets.has(saved.key)) continue;
      for (const set of saved.sets) {
        // A hold ends with the process: its addresses age from the save.
        if (set.held) set.heldAtMs = Math.max(set.heldAtMs ?? 0, decoded.savedAtMs);
        set.held = false;
        this.book.restore(saved, set);
      }
    }
    this.book.prune((s, set) => expiresAtMs(s, set, this.settings.retention) <= nowMs);
    for (const [key, target] of this.targets) {
      let any = false;
      walkListed(this.book, [target], FAMILIES, this.settings, nowMs, () => (any = true));
      if (any) this.restoredKeys.add(key);
    }
    this.savedAtMs = decoded.savedAtMs;
    this.restoreNote = `the saved state (saved ${new Date(decoded.savedAtMs).toISOString()}) holds no address within its retention for them`;
    logger.info(
      { file: storage.file, savedAt: new Date(decoded.savedAtMs).toISOString(), targets: this.restoredKeys.size, skipped: decoded.skipped },
      'feed: saved state restored',
    );
  }

  /** Never rejects: a failed save is logged and the next change tries again. */
  private async save(): Promise<void> {
    const storage = this.options.storage;
    if (storage === null) return;
    const nowMs = this.now();
    this.book.prune((s, set) => expiresAtMs(s, set, this.settings.retention) <= nowMs, undefined, (key) => this.encoded.delete(key));
    const pieces: string[] = [];
    for (const target of this.book.all()) {
      let piece = this.encoded.get(target.key);
      if (piece === undefined) {
        piece = encodeTarget(target);
        this.encoded.set(target.key, piece);
      }
      pieces.push(piece);
    }
    for (const key of this.encoded.keys()) if (this.book.get(key) === undefined) this.encoded.delete(key);
    try {
      await storage.write(encodeState(nowMs, pieces));
      this.savedAtMs = nowMs;
    } catch (error) {
      this.options.logger.error({ err: error, file: storage.file }, 'feed: cannot save the state');
    }
  }

  // --- The named lists' series (list-stats.ts) ---------------------------------------

  /** What target `key` brings to `list` now. */
  private contribution(list: FeedListConfig, key: string, nowMs: number): Contribution {
    const target = this.targets.get(key);
    if (target === undefined) return { addresses: [], nextExpiryMs: Number.POSITIVE_INFINITY };
    const addresses = new Set<string>();
    const nextExpiryMs = walkListed(this.book, [target], list.families, this.settings, nowMs, (s) => void addresses.add(s.address), (t) => void addresses.add(t.host));
    return { addresses: [...addresses], nextExpiryMs };
  }

  /** Every list walked whole: at start, on a reload, and once the targets stopped changing. */
  private rebuildStats(): void {
    clearTimeout(this.rebuildTimer);
    this.rebuildTimer = undefined;
    const nowMs = this.now();
    this.stats.rebuild(this.settings.lists, (list) => this.choose(list).map(targetKey), (list, key) => this.contribution(list, key, nowMs), nowMs);
    this.scheduleExpiry();
  }

  private membershipChanged(): void {
    if (this.closed || this.rebuildTimer !== undefined) return;
    this.rebuildTimer = setTimeout(() => this.rebuildStats(), REBUILD_DELAY_MS);
    this.rebuildTimer.unref();
  }

  private updateStats(key: string, nowMs: number): void {
    const next = this.stats.update(key, (list) => this.contribution(list, key, nowMs), nowMs);
    // Only ever earlier: a timer due before this target's new expiry looks again when it fires.
    if (next < this.expiryDueMs) this.scheduleExpiry(next);
  }

  /**
   * A timer at the next expiry of any list's address (`due`, or found by looking at every
   * target's): the series follow at that moment. A report only moves a target's expiry
   * later, so the timer may fire early; then it looks again, once.
   */
  private scheduleExpiry(due = this.stats.nextExpiryMs()): void {
    if (this.closed || due === this.expiryDueMs) return;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.expiryDueMs = due;
    if (!Number.isFinite(due)) return;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      this.expiryDueMs = Number.POSITIVE_INFINITY;
      const nowMs = this.now();
      for (const key of this.stats.due(nowMs)) this.stats.update(key, (list) => this.contribution(list, key, nowMs), nowMs);
      this.scheduleExpiry();
    }, Math.max(0, due - this.now()));
    this.expiryTimer.unref();
  }
}

/** A round's lookups, as the book takes them. */
function lookupsOf(report: RoundReport): Lookup[] {
  const lookups: Lookup[] = [];
  for (const result of report.dns) {
    // A lookup past the check's deadline comes back without records: none for any family.
    if (result.records.length === 0) {
      const kind = result.reason !== undefined && NO_ANSWER.has(result.reason) ? 'no-answer' : 'no-addresses';
      for (const family of report.target.families) lookups.push({ family, resolver: result.resolver, kind });
      continue;
    }
    for (const record of result.records) {
      const base = { family: record.family, resolver: result.resolver };
      if (record.ok && record.addresses.length > 0) {
        // A caching resolver counts the TTL down; a client that asked it earlier was told more.
        const configured = dnsJudgementOf(report, result.resolver, record.type)?.ttlMax ?? 0;
        lookups.push({ ...base, kind: 'addresses', addresses: record.addresses, ttlSeconds: Math.max(record.ttl ?? 0, configured) });
      } else if (!record.ok && record.reason !== undefined && NO_ANSWER.has(record.reason)) {
        lookups.push({ ...base, kind: 'no-answer' });
      } else {
        // NXDOMAIN, NODATA, a sinkhole: an answer, and nothing in it to list.
        lookups.push({ ...base, kind: 'no-addresses' });
      }
    }
  }
  return lookups;
}
