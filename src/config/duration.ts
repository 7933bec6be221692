// Prometheus-style durations: `500ms`, `30s`, `1m30s`, `5m`, `1h`, `1d`, `1w`, `1y`.
// Units appear in descending order, each at most once, with non-negative integer
// numbers. A year is 365 days and a week 7 days, as in Prometheus.

const MS = 1;
const SECOND = 1000 * MS;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const YEAR = 365 * DAY;

/** Units from the largest to the smallest, as written and as formatted. */
const UNITS: ReadonlyArray<readonly [unit: string, ms: number]> = [
  ['y', YEAR],
  ['w', WEEK],
  ['d', DAY],
  ['h', HOUR],
  ['m', MINUTE],
  ['s', SECOND],
  ['ms', MS],
];

// Backtracking sorts out `5m` from `5ms`, as in Prometheus' own pattern.
const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/**
 * Parses a duration into milliseconds. Returns null for anything that is not a
 * duration (including the empty string, spaces, signs, fractions, unknown
 * units, units out of order or repeated, and values beyond 2^53 ms).
 * `0s` parses to 0: callers decide whether zero is allowed.
 */
export function parseDuration(text: string): number | null {
  if (text === '') return null;
  const match = DURATION_RE.exec(text);
  if (match === null) return null;
  let total = 0;
  UNITS.forEach(([, unitMs], i) => {
    const digits = match[i + 1];
    if (digits !== undefined) total += Number(digits) * unitMs;
  });
  return Number.isSafeInteger(total) ? total : null;
}

/**
 * Formats milliseconds as the shortest duration string: `90000` -> `1m30s`,
 * `0` -> `0s`. Throws a RangeError for negative or non-integer input.
 */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new RangeError(`formatDuration: expected a non-negative integer number of milliseconds, got ${ms}`);
  }
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, unitMs] of UNITS) {
    const count = Math.floor(rest / unitMs);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * unitMs;
    }
  }
  return out;
}
