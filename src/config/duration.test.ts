import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['0s', 0],
    ['500ms', 500],
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['5m', 300_000],
    ['5ms', 5],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1w', 604_800_000],
    ['1y', 31_536_000_000],
    ['1h2m3s4ms', 3_723_004],
    ['01s', 1000],
    ['90s', 90_000],
    ['1y2w3d', 31_536_000_000 + 2 * 604_800_000 + 3 * 86_400_000],
  ])('%s -> %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', '0', ' 30s', '30s ', '30 s', '1.5s', '-1s', '+1s', '30S', '1s1m', '1m1m', '30sec', '1m 30s', '5ms5s', 'ms', 's', '1h-1m', '99999999999999999y'])(
    'rejects %j',
    (text) => {
      expect(parseDuration(text)).toBeNull();
    },
  );
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [1, '1ms'],
    [500, '500ms'],
    [1500, '1s500ms'],
    [30_000, '30s'],
    [90_000, '1m30s'],
    [300_000, '5m'],
    [3_600_000, '1h'],
    [86_400_000, '1d'],
    [8 * 86_400_000, '1w1d'],
    [31_536_000_000, '1y'],
  ])('%d ms -> %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [0, 1, 999, 1000, 59_999, 61_000, 3_599_999, 90_061_001, 700_000_000_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });

  it('rejects negative and fractional milliseconds', () => {
    expect(() => formatDuration(-1)).toThrow(RangeError);
    expect(() => formatDuration(1.5)).toThrow(RangeError);
    expect(() => formatDuration(Number.NaN)).toThrow(RangeError);
  });
});
