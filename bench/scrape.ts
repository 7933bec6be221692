// Scraping the exporter as Prometheus does, timed from the outside, and reading the few
// families the bench needs out of an exposition of any size without parsing the rest.
import { Agent, get } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { parseExposition } from '../test/helpers/scrape.js';
import type { Sample } from '../test/helpers/scrape.js';

export interface ScrapeResult {
  /** Request sent -> last byte of the body received. */
  seconds: number;
  /** Whether the request accepted gzip. */
  acceptedGzip: boolean;
  /** Whether the answer came gzipped. */
  gzipped: boolean;
  /** Body bytes on the wire. */
  wireBytes: number;
  /** The exposition text (decompressed), when asked for. */
  text?: string;
}

// Prometheus keeps its scrape connection open between scrapes.
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

export function scrape(url: string, options: { gzip: boolean; keepText: boolean; timeoutMs: number }): Promise<ScrapeResult> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const headers = { 'accept-encoding': options.gzip ? 'gzip' : 'identity', accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1' };
    const request = get(url, { agent, headers, timeout: options.timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('error', reject);
      response.once('end', () => {
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        if (response.statusCode !== 200) {
          reject(new Error(`${url} answered ${response.statusCode}`));
          return;
        }
        const body = Buffer.concat(chunks);
        const gzipped = response.headers['content-encoding'] === 'gzip';
        const result: ScrapeResult = { seconds, acceptedGzip: options.gzip, gzipped, wireBytes: body.length };
        if (options.keepText) result.text = (gzipped ? gunzipSync(body) : body).toString('utf8');
        resolve(result);
      });
    });
    request.once('timeout', () => request.destroy(new Error(`${url}: no complete answer within ${options.timeoutMs} ms`)));
    request.once('error', reject);
  });
}

export interface Families {
  /** Family name -> its # TYPE (counter, gauge, histogram, summary, untyped). */
  types: Map<string, string>;
  /** The samples of those families only. */
  samples: Sample[];
}

/**
 * The families whose name `want` accepts, found by their `# TYPE` lines: one pass over
 * the text that only slices the lines it keeps (a 25 MB exposition reads in tens of ms).
 */
export function pickFamilies(text: string, want: (family: string) => boolean): Families {
  const types = new Map<string, string>();
  const kept: string[] = [];
  let keep = false;
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    if (text.charCodeAt(pos) === 35 /* # */) {
      if (text.startsWith('# TYPE ', pos)) {
        const [name = '', type = 'untyped'] = text.slice(pos + 7, end).split(' ');
        keep = want(name);
        if (keep) types.set(name, type);
      }
    } else if (keep && end > pos) {
      kept.push(text.slice(pos, end));
    }
    pos = end + 1;
  }
  return { types, samples: parseExposition(kept.join('\n')) };
}

/** The sum of every sample named `name` (all label sets); undefined when there is none. */
export function sumOf(families: Families, name: string): number | undefined {
  let total: number | undefined;
  for (const sample of families.samples) if (sample.name === name) total = (total ?? 0) + sample.value;
  return total;
}
