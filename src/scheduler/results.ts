// The exporter's state: the latest judged round of every target. Scrapes never
// probe: the metrics view, the status page, readiness and /probe read what is
// here. Listeners (the metrics view) follow every change; nothing else keeps a
// copy of these facts.
import type { Target } from '../model/types.js';
import { checkResults, targetKey } from './report.js';
import type { CheckResult, RoundReport } from './report.js';

export interface TargetState {
  target: Target;
  /** The latest judged round; undefined until the first one finished. */
  report: RoundReport | undefined;
}

export interface ResultListener {
  /** A target appeared, or a reload changed its definition. */
  targetSet(state: TargetState): void;
  /** A round finished and replaced the target's report. */
  reported(state: TargetState): void;
  /** The target left the config: it has no series any more. */
  removed(key: string): void;
}

export interface StateChange {
  result: CheckResult;
  /** undefined: the first result of this check and path. */
  previous: CheckResult | undefined;
}

export class ResultStore {
  private readonly states = new Map<string, TargetState>();
  private readonly listeners: ResultListener[] = [];

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
      const state = this.states.get(key) ?? { target, report: undefined };
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
    const before = new Map((state.report ? checkResults(state.report) : []).map((r) => [`${r.check}\u0000${r.path}`, r]));
    state.report = report;
    for (const listener of this.listeners) listener.reported(state);
    const changes: StateChange[] = [];
    for (const result of checkResults(report)) {
      const previous = before.get(`${result.check}\u0000${result.path}`);
      if (previous && previous.outcome.ok === result.outcome.ok && previous.outcome.reason === result.outcome.reason) continue;
      changes.push({ result, previous });
    }
    return changes;
  }

  get(target: Pick<Target, 'host' | 'port'>): TargetState | undefined {
    return this.states.get(targetKey(target));
  }

  all(): TargetState[] {
    return [...this.states.values()];
  }
}
