// The exporter's state: the latest judged round of every target, and how many of its
// rounds were skipped because the previous one still ran. Scrapes never probe: the
// metrics view, the status page, readiness and the logs read what is here. Listeners
// follow every change; nothing else keeps a copy of these facts.
import { checkResults } from '../checks/path-checks.js';
import { targetKey, whereName } from '../checks/report.js';
import type { CheckResult, RoundReport } from '../checks/report.js';
import type { Target } from '../model/types.js';
import { StringPool } from './shared-strings.js';

export interface TargetState {
  target: Target;
  /** The latest judged round; undefined until the first one finished. */
  report: RoundReport | undefined;
  /** Rounds skipped because the target's previous round was still running, since it was first configured. */
  overruns: number;
}

export interface StateChange {
  result: CheckResult;
  /** undefined: the first result of this check and path. */
  previous: CheckResult | undefined;
}

export interface ResultListener {
  /** A target appeared, or a reload changed its definition. */
  targetSet(state: TargetState): void;
  /** A round finished and replaced the target's report; `changes`: the checks whose state (ok, reason) moved. */
  reported(state: TargetState, changes: readonly StateChange[]): void;
  /** A round of the target was skipped (state.overruns counts them). */
  overran?(state: TargetState): void;
  /** The target left the config: it has no series any more. */
  removed(key: string): void;
}

const resultKey = (r: CheckResult): string => `${r.check}\u0000${whereName(r.where)}`;

export class ResultStore {
  private readonly states = new Map<string, TargetState>();
  private readonly listeners: ResultListener[] = [];
  /** One copy of the strings targets' reports hold alike. */
  private readonly strings = new StringPool();

  listen(listener: ResultListener): void {
    this.listeners.push(listener);
    for (const state of this.states.values()) listener.targetSet(state);
  }

  /** Declares the targets: new ones are added, changed ones updated, the rest removed with their results. */
  setTargets(targets: readonly Target[]): void {
    const keys = new Set<string>();
    for (const target of targets) {
      const key = targetKey(target);
      keys.add(key);
      const state = this.states.get(key) ?? { target, report: undefined, overruns: 0 };
      state.target = target;
      this.states.set(key, state);
      for (const listener of this.listeners) listener.targetSet(state);
    }
    for (const key of [...this.states.keys()]) {
      if (keys.has(key)) continue;
      this.states.delete(key);
      for (const listener of this.listeners) listener.removed(key);
    }
  }

  /** Stores a judged round; returns the checks whose state (ok, reason) moved. A round of a target no longer configured is dropped. */
  put(report: RoundReport): StateChange[] {
    const state = this.states.get(targetKey(report.target));
    if (state === undefined) return [];
    const before = new Map((state.report ? checkResults(state.report) : []).map((r) => [resultKey(r), r]));
    this.strings.shareReport(report, state.report);
    state.report = report;
    const changes: StateChange[] = [];
    for (const result of checkResults(report)) {
      const previous = before.get(resultKey(result));
      if (previous && previous.outcome.ok === result.outcome.ok && previous.outcome.reason === result.outcome.reason) continue;
      changes.push({ result, previous });
    }
    for (const listener of this.listeners) listener.reported(state, changes);
    return changes;
  }

  /** Counts a round of the target skipped because its previous one still ran. */
  overrun(target: Pick<Target, 'host' | 'port'>): void {
    const state = this.states.get(targetKey(target));
    if (state === undefined) return;
    state.overruns += 1;
    for (const listener of this.listeners) listener.overran?.(state);
  }

  get(target: Pick<Target, 'host' | 'port'>): TargetState | undefined {
    return this.states.get(targetKey(target));
  }

  all(): TargetState[] {
    return [...this.states.values()];
  }
}
