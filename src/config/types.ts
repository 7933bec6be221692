// The effective configuration: what the YAML file says, with defaults applied,
// durations in milliseconds and every value validated.
import type { CatalogName } from '../catalog/index.js';
import type { HistogramName } from '../model/histograms.js';
import type { TlsRequirement } from '../model/tls-requirements.js';
import type { Family, RegistryPull, Target } from '../model/types.js';

/** A DNS server to ask: `system` means the resolvers of /etc/resolv.conf. */
export interface ResolverAddress {
  /** Label value: `ip:port` (IPv6 as `[ip]:port`). */
  name: string;
  ip: string;
  port: number;
}

/** A `targets[]` entry of the config file: the part of a Target the user sets. */
export type TargetConfig = Pick<Target, 'host' | 'port' | 'serverName' | 'families' | 'checks' | 'labels' | 'http' | 'expectedIssuers' | 'privateCa' | 'tlsRequirements' | 'expect'>;

/** A named proxy to probe the hosts through; its name is the `path` label. */
export interface ProxyConfig {
  name: string;
  url: string;
  /** Interception is this proxy's job (a TLS-inspecting proxy): alerts may ignore it. */
  expectInterception: boolean;
}

/** Where a registry check reads its credentials: none, the environment, or a Docker config.json. */
export type { RegistryCredentialSource } from '../model/types.js';

/** A registry whose pull path is checked: ping, token, manifest, blob redirect, first blob bytes. */
export interface RegistryConfig extends RegistryPull {
  host: string;
  port: number;
}

/** A named list of the address feed: served at /addresses/<name>, with series of its own. */
export interface FeedListConfig {
  /** Lower-case letters, digits, '_' and '-': a URL path segment, a label value and an nft set name. */
  name: string;
  /** The hosts whose addresses it holds; null: every target. */
  hosts: string[] | null;
  /** Only targets with every one of these labels; empty: no condition. */
  labels: Record<string, string>;
  families: Family[];
}

/** The address feed for IP-based firewalls (/addresses). */
export interface FeedConfig {
  /** Resolver names (`system`, `ip:port`) whose answers are listed; null: every resolver. */
  resolvers: string[] | null;
  /** Added to every address's retention (last seen + TTL + firewall refresh + grace). */
  graceMs: number;
  /** A firewall list may hold at most this many addresses, and this many bytes as plain text. */
  maxAddresses: number;
  maxBytes: number;
  lists: FeedListConfig[];
}

export interface Config {
  catalog: CatalogName;
  /** Set when `schedule` is not: milliseconds between the starts of two rounds. */
  intervalMs: number;
  /** A cron expression (node-cron syntax, 5 or 6 fields); overrides intervalMs. */
  schedule: string | null;
  /** Hard deadline of one check, in milliseconds. */
  timeoutMs: number;
  /** Checks running at once, across all targets. */
  concurrency: number;
  dns: {
    /** Empty: the system's resolver. */
    servers: ResolverAddress[];
    /** How often IP-based firewall rules are refreshed; null: not compared (no such rules). */
    firewallRefreshIntervalMs: number | null;
    /** Normalised CIDRs (e.g. `104.16.0.0/13`); empty disables the allowlist metric. */
    allowlistCidrs: string[];
    /** Answers in these count as sinkholed, from every resolver. null: the built-in policy. */
    sinkholeCidrs: string[] | null;
    /** Whether clients resolve the targets' names themselves, so a failed lookup is a failure. null (auto): for a target with a direct path. */
    required: boolean | null;
  };
  tls: {
    caFile: string | null;
    /** CAs treated as public roots, beside the system's (a lab's own "public" CA). */
    publicCaFile: string | null;
    /** How often the requirement handshakes run; the default handshake runs every round. */
    requirementsIntervalMs: number;
    /** The requirements the config's own targets are judged on, unless a target sets its own (catalog hosts keep the catalog's). */
    requirements: TlsRequirement[];
  };
  metrics: {
    /** Latencies that also get a histogram (each costs buckets + 2 series per series of its gauge). */
    histograms: HistogramName[];
    /** Bucket bounds of every histogram, in seconds. */
    buckets: number[];
  };
  /** `env` (HTTPS_PROXY/NO_PROXY), `none`, or a proxy URL. Ignored when `proxies` is set. */
  proxy: string;
  /** Named proxies: every host is probed through each of them. */
  proxies: ProxyConfig[];
  /** Also probe directly when going through proxies. */
  compareDirect: boolean;
  web: {
    /** /probe may probe hosts outside the config (an open SSRF surface: off by default). */
    allowAnyTarget: boolean;
  };
  targets: TargetConfig[];
  exclude: string[];
  /** Registries whose pull path is checked; null: the catalog's (see resolveRegistries). */
  registries: RegistryConfig[] | null;
  feed: FeedConfig;
}
