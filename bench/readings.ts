// What the bench reads out of successive scrapes, for any build of the exporter:
// the quiet targets' TCP connect times (histogram or last-value gauge) and the
// exporter's own event-loop lag / stall metrics, whatever their type.
import type { Families } from './scrape.js';

export const CONNECT_FAMILY = 'egress_tcp_connect_duration_seconds';

/** The stall or lag families the bench reports: the exporter's own, and prom-client's. */
export function isStallFamily(name: string): boolean {
  return /stall/i.test(name) || name === 'nodejs_eventloop_lag_max_seconds' || name === 'nodejs_eventloop_lag_seconds';
}

/**
 * New connect times of the quiet hosts since the previous scrape. A histogram (or
 * summary) gives one sample per scrape in which its count moved: the mean of the new
 * connects (sum and count deltas). A gauge gives a sample whenever its value changed.
 */
export class QuietConnectTracker {
  private readonly last = new Map<string, { sum: number; count: number } | number>();
  /** After the first scrape, a gauge series that appears is a new measurement. */
  private primed = false;

  constructor(private readonly quietHosts: ReadonlySet<string>) {}

  /** Call with every scrape, in order; returns the samples (seconds) this scrape added. */
  next(families: Families): number[] {
    const type = families.types.get(CONNECT_FAMILY);
    const quiet = families.samples.filter(
      (s) => s.name.startsWith(CONNECT_FAMILY) && this.quietHosts.has(s.labels.host ?? '') && (s.labels.path ?? 'direct') === 'direct',
    );
    const out: number[] = [];
    if (type === 'histogram' || type === 'summary') {
      const now = new Map<string, { sum: number; count: number }>();
      for (const s of quiet) {
        const host = s.labels.host ?? '';
        const entry = now.get(host) ?? { sum: 0, count: 0 };
        if (s.name === `${CONNECT_FAMILY}_sum`) entry.sum += s.value;
        else if (s.name === `${CONNECT_FAMILY}_count`) entry.count += s.value;
        now.set(host, entry);
      }
      for (const [host, entry] of now) {
        const before = this.last.get(host);
        if (typeof before === 'object' && entry.count > before.count) out.push((entry.sum - before.sum) / (entry.count - before.count));
        this.last.set(host, entry);
      }
    } else {
      for (const s of quiet) {
        if (s.name !== CONNECT_FAMILY) continue;
        const key = JSON.stringify(s.labels);
        const before = this.last.get(key);
        if (before !== undefined && before !== s.value && Number.isFinite(s.value)) out.push(s.value);
        if (before === undefined && this.primed) out.push(s.value);
        this.last.set(key, s.value);
      }
    }
    this.primed = true;
    return out;
  }
}

export interface StallReading {
  /** Family and labels, e.g. `egress_exporter_stall_seconds{thread="main"}`. */
  series: string;
  /** What the value means: `max over the window`, `increase over the window`, ... */
  how: string;
  value: string;
}

function seriesName(name: string, labels: Record<string, string>, drop: string[] = []): string {
  const parts = Object.entries(labels)
    .filter(([k]) => !drop.includes(k))
    .map(([k, v]) => `${k}="${v}"`);
  return parts.length === 0 ? name : `${name}{${parts.join(',')}}`;
}

const ms = (seconds: number): string => `${(seconds * 1000).toFixed(1)} ms`;

/**
 * The stall families over a window: for a gauge the largest value any scrape showed;
 * for a counter its increase; for a histogram the increase of its count and sum, and
 * the bucket that holds the largest new observation.
 */
export class StallTracker {
  private first: Families | undefined;
  private last: Families | undefined;
  private readonly gaugeMax = new Map<string, number>();

  next(families: Families): void {
    this.first ??= families;
    this.last = families;
    for (const [family, type] of families.types) {
      if (!isStallFamily(family) || (type !== 'gauge' && type !== 'untyped')) continue;
      for (const s of families.samples) {
        if (s.name !== family) continue;
        const key = seriesName(family, s.labels);
        this.gaugeMax.set(key, Math.max(this.gaugeMax.get(key) ?? -Infinity, s.value));
      }
    }
  }

  readings(): StallReading[] {
    const out: StallReading[] = [];
    for (const [series, value] of this.gaugeMax) out.push({ series, how: 'largest value in a scrape', value: ms(value) });
    const first = this.first;
    const last = this.last;
    if (first === undefined || last === undefined) return out;
    const valueIn = (families: Families, name: string, key: string): number =>
      families.samples.find((s) => s.name === name && seriesName(name, s.labels) === key)?.value ?? 0;
    for (const [family, type] of last.types) {
      if (!isStallFamily(family)) continue;
      if (type === 'counter') {
        for (const s of last.samples.filter((x) => x.name.startsWith(family))) {
          const key = seriesName(s.name, s.labels);
          out.push({ series: key, how: 'increase over the window', value: String(s.value - valueIn(first, s.name, key)) });
        }
      } else if (type === 'histogram' || type === 'summary') {
        for (const s of last.samples.filter((x) => x.name === `${family}_count`)) {
          const key = seriesName(s.name, s.labels);
          const sumKey = seriesName(`${family}_sum`, s.labels);
          const count = s.value - valueIn(first, s.name, key);
          const sum = valueIn(last, `${family}_sum`, sumKey) - valueIn(first, `${family}_sum`, sumKey);
          // The smallest `le` whose bucket holds every new observation bounds the largest one.
          let bound = 'n/a';
          if (type === 'histogram') {
            const buckets = last.samples
              .filter((b) => b.name === `${family}_bucket` && seriesName(family, b.labels, ['le']) === seriesName(family, s.labels))
              .map((b) => ({ le: Number(b.labels.le), grew: b.value - valueIn(first, b.name, seriesName(b.name, b.labels)) }))
              .sort((a, b) => a.le - b.le);
            const top = buckets.find((b) => b.grew >= count);
            if (top !== undefined && count > 0) bound = top.le === Infinity ? '+Inf' : `<= ${ms(top.le)}`;
          }
          out.push({ series: seriesName(family, s.labels), how: 'new observations, their sum, largest', value: `${count}, ${ms(sum)}, ${bound}` });
        }
      }
    }
    return out;
  }
}
