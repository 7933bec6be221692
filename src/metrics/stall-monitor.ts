// How late the event loop runs a timer due every 10 ms: the stall a probe's timestamps may
// carry. Measured continuously (prom-client's lag metric is reset at every scrape and mostly
// shows the scrape itself), by Node's native loop-delay monitor rather than a JavaScript
// timer: a 10 ms `setInterval` woke the thread into JavaScript 100 times a second, about
// 3 ms of CPU a second in an idle daemon (8.7 -> 5.7 ms/s with it gone), where the native
// timer fires beside prom-client's own at no measurable cost. What it saw is folded into
// the histogram every 10 s and at each scrape.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import { HistogramData, header, sampleLine } from './exposition.js';
import type { FamilyDef } from './exposition.js';

const RESOLUTION_MS = 10;
const SLOT_MS = 10_000;
const SLOTS = 6;
const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

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

/** Nanoseconds between two firings of the monitor's timer -> how late the second one was, in seconds. */
const lateness = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS) / 1000;

/**
 * The share of what `delays` recorded at or under `ns`: the largest percentile whose value
 * is within it (the native histogram keeps 3 significant digits, and answers percentiles,
 * not counts).
 */
function shareAtOrUnder(delays: IntervalHistogram, ns: number): number {
  if (delays.max <= ns) return 1;
  if (delays.min > ns) return 0;
  let low = 0;
  let high = 100;
  for (let i = 0; i < 24; i += 1) {
    const mid = (low + high) / 2;
    if (mid > 0 && delays.percentile(mid) <= ns) low = mid;
    else high = mid;
  }
  return low / 100;
}

export class StallMonitor {
  private readonly stalls = new HistogramData(BOUNDS);
  /** Worst stall per 10 s slot, the last minute's. */
  private readonly slots = new Array<number>(SLOTS).fill(0);
  private slot = 0;
  private delays: IntervalHistogram | undefined;
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    if (this.delays !== undefined) return;
    this.delays = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.delays.enable();
    this.timer = setInterval(() => this.nextSlot(), SLOT_MS);
    this.timer.unref();
  }

  stop(): void {
    this.fold();
    this.delays?.disable();
    this.delays = undefined;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Moves what the native monitor saw since the last fold into the histogram and the slot's worst. */
  private fold(): void {
    const delays = this.delays;
    if (delays === undefined || delays.count === 0) return;
    const count = delays.count;
    const cumulative = BOUNDS.map((bound) => Math.round(count * shareAtOrUnder(delays, (bound * 1000 + RESOLUTION_MS) * 1e6)));
    const sum = Math.max(0, count * (delays.mean / 1e6 - RESOLUTION_MS)) / 1000;
    this.stalls.add(cumulative, count, sum);
    const worst = lateness(delays.max);
    if (worst > (this.slots[this.slot] as number)) this.slots[this.slot] = worst;
    delays.reset();
  }

  private nextSlot(): void {
    this.fold();
    this.slot = (this.slot + 1) % SLOTS;
    this.slots[this.slot] = 0;
  }

  /** The largest stall of the last minute, in seconds. */
  get maxSeconds(): number {
    this.fold();
    return Math.max(...this.slots);
  }

  render(): string {
    const max = this.maxSeconds;
    return `${header(STALLS)}${this.stalls.lines(STALLS.name, {})}${header(STALL_MAX)}${sampleLine(STALL_MAX.name, {}, max)}`;
  }
}
