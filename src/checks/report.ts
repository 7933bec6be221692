// What one round of one target found, judged across its paths: the state the
// exporter keeps (the latest per target) and everything else is a view of
// (metrics, the status page, logs, /probe and the check command).
import { hostPort } from '../host-port.js';
import type { CheckName, Family, Target } from '../model/types.js';
import type { DnsResult } from '../probes/net/dns.js';
import type { HttpResult } from '../probes/http/http.js';
import type { ProxySpec } from '../probes/net/proxy.js';
import type { RegistryResult } from '../probes/registry/registry.js';
import type { TcpResult } from '../probes/net/tcp.js';
import type { TlsResult } from '../probes/tls/tls.js';
import type { ProbeOutcome } from '../probes/types.js';
import type { DnsHistory } from './dns-history.js';

/** One way out: straight to the host, or through a proxy. */
export interface ProbePath {
  /** The `path` label: direct, proxy, or a name from `proxies`. */
  name: string;
  /** null: straight to the host. */
  proxy: ProxySpec | null;
  /** A TLS-inspecting proxy by design: interception there is expected. */
  expectInterception: boolean;
}

/**
 * The verdict on a path that must stay blocked (expectation.ts): `blocked` (it held),
 * `reachable` (a connection to the host got out: a hole in the egress policy) or `unknown`
 * (could not tell: a silence on a path that reaches nothing else, a failing resolver or proxy).
 */
export type BlockedVerdict = 'blocked' | 'reachable' | 'unknown';
export const BLOCKED_VERDICTS: readonly BlockedVerdict[] = ['blocked', 'reachable', 'unknown'];

export interface BlockedJudgement {
  verdict: BlockedVerdict;
  /** The check whose result decided it; undefined when no check ran on the path. */
  check?: CheckName;
  /** What got out, how it was kept out, or why it cannot be told: for people (status page, check, /probe). */
  detail: string;
}

/** The result of each check that runs over a path (path-checks.ts lists them, in the order they run). */
export interface PathResults {
  tcp: TcpResult;
  http: HttpResult;
  tls: TlsResult;
  /** The registry pull, on a target that is a registry. */
  registry: RegistryResult;
}
export type PathCheckName = keyof PathResults;

export interface PathReport extends Partial<PathResults> {
  path: ProbePath;
  /** Decided across paths (judge.ts); undefined when there is no certificate. */
  intercepted?: boolean;
  /** Decided across paths (judge.ts); undefined when no HTTP answer came back. */
  downgraded?: boolean;
  /** When tls.requirements last ran on this path (this round or carried from an earlier one). */
  requirementsAtMs?: number;
  /** The default handshake those requirements were judged with (version, cipher, group, ALPN, issuer). */
  requirementsBasis?: string;
  /** Decided across the round (expectation.ts), on a path that must stay blocked only; absent on a path that must work. */
  blocked?: BlockedJudgement;
}

/** What one resolver's answers of one record type showed over the rounds (dns-judgement.ts). */
export interface DnsRecordJudgement {
  resolver: string;
  type: 'A' | 'AAAA';
  family: Family;
  /** The configured TTL behind a caching resolver's countdown: the largest TTL seen lately. Absent until an answer with a TTL. */
  ttlMax?: number;
  /** This round's answer moved that estimate: TTL drift. */
  ttlChanged: boolean;
  /** The estimate is shorter than dns.firewall_refresh_interval: IP-based rules go stale. Absent while that is unset, or without an estimate. */
  ttlBelowRefresh?: boolean;
  /** This round's address set differs from the last answered one. */
  addressesChanged: boolean;
  /** When the address set last changed (or was first seen), in ms since the epoch. Absent until an answer. */
  addressSetSinceMs?: number;
  /** Addresses of this round's answer outside dns.allowlist_cidrs; absent while that is unset. */
  outsideAllowlist?: number;
  /** The samples the estimate comes from, carried to the target's next round. */
  history?: DnsHistory;
}

export interface RoundReport {
  target: Target;
  startedAtMs: number;
  /** When the round's last check finished (its results' timestamp). */
  finishedAtMs: number;
  durationSeconds: number;
  /** Addresses used on the direct path, per family. */
  addresses: Partial<Record<Family, string[]>>;
  /** Every resolver's answer (asked for addresses even when the dns check is not wanted). */
  dns: DnsResult[];
  /** What the dns check's answers mean over time, per resolver and record type; empty when the dns check is not wanted. */
  dnsJudgements: DnsRecordJudgement[];
  /**
   * Whether the target's clients resolve its name themselves (judge.ts dnsRequired): only
   * then does a failed lookup fail the round. Behind a proxy that resolves for them, it is a
   * fact to show. Absent until judged.
   */
  dnsRequired?: boolean;
  paths: PathReport[];
}

/** A target's identity: host and port (an IPv6 literal in brackets). */
export function targetKey(target: Pick<Target, 'host' | 'port'>): string {
  return hostPort(target.host, target.port);
}

/** How a target is shown to a person: the host on 443, else `host:port`. */
export function targetName(target: Pick<Target, 'host' | 'port'>): string {
  return target.port === 443 ? target.host : targetKey(target);
}

/** Where a check's result was taken: the dns check through a resolver, every other check over a path. */
export type CheckWhere = { resolver: string } | { path: string };

export interface CheckResult {
  check: CheckName;
  where: CheckWhere;
  outcome: ProbeOutcome;
}

/** The resolver or path a result was taken through, as one string (a key, a log field). */
export function whereName(where: CheckWhere): string {
  return 'resolver' in where ? where.resolver : where.path;
}
