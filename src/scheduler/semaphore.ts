// Bounds how many checks run at once across all targets.
import { onAbort } from '../async/abort.js';

export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  get running(): number {
    return this.active;
  }

  /** Waits for a slot; resolves false (without a slot) if the signal aborts first. */
  acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.active < this.limit) {
      this.active += 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const grant = (): void => {
        forget();
        this.active += 1;
        resolve(true);
      };
      this.waiting.push(grant);
      const forget = onAbort(signal, () => {
        const at = this.waiting.indexOf(grant);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve(false);
      });
    });
  }

  release(): void {
    this.active -= 1;
    this.waiting.shift()?.();
  }
}
