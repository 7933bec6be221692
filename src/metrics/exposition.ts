// The Prometheus text format (version 0.0.4), written by hand: series are
// rendered from results, not kept in client objects, so the writer is a few
// string functions. Label values are escaped; numbers printed as Go does.

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'gauge' | 'counter' | 'histogram';

export interface FamilyDef {
  name: string;
  help: string;
  type: MetricType;
}

export type Labels = Readonly<Record<string, string>>;

const NEEDS_ESCAPE = /[\\\n"]/;
// Most values (host names, paths, reasons) need no escaping: one test instead of three replaces.
const escapeLabel = (value: string): string =>
  NEEDS_ESCAPE.test(value) ? value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : value;
const escapeHelp = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

export function labelText(labels: Labels): string {
  let out = '';
  for (const name in labels) out += `${out === '' ? '' : ','}${name}="${escapeLabel(labels[name] ?? '')}"`;
  return out === '' ? '' : `{${out}}`;
}

export function header(family: FamilyDef): string {
  return `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`;
}

export function sampleLine(name: string, labels: Labels, value: number): string {
  return `${name}${labelText(labels)} ${formatValue(value)}\n`;
}

/** Cumulative bucket counts with their sum: what a histogram series keeps. */
export class HistogramData {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly buckets: readonly number[]) {
    this.counts = new Array<number>(buckets.length).fill(0);
  }
  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    for (let i = 0; i < this.buckets.length; i += 1) if (value <= (this.buckets[i] as number)) this.counts[i] = (this.counts[i] as number) + 1;
  }
  /** Observations counted elsewhere: `cumulative[i]` of them at or under bucket i, `count` in all, adding up to `sum`. */
  add(cumulative: readonly number[], count: number, sum: number): void {
    this.sum += sum;
    this.count += count;
    for (let i = 0; i < this.buckets.length; i += 1) this.counts[i] = (this.counts[i] as number) + (cumulative[i] ?? 0);
  }
  lines(name: string, labels: Labels): string {
    return this.linesOf(name, labelText(labels));
  }
  /** `base`: the series' label text, as labelText writes it. */
  linesOf(name: string, base: string): string {
    const prefix = base === '' ? '{' : `${base.slice(0, -1)},`;
    let out = '';
    for (let i = 0; i < this.buckets.length; i += 1) out += `${name}_bucket${prefix}le="${formatValue(this.buckets[i] as number)}"} ${this.counts[i] as number}\n`;
    out += `${name}_bucket${prefix}le="+Inf"} ${this.count}\n`;
    out += `${name}_sum${base} ${formatValue(this.sum)}\n${name}_count${base} ${this.count}\n`;
    return out;
  }
}
