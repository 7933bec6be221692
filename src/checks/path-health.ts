// Whether a path reaches anything lately: what tells a path that drops one host (a
// firewall doing its job) from a path that is down (nothing answers through it). Fed by
// every judged round (round.ts) with the paths that must work, read when a path that must
// stay blocked goes silent (expectation.ts).
import { cronPeriodMs } from '../config/cron-period.js';
import type { Config } from '../config/types.js';
import { expectationOn } from '../model/types.js';
import { targetKey } from './report.js';
import type { PathReport, RoundReport } from './report.js';

interface Reach {
  ok: boolean;
  atMs: number;
}

/** Whether a path that must work got through in this round; undefined when no check tells (dns only, or the round stopped). */
function reachedOn(entry: PathReport): boolean | undefined {
  // Directly: an address accepted a connection. Through a proxy: the proxy tunnelled (200).
  if (entry.tcp !== undefined) return entry.tcp.ok || entry.tcp.families.some((f) => f.reachable > 0);
  if (entry.tls !== undefined) return entry.tls.handshake !== undefined;
  if (entry.http !== undefined) return entry.http.status !== undefined;
  return undefined;
}

/**
 * "Lately": the latest round of a target counts while it ended within two round periods
 * (the interval, or the cron schedule's period, which the scheduler spreads rounds over)
 * plus one check deadline. Every target runs a round each period, so a path that still
 * works has a fresh success in that window.
 */
export function healthWindowMs(config: Pick<Config, 'intervalMs' | 'schedule' | 'timeoutMs'>): number {
  const period = config.schedule === null ? config.intervalMs : cronPeriodMs(config.schedule);
  return 2 * period + config.timeoutMs;
}

/** The latest round's reach of each target that must work, per path name. One per daemon (and per `check` run); /probe reads the daemon's. */
export class PathHealth {
  private readonly byPath = new Map<string, Map<string, Reach>>();

  /** Takes what a judged round says of its paths that must work. */
  record(report: RoundReport): void {
    const key = targetKey(report.target);
    for (const entry of report.paths) {
      if (expectationOn(report.target, entry.path.name) === 'blocked') continue;
      const ok = reachedOn(entry);
      if (ok === undefined) continue;
      let targets = this.byPath.get(entry.path.name);
      if (targets === undefined) {
        targets = new Map<string, Reach>();
        this.byPath.set(entry.path.name, targets);
      }
      targets.set(key, { ok, atMs: report.finishedAtMs });
    }
  }

  /** How many targets that must work on `path` got through in their latest round, when it ended within `windowMs` before `nowMs`. */
  reaching(path: string, nowMs: number, windowMs: number): number {
    let n = 0;
    for (const reach of this.byPath.get(path)?.values() ?? []) if (reach.ok && reach.atMs >= nowMs - windowMs) n += 1;
    return n;
  }
}
