// Owns timing, spread, concurrency and deadlines: when each target's round starts,
// how many checks run at once, and how long each may take. Every target has a stable
// slot in the interval (a hash of host and port), so 1,000 hosts' rounds are spread
// evenly over it instead of bursting at its start; a target's rounds never overlap.
// Interval mode uses its own timers; cron mode uses node-cron. In both, the first round
// after a start or a reload comes early (readiness must not wait for a slot or a tick).
// Each finished round goes into the result store, and state changes are logged; at
// debug level, every round's start and end too.
import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import { onAbort } from '../async/abort.js';
import { hostPhase, nextSlotMs, slotAfterMs } from '../async/slots.js';
import { roundContext } from '../checks/context.js';
import { roundOk } from '../checks/judge.js';
import { checkResults } from '../checks/path-checks.js';
import type { RoundContext, RoundSetup } from '../checks/context.js';
import { targetKey } from '../checks/report.js';
import { runRound } from '../checks/round.js';
import { cronPeriodMs } from '../config/cron-period.js';
import type { Logger } from '../logging/logger.js';
import type { Target } from '../model/types.js';
import type { ResultStore, StateChange } from '../state/result-store.js';
import { CheckRunner } from './check-runner.js';
import { Semaphore } from './semaphore.js';

/** The first round after a start or reload spreads over at least this much (at most half an interval), so readiness comes early. */
const MIN_FIRST_SPREAD_MS = 5000;
/**
 * And over this much per target. A first round runs every TLS requirement handshake
 * (about 15 ms of CPU per target here): 1,000 targets crammed into 5 s kept the loop
 * 15-45 ms late for the 13 s they took, and every probe timestamp carried it.
 */
const FIRST_SPREAD_PER_TARGET_MS = 30;

/** The window the first round's starts spread over. */
export function spreadMs(intervalMs: number, targets: number): number {
  return Math.min(intervalMs / 2, Math.max(MIN_FIRST_SPREAD_MS, targets * FIRST_SPREAD_PER_TARGET_MS));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      forget();
      resolve();
    };
    const timer = setTimeout(done, ms);
    const forget = onAbort(signal, done);
  });
}

export interface SchedulerOptions {
  targets: readonly Target[];
  /** What the rounds run with; each round reads its target's previous one from `results`. */
  setup: Omit<RoundSetup, 'previous'>;
  /** Where finished rounds go, and rounds skipped because the target's previous one still ran are counted. */
  results: ResultStore;
}

export class Scheduler {
  private readonly controller = new AbortController();
  /** Every loop or pending round, so stop() can wait for all of them. */
  private readonly inflight = new Set<Promise<void>>();
  private readonly running = new Set<string>();
  /**
   * Rounds under way at once. A round holds its report, sockets and promises from its first
   * check to its last; when more rounds are due than the checks' slots serve (every first
   * round, each with every TLS requirement handshake, at thousands of targets) the rest wait
   * here, costing a promise each, instead of all starting and holding their state while
   * their checks queue (5,000 first rounds: 30-70 MB of heap).
   */
  private readonly admitted: Semaphore;
  private readonly firstRoundPending: Set<string>;
  private cronTask: ScheduledTask | undefined;
  private readyResolve: (() => void) | undefined;
  /** Resolves once every target finished its first round. */
  readonly firstRound: Promise<void>;

  constructor(private readonly options: SchedulerOptions) {
    const { config, logger } = options.setup;
    const runner = new CheckRunner({ limiter: new Semaphore(config.concurrency), timeoutMs: config.timeoutMs, signal: this.controller.signal, logger });
    // Twice the checks at once: a round between two checks (or judging) holds no slot.
    this.admitted = new Semaphore(2 * config.concurrency);
    this.context = roundContext({ ...options.setup, previous: (target) => options.results.get(target)?.report }, runner);
    this.firstRoundPending = new Set(options.targets.map(targetKey));
    this.firstRound = new Promise((resolve) => {
      this.readyResolve = resolve;
    });
    if (this.firstRoundPending.size === 0) this.readyResolve?.();
  }

  get ready(): boolean {
    return this.firstRoundPending.size === 0;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  private readonly context: RoundContext;

  start(): void {
    const { config } = this.options.setup;
    if (config.schedule !== null) this.startCron(config.schedule);
    else for (const target of this.options.targets) this.track(this.intervalLoop(target, config.intervalMs));
  }

  /** Runs every target's round once, now, in parallel (concurrency still bounded). */
  async runOnce(): Promise<void> {
    await Promise.all(this.options.targets.map((target) => this.round(target)));
  }

  /** Stops scheduling, aborts in-flight checks, and waits for them to settle. */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.cronTask?.destroy();
    await Promise.all(this.inflight);
  }

