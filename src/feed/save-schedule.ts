// When the feed's state is saved. A change of what is listed (an address answered for the
// first time, one no longer in an answer, a hold beginning or ending, a target gone) is
// saved soon: within `soonMs` of the last save. A change of times alone (the same
// addresses seen again) waits up to `laterMs`: those addresses are seen again by the first
// round after a restart, and a thousand targets would otherwise rewrite megabytes every few
// seconds. Never two saves at once; on shutdown, once more with whatever changed since.
export type ChangeKind = 'listed' | 'times';

export class SaveSchedule {
  /** The most pressing unsaved change; undefined: nothing to save. */
  private pending: ChangeKind | undefined;
  private lastStartMs = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private dueMs = Number.POSITIVE_INFINITY;
  private running: Promise<void> | undefined;
  private closed = false;

  /** `save` must not reject. */
  constructor(
    private readonly save: () => Promise<void>,
    private readonly soonMs: number,
    private readonly laterMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  changed(kind: ChangeKind): void {
    if (this.pending !== 'listed') this.pending = kind;
    if (this.closed || this.running !== undefined) return;
    const due = this.lastStartMs + (this.pending === 'listed' ? this.soonMs : this.laterMs);
    if (due >= this.dueMs) return;
    clearTimeout(this.timer);
    this.dueMs = due;
    this.timer = setTimeout(() => void this.run(), Math.max(0, due - this.now()));
    this.timer.unref();
  }

  /** Stops the timer and saves what changed since the last save; resolves when it is on disk. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
    if (this.pending !== undefined) await this.run();
  }

  private run(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dueMs = Number.POSITIVE_INFINITY;
    this.pending = undefined;
    this.lastStartMs = this.now();
    this.running = this.save().finally(() => {
      this.running = undefined;
      // Changed while saving: schedule the next one.
      const kind = this.pending;
      if (kind !== undefined && !this.closed) this.changed(kind);
    });
    return this.running;
  }
}
