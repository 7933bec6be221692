// When the feed's state is saved: soon after it changes, but not more often than once
// every `minIntervalMs` (a round of a thousand targets changes it a thousand times),
// never two saves at once, and once more on shutdown with whatever changed since.
export class SaveSchedule {
  private dirty = false;
  private lastStartMs = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly save: () => Promise<void>,
    private readonly minIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The state changed: save it once the interval since the last save has passed. */
  changed(): void {
    this.dirty = true;
    if (this.closed || this.timer !== undefined || this.running !== undefined) return;
    const wait = Math.max(0, this.lastStartMs + this.minIntervalMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, wait);
    this.timer.unref();
  }

  /** Stops the timer and saves what changed since the last save; resolves when it is on disk. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    if (this.dirty) await this.run();
  }

  private run(): Promise<void> {
    this.dirty = false;
    this.lastStartMs = this.now();
    this.running = this.save().finally(() => {
      this.running = undefined;
      // Changed while saving: schedule the next one.
      if (this.dirty && !this.closed) this.changed();
    });
    return this.running;
  }
}
