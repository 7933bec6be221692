// Every check of a round runs here: in a concurrency slot, under its deadline, the one
// deadline a check has (the signal its probe is given). A probe that ignores it (a bug)
// is still settled by the watchdog shortly after. The scheduler's runner gives each check
// config.timeout; a round run on demand (/probe) also ends by a time of its own, so each
// of its checks gets the shorter of the two. At debug level every check is logged as it
// ends; above it the runner does no more than the level test (a hot path: 1,000 hosts).
import type { CheckRun, CheckRunner as Runner } from '../checks/context.js';
import type { Logger } from '../logging/logger.js';
import { withDeadline } from './deadline.js';
import { Semaphore } from './semaphore.js';

export interface CheckRunnerOptions {
  limiter: Semaphore;
  /** The check deadline (config.timeout). */
  timeoutMs: number;
  /** Aborts every check, and drops what they would have said (shutdown, reload, a client gone). */
  signal: AbortSignal;
  logger: Logger;
  /** On demand: every check ends by this time (ms since the epoch), with what it found by then. */
  endsAtMs?: number;
}

export class CheckRunner implements Runner {
  constructor(private readonly options: CheckRunnerOptions) {}

  get signal(): AbortSignal {
    return this.options.signal;
  }

  async run<T>(check: CheckRun, run: (signal: AbortSignal) => Promise<T>, abandoned: (reason: 'timeout' | 'internal_error', message: string, durationSeconds: number) => T): Promise<T | undefined> {
    const { limiter, signal, logger, endsAtMs } = this.options;
    if (!(await limiter.acquire(signal))) return undefined; // shutting down
    try {
      const ms = endsAtMs === undefined ? this.options.timeoutMs : Math.max(0, Math.min(this.options.timeoutMs, endsAtMs - Date.now()));
      const { value } = await withDeadline(run, ms, signal, (error) => {
        if (error === undefined) return abandoned('timeout', `check ignored its ${ms} ms deadline`, ms / 1000);
        logger.error({ ...check, err: error }, 'check threw: this is a bug');
        return abandoned('internal_error', error instanceof Error ? error.message : 'non-Error thrown', ms / 1000);
      });
      // A check cut short by shutdown says nothing about the network: drop it.
      if (signal.aborted) return undefined;
      if (logger.isLevelEnabled('debug')) logger.debug(checkLogFields(check, value), 'check finished');
      return value;
    } finally {
      limiter.release();
    }
  }
}

/** What a check's result says, in the fields of the state-change lines (host, port, check, path or resolver), and its outcome. */
export function checkLogFields(check: CheckRun, value: unknown): Record<string, unknown> {
  const fields: Record<string, unknown> = { host: check.host, port: check.port, check: check.check, [check.check === 'dns' ? 'resolver' : 'path']: check.where };
  // Every check's result is a probe outcome; the runner is generic over it (and imports nothing of probes/), so it looks.
  if (typeof value === 'object' && value !== null && 'ok' in value) {
    const outcome = value as { ok?: unknown; reason?: string; message?: string; durationSeconds?: number };
    fields.duration_seconds = outcome.durationSeconds;
    fields.result = outcome.ok === true ? 'ok' : 'failed';
    if (outcome.ok !== true) {
      fields.reason = outcome.reason;
      fields.detail = outcome.message;
    }
  }
  return fields;
}

export interface OnDemandRunnerOptions {
  config: { concurrency: number; timeoutMs: number };
  /** Stops the round (the client went away, shutdown): its checks say nothing then. */
  signal: AbortSignal;
  logger: Logger;
  /** Checks at once; default config.concurrency. */
  concurrency?: number;
  /** /probe: the round ends by then (ms since the epoch). */
  endsAtMs?: number;
}

/** The runner of a round run now, outside the schedule (/probe, the check command): its own concurrency, nothing shared with the scheduler's. */
export function onDemandRunner(options: OnDemandRunnerOptions): CheckRunner {
  const runner: CheckRunnerOptions = {
    limiter: new Semaphore(options.concurrency ?? options.config.concurrency),
    timeoutMs: options.config.timeoutMs,
    signal: options.signal,
    logger: options.logger,
  };
  if (options.endsAtMs !== undefined) runner.endsAtMs = options.endsAtMs;
  return new CheckRunner(runner);
}
