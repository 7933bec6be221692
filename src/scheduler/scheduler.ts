// Owns timing: when each target's round starts, spread by a per-host offset so
// hosts are never probed in the same millisecond, with a target's rounds never
// overlapping. Interval mode uses its own timers; cron mode uses node-cron.
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import type { Target } from '../model/types.js';
import { runRound } from './round.js';
import type { RoundContext } from './round.js';

/** Offsets spread over at most this much, so the first round finishes early. */
const MAX_SPREAD_MS = 5000;

/** A stable fraction in [0, 1) per host: the same host keeps its slot across restarts. */
export function hostPhase(host: string): number {
  return createHash('sha256').update(host).digest().readUInt32BE(0) / 2 ** 32;
}

export function spreadMs(intervalMs: number): number {
  return Math.min(MAX_SPREAD_MS, intervalMs / 2);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export interface SchedulerOptions {
  targets: readonly Target[];
  context: Omit<RoundContext, 'signal'>;
}

export class Scheduler {
  private readonly controller = new AbortController();
  /** Every loop or pending round, so stop() can wait for all of them. */
  private readonly inflight = new Set<Promise<void>>();
  private readonly running = new Set<string>();
  private readonly firstRoundPending: Set<string>;
  private cronTask: ScheduledTask | undefined;
  private readyResolve: (() => void) | undefined;
  /** Resolves once every target finished its first round. */
  readonly firstRound: Promise<void>;

  constructor(private readonly options: SchedulerOptions) {
    // Every sleeping loop and in-flight check listens on this one signal.
    setMaxListeners(0, this.controller.signal);
    this.firstRoundPending = new Set(options.targets.map((t) => t.host));
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

  private get context(): RoundContext {
    return { ...this.options.context, signal: this.controller.signal };
  }

  start(): void {
    const { config } = this.options.context;
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
      .catch((error: unknown) => this.options.context.logger.error({ err: error }, 'round failed: this is a bug'))
      .finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }

  private async round(target: Target): Promise<void> {
    if (this.running.has(target.host)) {
      this.options.context.recorder.recordOverrun(target.host);
      return;
    }
    this.running.add(target.host);
    const start = process.hrtime.bigint();
    try {
      await runRound(target, this.context);
    } finally {
      this.running.delete(target.host);
    }
    if (this.controller.signal.aborted) return;
    this.options.context.recorder.recordRound(target.host, Number(process.hrtime.bigint() - start) / 1e9);
    if (this.firstRoundPending.delete(target.host) && this.firstRoundPending.size === 0) this.readyResolve?.();
  }

  private async intervalLoop(target: Target, intervalMs: number): Promise<void> {
    const signal = this.controller.signal;
    let next = Date.now() + hostPhase(target.host) * spreadMs(intervalMs);
    while (!signal.aborted) {
      await sleep(next - Date.now(), signal);
      if (signal.aborted) return;
      await this.round(target);
      next += intervalMs;
      const late = Date.now() - next;
      if (late > 0) {
        // The round ran past its next start: skip the missed slots instead of bunching them up.
        const missed = Math.ceil(late / intervalMs);
        for (let i = 0; i < missed; i += 1) this.options.context.recorder.recordOverrun(target.host);
        next += missed * intervalMs;
      }
    }
  }

  private startCron(expression: string): void {
    const { targets } = this.options;
    const spread = spreadMs(cronIntervalMs(expression));
    this.cronTask = cron.schedule(
      expression,
      () => {
        for (const target of targets) {
          this.track(sleep(hostPhase(target.host) * spread, this.controller.signal).then(() => (this.controller.signal.aborted ? undefined : this.round(target))));
        }
      },
      { name: 'egress-rounds' },
    );
  }
}

/** The gap between the next two runs of a cron expression (for jitter and TTL tolerance). */
export function cronIntervalMs(expression: string): number {
  const task = cron.createTask(expression, () => undefined);
  const [a, b] = task.getNextRuns(2);
  void task.destroy();
  return a && b ? b.getTime() - a.getTime() : 60_000;
}
