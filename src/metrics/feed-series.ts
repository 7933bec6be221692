// The address feed's series: per named list (feed.lists) its size, when its addresses
// last changed and whether it is over a limit, and when the feed's state was last saved.
// A list asked for by query (/addresses?host=...) has none: it has no name to label.
// Cost: 4 series a named list, plus 1.
import { header, sampleLine } from './exposition.js';
import type { FamilyDef } from './exposition.js';

const g = (name: string, help: string): FamilyDef => ({ name, help, type: 'gauge' });

export const FEED_FAMILIES = {
  addresses: g('egress_feed_addresses', 'Addresses in the named list of the address feed (feed.lists), as a firewall pulling it now gets them.'),
  bytes: g('egress_feed_bytes', 'Size of the named list as plain text, one address a line: what feed.max_bytes limits.'),
  lastChange: g('egress_feed_last_change_timestamp_seconds', 'When an address last entered or left the named list (seen by this process, within a second).'),
  overLimit: g('egress_feed_over_limit', '1 when the named list exceeds feed.max_addresses or feed.max_bytes: it is refused (503), never cut short.'),
  stateSaved: g('egress_feed_state_saved_timestamp_seconds', 'When the feed state was last written to --storage.path (or read back at start); 0 when it never was, or is kept in memory only.'),
} as const satisfies Record<string, FamilyDef>;

/** What the series show, from the feed (src/feed/address-feed.ts). */
export interface FeedSeriesFacts {
  lists: ReadonlyArray<{ name: string; addresses: number; bytes: number; lastChangeMs: number; overLimit: boolean }>;
  savedAtMs: number | null;
}

export function renderFeedSeries(facts: FeedSeriesFacts): string {
  let out = '';
  if (facts.lists.length > 0) {
    const family = (def: FamilyDef, value: (list: FeedSeriesFacts['lists'][number]) => number): string =>
      header(def) + facts.lists.map((list) => sampleLine(def.name, { list: list.name }, value(list))).join('');
    out += family(FEED_FAMILIES.addresses, (l) => l.addresses);
    out += family(FEED_FAMILIES.bytes, (l) => l.bytes);
    out += family(FEED_FAMILIES.lastChange, (l) => l.lastChangeMs / 1000);
    out += family(FEED_FAMILIES.overLimit, (l) => (l.overLimit ? 1 : 0));
  }
  return out + header(FEED_FAMILIES.stateSaved) + sampleLine(FEED_FAMILIES.stateSaved.name, {}, (facts.savedAtMs ?? 0) / 1000);
}
