// The period of a cron `schedule`: the shortest gap between its next runs. The config
// checks `timeout` against it (a round must end before the next tick), and the scheduler
// spreads rounds over it. The shortest, not the next, gap: `0 9,17 * * *` ticks 8 h then
// 16 h apart, and every round must fit in the 8 h.
import cron from 'node-cron';

/** Enough runs to meet the short gap of an uneven expression (`* 9 * * *`: 59 one minute apart, then 23 h). */
const RUNS_LOOKED_AT = 8;

/** The shortest gap (ms) between the next runs of a valid cron expression; 60 s if it has fewer than two. */
export function cronPeriodMs(expression: string): number {
  const task = cron.createTask(expression, () => undefined);
  const runs = task.getNextRuns(RUNS_LOOKED_AT).map((d) => d.getTime());
  void task.destroy();
  let shortest = Infinity;
  for (let i = 1; i < runs.length; i += 1) shortest = Math.min(shortest, (runs[i] ?? 0) - (runs[i - 1] ?? 0));
  return Number.isFinite(shortest) ? shortest : 60_000;
}
