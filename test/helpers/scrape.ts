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
  constructor(readonly samples: Sample[], readonly text: string) {}

  /** Samples of `name` whose labels include `labels`. */
  find(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
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
