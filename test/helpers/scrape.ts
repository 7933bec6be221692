// Scrapes /metrics and reads values by name and labels, so a test reads like
// its specification: expect(m.value('egress_probe_success', {host, check})).toBe(1).

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    labels[m[1] as string] = (m[2] as string).replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  }
  return labels;
}

export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)/.exec(line);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    samples.push({ name: m[1] as string, labels: parseLabels(m[3] ?? ''), value: Number(m[4]) });
  }
  return samples;
}

export class Scrape {
  private byName: Map<string, Sample[]> | undefined;

  constructor(readonly samples: Sample[], readonly text: string) {}

  /** Samples of `name` whose labels include `labels`. */
  find(name: string, labels: Record<string, string> = {}): Sample[] {
    // Indexed by name: a test reading hundreds of series of a large scrape stays quick.
    if (this.byName === undefined) {
      this.byName = new Map();
      for (const s of this.samples) {
        const list = this.byName.get(s.name);
        if (list === undefined) this.byName.set(s.name, [s]);
        else list.push(s);
      }
    }
    return (this.byName.get(name) ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The one value of `name` with `labels`; undefined when absent; throws when ambiguous. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const found = this.find(name, labels);
    if (found.length > 1) throw new Error(`${found.length} series of ${name} match ${JSON.stringify(labels)}`);
    return found[0]?.value;
  }

  /** Distinct values of one label across the series of `name`. */
  labelValues(name: string, label: string, labels: Record<string, string> = {}): string[] {
    return [...new Set(this.find(name, labels).map((s) => s.labels[label] ?? ''))].sort();
  }
}

const labelKey = (labels: Record<string, string>): string => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
const boundsCache = new WeakMap<Scrape, Map<string, Map<string, number>>>();

/** Per histogram `name` of a scrape: each series' (labels without le) smallest bucket bound that holds all of its runs. */
function histogramBounds(m: Scrape, name: string): Map<string, number> {
  let byName = boundsCache.get(m);
  if (byName === undefined) {
    byName = new Map<string, Map<string, number>>();
    boundsCache.set(m, byName);
  }
  let bounds = byName.get(name);
  if (bounds === undefined) {
    bounds = new Map();
    const counts = new Map(m.find(`${name}_count`).map((c) => [labelKey(c.labels), c.value]));
    for (const b of m.find(`${name}_bucket`)) {
      const { le, ...rest } = b.labels;
      const key = labelKey(rest);
      const count = counts.get(key);
      if (count === undefined || b.value < count) continue;
      const bound = le === '+Inf' ? Infinity : Number(le);
      bounds.set(key, Math.min(bounds.get(key) ?? Infinity, bound));
    }
    byName.set(name, bounds);
  }
  return bounds;
}

/**
 * How long a check took at most, from `name` (egress_probe_duration_seconds) read as a
 * last-value gauge (its value) or as a histogram (the smallest bucket bound that holds
 * every run: an upper bound). `labels` is the series' whole label set. Undefined when
 * the series is absent.
 */
export function durationUpperBound(m: Scrape, name: string, labels: Record<string, string>): { seconds: number; from: 'gauge' | 'histogram' } | undefined {
  const gauge = m.find(name, labels);
  if (gauge.length > 1) throw new Error(`${gauge.length} series of ${name} match ${JSON.stringify(labels)}`);
  if (gauge[0] !== undefined) return { seconds: gauge[0].value, from: 'gauge' };
  const seconds = histogramBounds(m, name).get(labelKey(labels));
  return seconds === undefined ? undefined : { seconds, from: 'histogram' };
}

export async function scrape(baseUrl: string): Promise<Scrape> {
  const response = await fetch(`${baseUrl}/metrics`);
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  const text = await response.text();
  return new Scrape(parseExposition(text), text);
}

/** Polls until `predicate` holds for a scrape, or fails with the last scrape's text. */
export async function scrapeUntil(baseUrl: string, predicate: (m: Scrape) => boolean, timeoutMs = 10_000): Promise<Scrape> {
  const deadline = Date.now() + timeoutMs;
  let last: Scrape | undefined;
  while (Date.now() < deadline) {
    last = await scrape(baseUrl);
    if (predicate(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms; last scrape:\n${last?.text ?? '(none)'}`);
}
