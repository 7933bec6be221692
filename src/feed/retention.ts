// How long an address stays listed after the last answer that held it: a client may
// have been given it then, cached it for its TTL, and the firewall only refreshes its
// rules every so often. `grace` covers the rest: the time between the exporter's last
// sighting and the last answer a client may have got (up to one interval).
import type { AnswerSet, Sighting } from './address-book.js';

export interface Retention {
  /** dns.firewall_refresh_interval; 0 when unset. */
  refreshMs: number;
  /** feed.grace. */
  graceMs: number;
}

/** When the sighting leaves the feed; Infinity while its answer set is held (no answer since). */
export function expiresAtMs(sighting: Sighting, set: AnswerSet, retention: Retention): number {
  if (set.held) return Number.POSITIVE_INFINITY;
  return Math.max(sighting.lastSeenMs, set.heldAtMs ?? 0) + sighting.ttlSeconds * 1000 + retention.refreshMs + retention.graceMs;
}

/** Listed at `nowMs`: not yet expired. */
export function isRetained(sighting: Sighting, set: AnswerSet, retention: Retention, nowMs: number): boolean {
  return expiresAtMs(sighting, set, retention) > nowMs;
}
