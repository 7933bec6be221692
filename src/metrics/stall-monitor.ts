// How late the event loop runs a timer due every 10 ms: the stall a probe's
// timestamps may carry. Measured continuously (prom-client's lag metric is
// sampled at scrape time and mostly shows the scrape itself).
import { performance } from 'node:perf_hooks';
import { HistogramData, header, sampleLine } from './exposition.js';
import type { FamilyDef } from './exposition.js';

const TICK_MS = 10;
const SLOT_MS = 10_000;
const SLOTS = 6;

const STALLS: FamilyDef = {
  name: 'egress_exporter_event_loop_stall_seconds',
  help: 'How late the probing thread ran a timer due every 10 ms: a measurement taken during a stall carries it.',
  type: 'histogram',
};
const STALL_MAX: FamilyDef = {
  name: 'egress_exporter_event_loop_stall_max_seconds',
  help: 'The largest event-loop stall of the last minute.',
  type: 'gauge',
};

export class StallMonitor {
  private readonly stalls = new HistogramData([0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
  /** Worst stall per 10 s slot, the last minute's. */
  private readonly slots = new Array<number>(SLOTS).fill(0);
  private slot = 0;
  private slotStarted = performance.now();
  private due = 0;
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    if (this.timer !== undefined) return;
    this.due = performance.now() + TICK_MS;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = performance.now();
    const late = Math.max(0, now - this.due) / 1000;
    this.due = now + TICK_MS;
    this.stalls.observe(late);
    if (now - this.slotStarted >= SLOT_MS) {
      this.slot = (this.slot + 1) % SLOTS;
      this.slots[this.slot] = 0;
      this.slotStarted = now;
    }
    if (late > (this.slots[this.slot] as number)) this.slots[this.slot] = late;
  }

  /** The largest stall of the last minute, in seconds. */
  get maxSeconds(): number {
    return Math.max(...this.slots);
  }

  render(): string {
    return `${header(STALLS)}${this.stalls.lines(STALLS.name, {})}${header(STALL_MAX)}${sampleLine(STALL_MAX.name, {}, this.maxSeconds)}`;
  }
}
