// prom-client removes a series only by its full label set. These wrappers
// remember the label sets they wrote, so a removed target or path can take all
// of its series with it (and a cleared failure reason disappears).
import client from 'prom-client';
import type { Registry } from 'prom-client';

type Labels<T extends string> = Record<T, string>;

class LabelIndex<T extends string> {
  private readonly sets = new Map<string, Labels<T>>();
  add(labels: Labels<T>): void {
    this.sets.set(JSON.stringify(labels), labels);
  }
  take(match: Partial<Labels<T>>, except?: Labels<T>): Labels<T>[] {
    const exceptKey = except ? JSON.stringify(except) : undefined;
    const out: Labels<T>[] = [];
    for (const [key, labels] of this.sets) {
      if (key === exceptKey) continue;
      if (Object.entries(match).every(([name, value]) => labels[name as T] === value)) {
        out.push(labels);
        this.sets.delete(key);
      }
    }
    return out;
  }
}

interface Removable<T extends string> {
  /** Removes every series whose labels include `match`. */
  removeMatching(match: Partial<Labels<T>>): void;
}

export class TrackedGauge<T extends string> implements Removable<T> {
  private readonly gauge: client.Gauge<T>;
  private readonly index = new LabelIndex<T>();
  constructor(registry: Registry, name: string, help: string, labelNames: readonly T[]) {
    this.gauge = new client.Gauge<T>({ name, help, labelNames, registers: [registry] });
    // prom-client starts a label-less gauge at 0; a series appears only once set.
    if (labelNames.length === 0) this.gauge.remove({} as Labels<T>);
  }
  set(labels: Labels<T>, value: number): void {
    this.index.add(labels);
    this.gauge.set(labels, value);
  }
  removeMatching(match: Partial<Labels<T>>): void {
    for (const labels of this.index.take(match)) this.gauge.remove(labels);
  }
  /** Sets `labels` and removes every other series that matches `match` (one-of-N info gauges). */
  setOnly(match: Partial<Labels<T>>, labels: Labels<T>, value = 1): void {
    for (const old of this.index.take(match, labels)) this.gauge.remove(old);
    this.set(labels, value);
  }
}

export class TrackedCounter<T extends string> implements Removable<T> {
  private readonly counter: client.Counter<T>;
  private readonly index = new LabelIndex<T>();
  constructor(registry: Registry, name: string, help: string, labelNames: readonly T[]) {
    this.counter = new client.Counter<T>({ name, help, labelNames, registers: [registry] });
  }
  inc(labels: Labels<T>, value = 1): void {
    this.index.add(labels);
    this.counter.inc(labels, value);
  }
  /** Makes the series exist at 0, so rate() and increase() see the first change. */
  touch(labels: Labels<T>): void {
    this.index.add(labels);
    this.counter.inc(labels, 0);
  }
  removeMatching(match: Partial<Labels<T>>): void {
    for (const labels of this.index.take(match)) this.counter.remove(labels);
  }
}

export class TrackedHistogram<T extends string> implements Removable<T> {
  private readonly histogram: client.Histogram<T>;
  private readonly index = new LabelIndex<T>();
  constructor(registry: Registry, name: string, help: string, labelNames: readonly T[], buckets: number[]) {
    this.histogram = new client.Histogram<T>({ name, help, labelNames, buckets, registers: [registry] });
  }
  observe(labels: Labels<T>, value: number): void {
    this.index.add(labels);
    this.histogram.observe(labels, value);
  }
  removeMatching(match: Partial<Labels<T>>): void {
    for (const labels of this.index.take(match)) this.histogram.remove(labels);
  }
}
