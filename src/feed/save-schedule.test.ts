import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SaveSchedule } from './save-schedule.js';

describe('SaveSchedule', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('saves once soon after a burst of changes, then at most once an interval', async () => {
    const saves: number[] = [];
    const schedule = new SaveSchedule(
      () => {
        saves.push(Date.now());
        return Promise.resolve();
      },
      5000,
    );
    for (let i = 0; i < 100; i += 1) schedule.changed();
    await vi.advanceTimersByTimeAsync(0);
    expect(saves).toEqual([0]);
    // Changes keep coming: the next save waits for the interval.
    await vi.advanceTimersByTimeAsync(1000);
    schedule.changed();
    await vi.advanceTimersByTimeAsync(3999);
    expect(saves).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(saves).toEqual([0, 5000]);
    // Nothing changed since: no save.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(saves).toEqual([0, 5000]);
    await schedule.close();
    expect(saves).toEqual([0, 5000]);
  });

  it('never runs two saves at once; a change during a save is saved after it', async () => {
    let finish: () => void = () => {};
    let running = 0;
    let most = 0;
    const schedule = new SaveSchedule(
      () => {
        running += 1;
        most = Math.max(most, running);
        return new Promise<void>((resolve) => {
          finish = () => {
            running -= 1;
            resolve();
          };
        });
      },
      10,
    );
    schedule.changed();
    await vi.advanceTimersByTimeAsync(0);
    schedule.changed();
    await vi.advanceTimersByTimeAsync(100);
    expect(most).toBe(1);
    finish();
    await vi.advanceTimersByTimeAsync(100);
    expect(running).toBe(1);
    finish();
    await vi.advanceTimersByTimeAsync(100);
    expect(running).toBe(0);
    expect(most).toBe(1);
  });

  it('saves on close what changed since the last save, without waiting for the interval', async () => {
    const saves: number[] = [];
    const schedule = new SaveSchedule(
      () => {
        saves.push(Date.now());
        return Promise.resolve();
      },
      5000,
    );
    schedule.changed();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(1000);
    schedule.changed();
    await schedule.close();
    expect(saves).toEqual([0, 1000]);
    // Closed: changes are not saved any more.
    schedule.changed();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(saves).toEqual([0, 1000]);
  });
});
