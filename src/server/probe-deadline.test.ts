import { describe, expect, it } from 'vitest';
import { parseScrapeTimeout, probeBudgetMs } from './probe-deadline.js';

describe('parseScrapeTimeout', () => {
  it('reads seconds; absent, empty and 0 mean no timeout given', () => {
    expect(parseScrapeTimeout('10')).toEqual({ ok: true, seconds: 10 });
    expect(parseScrapeTimeout(' 2.5 ')).toEqual({ ok: true, seconds: 2.5 });
    expect(parseScrapeTimeout('.5')).toEqual({ ok: true, seconds: 0.5 });
    for (const none of [undefined, '', '0', '0.0']) expect(parseScrapeTimeout(none), String(none)).toEqual({ ok: true, seconds: undefined });
  });

  it('refuses anything else, naming the header', () => {
    for (const bad of ['abc', '-1', '10s', 'Infinity', 'NaN', '1e3', '1,5']) {
      expect(parseScrapeTimeout(bad), bad).toEqual({
        ok: false,
        message: `X-Prometheus-Scrape-Timeout-Seconds: expected a number of seconds such as 10 or 2.5, got ${JSON.stringify(bad)}`,
      });
    }
  });
});

describe('probeBudgetMs', () => {
  it('is the scrape timeout minus half a second, at most the check timeout', () => {
    expect(probeBudgetMs(2, 10_000)).toBe(1500);
    expect(probeBudgetMs(10, 10_000)).toBe(9500);
    expect(probeBudgetMs(30, 10_000)).toBe(10_000);
    expect(probeBudgetMs(undefined, 10_000)).toBe(10_000);
  });

  it('keeps half of a timeout under a second', () => {
    expect(probeBudgetMs(0.8, 10_000)).toBe(400);
    expect(probeBudgetMs(0.001, 10_000)).toBe(1);
  });
});
