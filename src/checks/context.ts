// What a round runs in, built one way for the daemon's scheduled rounds, /probe and
// the check command: the config, its trust, the probes, and the runner that gives each
// check its concurrency slot and its deadline (the scheduler's, or one for a round run
// on demand).
import type { Config } from '../config/types.js';
import type { Trust } from '../config/trust.js';
import { CidrSet } from '../cidr.js';
import type { Logger } from '../logging/logger.js';
import type { CheckName, Target } from '../model/types.js';
import { probeHttp } from '../probes/http/http.js';
import { probeDns } from '../probes/net/dns.js';
import { probeTcp, probeTcpTunnel } from '../probes/net/tcp.js';
import { probeRegistry } from '../probes/registry/registry.js';
import { probeTls } from '../probes/tls/tls.js';
import { PathHealth } from './path-health.js';
import type { RoundReport } from './report.js';

/** The probe functions a round calls; tests put their own in place of some. */
export interface ProbeSet {
  dns: typeof probeDns;
  tcp: typeof probeTcp;
  tcpTunnel: typeof probeTcpTunnel;
  http: typeof probeHttp;
  tls: typeof probeTls;
  registry: typeof probeRegistry;
}

export const DEFAULT_PROBES: ProbeSet = { dns: probeDns, tcp: probeTcp, tcpTunnel: probeTcpTunnel, http: probeHttp, tls: probeTls, registry: probeRegistry };

/** Names one run of a check, for the runner's log lines. */
export interface CheckRun {
  host: string;
  port: number;
  check: CheckName;
  /** The path, or for dns the resolver. */
  where: string;
}

/**
 * Runs each check of a round in a concurrency slot, under its deadline: the one
 * deadline of a check is the signal `run` is given (the scheduler's CheckRunner).
 */
export interface CheckRunner {
  /** Aborts when results would mean nothing (shutdown, a reload, a client gone): the round stops and reports no more. */
  readonly signal: AbortSignal;
  /** undefined when `signal` aborted; `abandoned` makes the result of a check that overran its deadline or threw. */
  run<T>(check: CheckRun, run: (signal: AbortSignal) => Promise<T>, abandoned: (reason: 'timeout' | 'internal_error', message: string, durationSeconds: number) => T): Promise<T | undefined>;
}

export interface RoundContext {
  config: Config;
  trust: Trust;
  runner: CheckRunner;
  logger: Logger;
  probes: ProbeSet;
  /** Environment for `proxy: env` (HTTPS_PROXY, NO_PROXY). */
  env: NodeJS.ProcessEnv;
  /** dns.sinkhole_cidrs as a matcher, when set; else each resolver's built-in policy. */
  sinkhole: ((address: string) => boolean) | undefined;
  /** The target's latest judged round: its TLS requirement verdicts and DNS history carry over. Absent: a round with no past. */
  previous: (target: Target) => RoundReport | undefined;
  /** What the paths reach lately: tells a path that drops a host that must stay blocked from a dead one (expectation.ts). Rounds record into it. */
  pathHealth: PathHealth;
  now: () => number;
}

/** What the daemon, /probe and the check command know before a round: the rest comes from here. */
export interface RoundSetup {
  config: Config;
  trust: Trust;
  logger: Logger;
  /** Probes put in place of the defaults (tests). */
  probes?: Partial<ProbeSet>;
  env?: NodeJS.ProcessEnv;
  previous?: (target: Target) => RoundReport | undefined;
  /** Shared across the rounds it is given to (the daemon's survives reloads, /probe reads it); default: one of this context's own. */
  pathHealth?: PathHealth;
  now?: () => number;
}

/** dns.sinkhole_cidrs as a matcher; undefined leaves each resolver's built-in policy. */
function sinkholeFromConfig(config: Config): ((address: string) => boolean) | undefined {
  if (config.dns.sinkholeCidrs === null) return undefined;
  const ranges = new CidrSet(config.dns.sinkholeCidrs);
  return (address) => ranges.contains(address);
}

export function roundContext(setup: RoundSetup, runner: CheckRunner): RoundContext {
  return {
    config: setup.config,
    trust: setup.trust,
    runner,
    logger: setup.logger,
    probes: { ...DEFAULT_PROBES, ...setup.probes },
    env: setup.env ?? process.env,
    sinkhole: sinkholeFromConfig(setup.config),
    previous: setup.previous ?? (() => undefined),
    pathHealth: setup.pathHealth ?? new PathHealth(),
    now: setup.now ?? Date.now,
  };
}
