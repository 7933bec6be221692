// What the config says about the feed, made ready for use: the resolvers chosen, the
// allowlist, the retention, the size limits and the named lists.
import { Allowlist } from '../checks/allowlist.js';
import type { Config, FeedListConfig } from '../config/types.js';
import type { Retention } from './retention.js';
import type { SizeLimits } from './size-limits.js';

export interface FeedSettings {
  /** Resolver names whose answers are listed; null: every resolver. */
  resolvers: ReadonlySet<string> | null;
  /** dns.allowlist_cidrs; null when unset (every address may be listed). */
  allowlist: Allowlist | null;
  retention: Retention;
  limits: SizeLimits;
  lists: readonly FeedListConfig[];
}

export function feedSettings(config: Config): FeedSettings {
  const allowlist = new Allowlist(config.dns.allowlistCidrs);
  return {
    resolvers: config.feed.resolvers === null ? null : new Set(config.feed.resolvers),
    allowlist: allowlist.enabled ? allowlist : null,
    retention: { refreshMs: config.dns.firewallRefreshIntervalMs ?? 0, graceMs: config.feed.graceMs },
    limits: { maxAddresses: config.feed.maxAddresses, maxBytes: config.feed.maxBytes },
    lists: config.feed.lists,
  };
}
