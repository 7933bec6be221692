// One path of one round: what its checks share and read of each other. Each check
// runs through `run` (a concurrency slot and the check's deadline, from the round's
// runner) and finds here the results of the checks before it, the path's dial plan
// and the handshake the http check offers the tls check.
import type { CheckName, Target } from '../model/types.js';
import type { SharedDefaultHandshake } from '../probes/tls/tls.js';
import type { RoundContext } from './context.js';
import { planPath } from './dial-plan.js';
import type { Plan } from './dial-plan.js';
import type { PathReport, PathResults, RoundReport } from './report.js';

export class PathRun {
  private planned: Plan | undefined;
  /** The http check's handshake, set by the http check when the tls check may judge it as its own default one. */
  shared: SharedDefaultHandshake | undefined;

  constructor(
    readonly target: Target,
    readonly ctx: RoundContext,
    /** The round so far: its DNS answers and the addresses they gave. */
    readonly report: RoundReport,
    /** This path's results so far. */
    readonly entry: PathReport,
    /** This path in the target's last judged round. */
    readonly previous: PathReport | undefined,
  ) {}

  get path(): PathReport['path'] {
    return this.entry.path;
  }

  wants(check: CheckName): boolean {
    return this.target.checks.includes(check);
  }

  /** The dial every tls, http and registry connection of the path uses, or why they cannot run. Decided once, after the tcp check. */
  get plan(): Plan {
    this.planned ??= planPath(this.target, this.path, this.report.addresses, this.entry.tcp);
    return this.planned;
  }

  /** Runs one check of this path in the round's runner; undefined when the round was stopped. */
  run<T>(check: CheckName, run: (signal: AbortSignal) => Promise<T>, abandoned: (reason: 'timeout' | 'internal_error', message: string, durationSeconds: number) => T): Promise<T | undefined> {
    return this.ctx.runner.run({ host: this.target.host, port: this.target.port, check, where: this.path.name }, run, abandoned);
  }
}

/**
 * A check that runs over a path: one file each, listed in path-checks.ts in the order
 * they run. `run` resolves to undefined only when the round was stopped.
 */
export interface PathCheck<K extends keyof PathResults> {
  readonly name: K;
  /** Whether the target asks for it. */
  wanted(target: Target): boolean;
  run(path: PathRun): Promise<PathResults[K] | undefined>;
}
