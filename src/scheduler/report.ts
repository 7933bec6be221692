// What one round of one target found, judged across its paths: the state the
// exporter keeps (the latest per target) and everything else is a view of
// (metrics, the status page, logs, /probe and the check command).
import { hostPort } from '../host-port.js';
import type { CheckName, Family, Target } from '../model/types.js';
import type { DnsResult } from '../probes/dns.js';
import type { HttpResult } from '../probes/http.js';
import type { RegistryResult } from '../probes/registry.js';
import type { TcpResult } from '../probes/tcp.js';
import type { TlsResult } from '../probes/tls.js';
import type { ProbeOutcome } from '../probes/types.js';
import type { ProbePath } from './paths.js';

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
  paths: PathReport[];
}

export interface PathReport {
  path: ProbePath;
  tcp?: TcpResult;
  tls?: TlsResult;
  http?: HttpResult;
  /** The registry pull, on a target that is a registry. */
  registry?: RegistryResult;
  /** Decided across paths (judge.ts); undefined when there is no certificate. */
  intercepted?: boolean;
  /** Decided across paths (judge.ts); undefined when no HTTP answer came back. */
  downgraded?: boolean;
  /** When tls.requirements last ran on this path (this round or carried from an earlier one). */
  requirementsAtMs?: number;
  /** The default handshake those requirements were judged with (version, ALPN, issuer). */
  requirementsBasis?: string;
}

/** A target's identity: host and port (an IPv6 literal in brackets). */
export function targetKey(target: Pick<Target, 'host' | 'port'>): string {
  return hostPort(target.host, target.port);
}

/** The port every label leaves implicit: a target on 443 is known by its host alone. */
export const DEFAULT_TARGET_PORT = 443;

/**
 * The labels that name a target on its series: `host`, plus `port` when it is
 * not 443. Two targets on one host never share series, and the common case
 * reads exactly as before.
 */
export function targetLabels(target: Pick<Target, 'host' | 'port'>): { host: string; port?: string } {
  return target.port === DEFAULT_TARGET_PORT ? { host: target.host } : { host: target.host, port: String(target.port) };
}

/** How a target is shown to a person: the host on 443, else `host:port`. */
export function targetName(target: Pick<Target, 'host' | 'port'>): string {
  return target.port === DEFAULT_TARGET_PORT ? target.host : targetKey(target);
}

export interface CheckResult {
  check: CheckName;
  /** The resolver for dns (its series' `resolver` label), else the path (their `path` label). */
  path: string;
  outcome: ProbeOutcome;
}

/** A check's own labels, on its series and in its log lines: the dns check names the resolver it asked, every other check the path it went out by. */
export function checkLabels({ check, path }: Pick<CheckResult, 'check' | 'path'>): { check: CheckName; resolver: string } | { check: CheckName; path: string } {
  return check === 'dns' ? { check, resolver: path } : { check, path };
}

/** Every check result of a round that the target asked for. */
export function checkResults(report: RoundReport): CheckResult[] {
  const out: CheckResult[] = [];
  if (report.target.checks.includes('dns')) for (const dns of report.dns) out.push({ check: 'dns', path: dns.resolver, outcome: dns });
  for (const entry of report.paths) {
    for (const check of ['tcp', 'tls', 'http', 'registry'] as const) {
      const outcome = entry[check];
      if (outcome !== undefined) out.push({ check, path: entry.path.name, outcome });
    }
  }
  return out;
}
