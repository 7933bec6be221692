// The cron part of the config: a schedule's period (its shortest gap between ticks) bounds
// the timeout, as the interval does, and a schedule set beside an interval hides nothing.
import { describe, expect, it } from 'vitest';
import { cronPeriodMs } from './cron-period.js';
import { ConfigError, parseConfig } from './load.js';

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'egress.yml');
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('a cron schedule', () => {
  it('has the shortest gap between its next ticks as its period', () => {
    expect(cronPeriodMs('* * * * *')).toBe(60_000);
    expect(cronPeriodMs('*/5 * * * *')).toBe(300_000);
    expect(cronPeriodMs('*/10 * * * * *')).toBe(10_000);
    // 8 h then 16 h apart: a round must fit in the 8 h.
    expect(cronPeriodMs('0 9,17 * * *')).toBe(8 * 3600_000);
  });

  it('refuses a timeout as long as its period, or longer', () => {
    expect(problemsOf('schedule: "* * * * *"\ntimeout: 2m\n')).toEqual(["egress.yml: timeout: must be shorter than the schedule's period (1m), got 2m"]);
    expect(problemsOf('schedule: "*/10 * * * * *"\n')).toEqual(["egress.yml: timeout: must be shorter than the schedule's period (10s), got 10s (the default)"]);
    expect(problemsOf('schedule: "*/5 * * * *"\ntimeout: 4m\n')).toEqual([]);
  });

  it('set beside an interval, still lets the timeout be judged against the interval', () => {
    expect(problemsOf('interval: 30s\nschedule: "* * * * *"\ntimeout: 45s\n')).toEqual([
      'egress.yml: schedule: cannot be set together with interval',
      'egress.yml: timeout: must be shorter than interval (30s), got 45s',
    ]);
  });
});