  private track(work: Promise<void>): void {
    const tracked = work
      .catch((error: unknown) => this.options.setup.logger.error({ err: error }, 'round failed: this is a bug'))
      .finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }

  private async round(target: Target): Promise<void> {
    const key = targetKey(target);
    const { logger } = this.options.setup;
    // Tested once a round: above debug, a round costs no log work.
    const debug = logger.isLevelEnabled('debug');
    if (this.running.has(key)) {
      if (debug) logger.debug({ host: target.host, port: target.port }, 'round skipped: the previous one still runs');
      this.options.results.overrun(target);
      return;
    }
    this.running.add(key);
    if (!(await this.admitted.acquire(this.controller.signal))) {
      this.running.delete(key);
      return;
    }
    try {
      if (debug) logger.debug({ host: target.host, port: target.port }, 'round started');
      const report = await runRound(target, this.context);
      // A round cut short by shutdown or reload says nothing about the network.
      if (this.controller.signal.aborted) return;
      if (debug) {
        const failed = checkResults(report).filter((r) => !r.outcome.ok).length;
        logger.debug({ host: target.host, port: target.port, duration_seconds: report.durationSeconds, ok: roundOk(report), failed_checks: failed }, 'round finished');
      }
      logStateChanges(logger, target, this.options.results.put(report));
    } finally {
      this.admitted.release();
      this.running.delete(key);
    }
    if (this.firstRoundPending.delete(key) && this.firstRoundPending.size === 0) this.readyResolve?.();
  }

  private async intervalLoop(target: Target, intervalMs: number): Promise<void> {
    const signal = this.controller.signal;
    const phase = hostPhase(targetKey(target));
    // The first round comes early (readiness); the next ones in the target's slot.
    let due = Date.now() + phase * spreadMs(intervalMs, this.options.targets.length);
    while (!signal.aborted) {
      await sleep(due - Date.now(), signal);
      if (signal.aborted) return;
      await this.round(target);
      let next = slotAfterMs(due, intervalMs, phase);
      const now = Date.now();
      if (next <= now) {
        // The round ran past its next start: skip the missed slots instead of bunching them up.
        const resume = nextSlotMs(now, intervalMs, phase);
        const missed = Math.round((resume - next) / intervalMs);
        for (let i = 0; i < missed; i += 1) this.options.results.overrun(target);
        next = resume;
      }
      due = next;
    }
  }

  private startCron(expression: string): void {
    const { targets } = this.options;
    const signal = this.controller.signal;
    const periodMs = cronPeriodMs(expression);
    // The first round comes early, as in interval mode: waiting for the first tick kept
    // `*/5 * * * *` unready for up to ten minutes. Its start is kept until the target's
    // first tick, which it stands in for when it is still to come or began less than half
    // a period before (NaN: still to come).
    const early = new Map<string, number>();
    for (const target of targets) {
      const key = targetKey(target);
      early.set(key, NaN);
      const wait = hostPhase(key) * spreadMs(periodMs, targets.length);
      this.track(
        sleep(wait, signal).then(() => {
          if (signal.aborted) return undefined;
          if (early.has(key)) early.set(key, Date.now());
          return this.round(target);
        }),
      );
    }
    // Spread over the schedule's period, less one deadline, so a round ends before the next tick.
    const spread = Math.max(0, periodMs - this.options.setup.config.timeoutMs);
    this.cronTask = cron.schedule(
      expression,
      () => {
        for (const target of targets) {
          const key = targetKey(target);
          const wait = hostPhase(key) * spread;
          this.track(
            sleep(wait, signal).then(() => {
              if (signal.aborted) return undefined;
              const startedMs = early.get(key);
              early.delete(key);
              if (startedMs !== undefined && (Number.isNaN(startedMs) || Date.now() - startedMs < periodMs / 2)) return undefined;
              return this.round(target);
            }),
          );
        }
      },
      { name: 'egress-rounds' },
    );
  }
}

function logStateChanges(logger: Logger, target: Target, changes: readonly StateChange[]): void {
  for (const { result, previous } of changes) {
    const labels = { host: target.host, port: target.port, check: result.check, ...result.where };
    const from = previous ? (previous.outcome.ok ? 'up' : `down (${previous.outcome.reason})`) : 'unknown';
    if (result.outcome.ok) logger.info({ ...labels, from, state: 'up' }, 'check state changed');
    else logger.warn({ ...labels, from, state: 'down', reason: result.outcome.reason, detail: result.outcome.message }, 'check state changed');
  }
}
