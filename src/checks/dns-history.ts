// What one DNS answer cannot tell: the configured TTL behind a caching
// resolver's countdown, whether that TTL changed, and whether the address set
// changed. Kept per host, record type and resolver.

export interface DnsHistoryUpdate {
  /** Estimate of the configured TTL: the largest TTL seen within the window. */
  ttlMax: number;
  /** True when this answer moved the estimate (not on the first answer). */
  ttlChanged: boolean;
  /** True when the address set differs from the previous successful answer. */
  addressesChanged: boolean;
  /** When the address set last changed (or was first seen), in ms since the epoch. */
  addressSetSinceMs: number;
}

export interface DnsHistoryOptions {
  /** The scheduler's interval: a caching resolver's countdown can hide up to this much. */
  intervalMs: number;
  /** Shortest window of samples kept, whatever the TTL (default: two intervals). */
  minWindowMs?: number;
}

/**
 * A caching resolver counts a TTL down from the configured value, so the max
 * over a full TTL cycle estimates it. The window spans twice the estimate plus
 * an interval, so one full cycle is always inside it, even with several caches
 * behind one resolver address counting down out of phase. A move counts as
 * drift only when the window's max differs from the estimate by more than one
 * interval (the most a countdown sampled once an interval can hide); smaller
 * upward moves refine the estimate silently. A larger TTL shows at once; a
 * smaller one once the old samples have left the window.
 */
export class DnsHistory {
  /**
   * The samples, as pairs in one array: when (ms since the epoch), then the TTL. Every
   * target carries one history a record type and resolver from round to round: numbers in
   * an array cost 16 bytes a sample, an object a sample 40.
   */
  private samples: number[] = [];
  private estimate: number | null = null;
  private addresses: string | null = null;
  private addressSetSinceMs = 0;
  private readonly intervalMs: number;
  private readonly minWindowMs: number;

  constructor(options: DnsHistoryOptions) {
    this.intervalMs = options.intervalMs;
    this.minWindowMs = options.minWindowMs ?? 2 * options.intervalMs;
  }

  /** A copy to observe the next answer with: a judged round's history stays as it was judged. */
  clone(): DnsHistory {
    const copy = new DnsHistory({ intervalMs: this.intervalMs, minWindowMs: this.minWindowMs });
    copy.samples = this.samples.slice();
    copy.estimate = this.estimate;
    copy.addresses = this.addresses;
    copy.addressSetSinceMs = this.addressSetSinceMs;
    return copy;
  }

  observe(ttl: number, addresses: readonly string[], nowMs: number): DnsHistoryUpdate {
    this.samples.push(nowMs, ttl);
    const windowMs = Math.max(this.minWindowMs, 2 * 1000 * (this.estimate ?? ttl) + this.intervalMs);
    const kept: number[] = [];
    let windowMax = -Infinity;
    for (let i = 0; i < this.samples.length; i += 2) {
      const atMs = this.samples[i] as number;
      const sampled = this.samples[i + 1] as number;
      if (nowMs - atMs > windowMs) continue;
      kept.push(atMs, sampled);
      windowMax = Math.max(windowMax, sampled);
    }
    this.samples = kept;

    let ttlChanged = false;
    const tolerance = this.intervalMs / 1000;
    if (this.estimate === null) {
      this.estimate = windowMax;
    } else if (Math.abs(windowMax - this.estimate) > tolerance) {
      ttlChanged = true;
      this.estimate = windowMax;
    } else if (windowMax > this.estimate) {
      // Within countdown noise: a refinement of the estimate, not drift.
      this.estimate = windowMax;
    }

    const key = [...addresses].sort().join(',');
    const addressesChanged = this.addresses !== null && this.addresses !== key;
    if (this.addresses === null || addressesChanged) this.addressSetSinceMs = nowMs;
    this.addresses = key;

    return { ttlMax: this.estimate, ttlChanged, addressesChanged, addressSetSinceMs: this.addressSetSinceMs };
  }
}
