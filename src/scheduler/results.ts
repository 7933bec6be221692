// The latest result of every host/check/path, for state-change logs, the
// status page and readiness. Scrapes never probe: they read what is here.
import type { ProbeOutcome } from '../probes/types.js';
import type { CheckName } from '../model/types.js';

export interface StoredResult {
  host: string;
  check: CheckName;
  path: string;
  outcome: ProbeOutcome;
  atMs: number;
}

export interface StateChange {
  previous?: StoredResult;
  current: StoredResult;
}

const keyOf = (host: string, check: string, path: string): string => `${host}\u0000${check}\u0000${path}`;

export class ResultStore {
  private readonly results = new Map<string, StoredResult>();

  /** Stores the result; returns the change when the state (ok, reason) moved. */
  put(result: StoredResult): StateChange | undefined {
    const key = keyOf(result.host, result.check, result.path);
    const previous = this.results.get(key);
    this.results.set(key, result);
    if (previous && previous.outcome.ok === result.outcome.ok && previous.outcome.reason === result.outcome.reason) return undefined;
    return { previous, current: result };
  }

  all(): StoredResult[] {
    return [...this.results.values()];
  }

  forHost(host: string): StoredResult[] {
    return this.all().filter((r) => r.host === host);
  }

  remove(host: string, check: string, path: string): void {
    this.results.delete(keyOf(host, check, path));
  }

  removeHost(host: string): void {
    for (const [key, result] of this.results) if (result.host === host) this.results.delete(key);
  }
}
