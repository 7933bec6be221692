import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SaveSchedule } from './save-schedule.js';

describe('SaveSchedule', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function recording(): { saves: number[]; schedule: SaveSchedule } {
    const saves: number[] = [];
    const schedule = new SaveSchedule(
      () => {
        saves.push(Date.now());
        return Promise.resolve();
      },
      5000,
      30_000,
    );
    return { saves, schedule };
  }

  it('saves a change of what is listed once soon after a burst, then at most once every 5 s', async () => {
    const { saves, schedule } = recording();
    for (let i = 0; i < 100; i += 1) schedule.changed('listed');
    await vi.advanceTimersByTimeAsync(0);
    expect(saves).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1000);
    schedule.changed('listed');
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

  it('lets a change of times alone wait 30 s, unless a change of what is listed comes meanwhile', async () => {
    const { saves, schedule } = recording();
    schedule.changed('listed');
    await vi.advanceTimersByTimeAsync(0);
    schedule.changed('times');
    await vi.advanceTimersByTimeAsync(29_999);
    expect(saves).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(saves).toEqual([0, 30_000]);
    schedule.changed('times');
    await vi.advanceTimersByTimeAsync(10_000);
    schedule.changed('listed');
    await vi.advanceTimersByTimeAsync(0);
    // Due 5 s after the last save, which is already past.
    expect(saves).toEqual([0, 30_000, 40_000]);
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
      10,
    );
    schedule.changed('listed');
    await vi.advanceTimersByTimeAsync(0);
    schedule.changed('listed');
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

  it('saves on close what changed since the last save, without waiting', async () => {
    const { saves, schedule } = recording();
    schedule.changed('listed');
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(1000);
    schedule.changed('times');
    await schedule.close();
    expect(saves).toEqual([0, 1000]);
    // Closed: changes are not saved any more.
    schedule.changed('listed');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(saves).toEqual([0, 1000]);
  });
});
