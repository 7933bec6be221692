// The `feed:` section: which answers the address feed lists (/addresses), how long an
// address stays listed after its last answer, how large a list a firewall takes, and the
// named lists a firewall pulls one URL each. Read with the kit of reader.ts; what it
// names (resolvers, hosts, labels) is checked against the rest of the file once that is read.
import { resolveTargets } from './targets.js';
import { FAMILIES } from '../model/types.js';
import type { Family } from '../model/types.js';
import { normaliseHost } from '../host-port.js';
import { formatDuration } from './duration.js';
import { parseResolverAddress } from './resolver-address.js';
import { describeValue, distinctListOf, duration, enumValue, firstTime, integer, leaf, listOf, mapping, mappingOf, oneOf } from './reader.js';
import type { Check, Fields, Value } from './reader.js';
import type { Config, FeedConfig, FeedListConfig } from './types.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

export const FEED_DEFAULTS = {
  /** FortiGate's external-resource connectors take about 5,000 lines and 1 MB. */
  maxAddresses: 5000,
  maxBytes: 1_000_000,
  /** Grace under a cron `schedule`, whose gaps the config does not state; with `interval`, the interval. */
  scheduleGraceMs: 5 * MINUTE_MS,
} as const;

export const FEED_LIMITS = {
  maxAddresses: 1_000_000,
  maxBytes: 100_000_000,
  graceMaxMs: DAY_MS,
} as const;

/** A list's name is a URL path segment, a label value and (with _v4/_v6) an nft set name. */
const LIST_NAME_RE = /^[a-z][a-z0-9_-]{0,31}$/;
const listName = leaf("a name of up to 32 lower-case letters, digits, '_' or '-', starting with a letter", (input) =>
  typeof input === 'string' && LIST_NAME_RE.test(input) ? input : undefined,
);

/** `system`, or a server as dns.servers writes it; its label name. Whether it is one of dns.servers is checked later. */
const resolverName = leaf('system or ip[:port]', (input) => {
  if (input === 'system') return 'system';
  return typeof input === 'string' ? parseResolverAddress(input)?.name : undefined;
});

const hostName = leaf('a host name or IP address', (input) => (typeof input === 'string' ? normaliseHost(input) : null));

const labelValues = mappingOf('a mapping of label names to strings', (_name, value): string | undefined =>
  typeof value.input === 'string' ? value.input : value.fail(`expected a string, got ${describeValue(value.input)}`),
);

function families(): Check<Family[]> {
  const list = distinctListOf(oneOf(FAMILIES), enumValue(FAMILIES));
  return (value) => {
    if (!Array.isArray(value.input) || value.input.length === 0) return value.fail(`expected a non-empty list of ${oneOf(FAMILIES)}, got ${describeValue(value.input)}`);
    const chosen = list(value) ?? [];
    return FAMILIES.filter((family) => chosen.includes(family));
  };
}

function nonEmpty<T>(what: string, check: Check<T[]>): Check<T[]> {
  return (value) => (Array.isArray(value.input) && value.input.length === 0 ? value.fail(`expected a non-empty list of ${what}, got an empty list`) : check(value));
}

function listEntry(): Check<FeedListConfig> {
  const once = firstTime<string>();
  return mapping('a mapping with at least a name key', (fields) => {
    const name = fields.at('name');
    const nameValue = name.required(listName);
    const hosts = fields.at('hosts').read(nonEmpty('host names', distinctListOf('host names', hostName))) ?? null;
    const labels = fields.at('labels').or({}, labelValues);
    const chosen = fields.at('families').or([...FAMILIES], families());
    if (nameValue !== undefined) once(nameValue, name);
    return nameValue === undefined ? undefined : { name: nameValue, hosts, labels, families: chosen };
  });
}

/** The section's keys; `intervalMs` is null under a cron schedule. */
export function readFeed(feed: Fields, intervalMs: number | null): FeedConfig {
  return {
    resolvers: feed.at('resolvers').read(nonEmpty('resolvers', distinctListOf('resolvers', resolverName))) ?? null,
    graceMs: feed.at('grace').or(intervalMs ?? FEED_DEFAULTS.scheduleGraceMs, duration(0, FEED_LIMITS.graceMaxMs)),
    maxAddresses: feed.at('max_addresses').or(FEED_DEFAULTS.maxAddresses, integer(1, FEED_LIMITS.maxAddresses)),
    maxBytes: feed.at('max_bytes').or(FEED_DEFAULTS.maxBytes, integer(1, FEED_LIMITS.maxBytes)),
    lists: feed.at('lists').or([], listOf('lists', listEntry())),
  };
}

/**
 * What the section names must exist in the rest of the file: each resolver among
 * dns.servers (or `system` when those are empty), each list's hosts among the targets,
 * and some target with all of a list's labels. Checked only where the keys it compares
 * with were read without a problem.
 */
export function checkFeedAgainstConfig(feed: Value, config: Config, file: Value): void {
  if (feed.unset) return;
  const resolvers = feed.child('resolvers');
  if (config.feed.resolvers !== null && resolvers.ok && file.child('dns').ok) {
    const names = config.dns.servers.length === 0 ? ['system'] : config.dns.servers.map((s) => s.name);
    config.feed.resolvers.forEach((name, i) => {
      if (!names.includes(name)) resolvers.child(i).fail(`${JSON.stringify(name)} is not a resolver of dns.servers (${names.join(', ')})`);
    });
  }
  const lists = feed.child('lists');
  if (lists.unset || !Array.isArray(lists.input) || !['catalog', 'targets', 'exclude', 'registries'].every((key) => file.child(key).ok)) return;
  const targets = resolveTargets(config);
  const hosts = new Set(targets.map((t) => t.host));
  lists.input.forEach((_, i) => {
    const at = lists.child(i);
    // A list with a problem of its own was left out, or may be: its names are not compared.
    const list = at.ok ? config.feed.lists.find((l) => l.name === (at.input as { name?: unknown }).name) : undefined;
    if (list === undefined) return;
    list.hosts?.forEach((host, j) => {
      if (!hosts.has(host)) at.child('hosts').child(j).fail(`${JSON.stringify(host)} is not a host of any target`);
    });
    const entries = Object.entries(list.labels);
    if (entries.length > 0 && !targets.some((t) => entries.every(([name, value]) => t.labels[name] === value))) {
      at.child('labels').fail(`no target has ${entries.map(([name, value]) => `${name}=${value}`).join(' and ')}`);
    }
  });
}

/** The section as the file writes it, for --config.check. */
export function renderFeed(feed: FeedConfig): Record<string, unknown> {
  return {
    ...(feed.resolvers === null ? {} : { resolvers: feed.resolvers }),
    grace: formatDuration(feed.graceMs),
    max_addresses: feed.maxAddresses,
    max_bytes: feed.maxBytes,
    lists: feed.lists.map((list) => ({
      name: list.name,
      ...(list.hosts === null ? {} : { hosts: list.hosts }),
      ...(Object.keys(list.labels).length === 0 ? {} : { labels: list.labels }),
      families: list.families,
    })),
  };
}
