// The stall monitor sees a blocked event loop: the native monitor's readings folded into the
// histogram and the minute's worst.
import { afterEach, describe, expect, it } from 'vitest';
import { StallMonitor } from './stall-monitor.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Holds the thread for `ms`, as a stall does. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: the event loop runs nothing meanwhile
  }
}

function buckets(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const match of text.matchAll(/^egress_exporter_event_loop_stall_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)) out.set(match[1] as string, Number(match[2]));
  return out;
}

describe('StallMonitor', () => {
  const monitor = new StallMonitor();
  afterEach(() => monitor.stop());

  it('counts a 150 ms stall once, in its bucket, and as the worst of the minute', async () => {
    monitor.start();
    await sleep(100);
    block(150);
    await sleep(100);
    const worst = monitor.maxSeconds;
    expect(worst).toBeGreaterThanOrEqual(0.14);
    expect(worst).toBeLessThan(1);
    const text = monitor.render();
    const counts = buckets(text);
    const count = Number(/^egress_exporter_event_loop_stall_seconds_count (\d+)$/m.exec(text)?.[1]);
    expect(count).toBeGreaterThan(5);
    expect(counts.get('+Inf')).toBe(count);
    // The timer the stall held is over 0.1 s late; the others were on time, give or take.
    expect(counts.get('0.1')).toBeLessThan(count);
    expect(counts.get('0.01')).toBeGreaterThan(0);
    const sum = Number(/^egress_exporter_event_loop_stall_seconds_sum (\S+)$/m.exec(text)?.[1]);
    expect(sum).toBeGreaterThanOrEqual(0.14);
    expect(Number(/^egress_exporter_event_loop_stall_max_seconds (\S+)$/m.exec(text)?.[1])).toBe(worst);
  });

  it('keeps what it saw when read twice, and adds only what is new', async () => {
    monitor.start();
    await sleep(60);
    const first = Number(/_count (\d+)/.exec(monitor.render())?.[1]);
    const again = Number(/_count (\d+)/.exec(monitor.render())?.[1]);
    expect(again).toBe(first);
    await sleep(60);
    expect(Number(/_count (\d+)/.exec(monitor.render())?.[1])).toBeGreaterThan(first);
  });
});
