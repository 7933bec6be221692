// The scrape worker's memory and speed at 1,000 and 5,000 targets, in process: the heap the
// worker holds after a full GC, the worker's time to take one target's series, and the
// time of a plain and a gzipped scrape. Prints numbers; checks only that the scrape is the
// text the targets sent.
//
// The series are the real exporter's: two real rounds of each of 16 bench hosts (the
// bench's DNS fixture and its TLS + HTTP/2 origin, on 127.0.0.1 port 0, all eight TLS
// requirements, as `npm run bench` configures them), each host's reports then given to every
// 16th target of the catalog (its own host name, its own TargetSeries), rendered by
// TargetSeries as the view renders them, and set into a ScrapeAssembler as the view sets them.
//
//   flock /tmp/bench.lock node --import tsx bench/series-memory.ts [--hosts 1000,5000]
//     [--scrapes 10] [--assembler path/to/scrape-assembler.ts] [--unique]
//
// --assembler: another copy of the assembler to measure, with the same constructor and
// set(key, rendered), e.g. main's before shapes:
//   git show 33064f8:src/metrics/scrape-assembler.ts > .scratch/before/scrape-assembler.ts
// --unique: every target a label of its own (owner: team-N), so no two share a shape (the
// worst case for shapes).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import type { Worker } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import { runRound } from '../src/checks/round.js';
import type { RoundReport } from '../src/checks/report.js';
import { parseConfig } from '../src/config/load.js';
import { resolveTargets } from '../src/config/targets.js';
import { header, labelText } from '../src/metrics/exposition.js';
import { F, TARGET_FAMILIES } from '../src/metrics/families.js';
import { targetLabels } from '../src/metrics/labels.js';
import type { ScrapeAssembler } from '../src/metrics/scrape-assembler.js';
import { TargetSeries } from '../src/metrics/target-series.js';
import type { RenderedFamilies } from '../src/metrics/target-series.js';
import { seriesOptionsFrom } from '../src/metrics/view.js';
import { TLS_REQUIREMENTS } from '../src/model/tls-requirements.js';
import { startDnsServer } from '../test/fixtures/dns-server.js';
import { startOrigin } from '../test/fixtures/http-servers.js';
import { getPki } from '../test/fixtures/pki.js';
import { testRoundContext } from '../test/helpers/round.js';
import { benchHostName } from './names.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1000,5000' },
    scrapes: { type: 'string', default: '10' },
    assembler: { type: 'string' },
    unique: { type: 'boolean', default: false },
  },
});
// The worker's own reading ('stats') runs a full GC first when gc is exposed: process-wide,
// so before the worker starts.
setFlagsFromString('--expose-gc');
const HOSTS = values.hosts.split(',').map(Number);
const SCRAPES = Number(values.scrapes);
/** Hosts whose rounds really run; every other target gets one of their reports. */
const SAMPLED = 16;

type AssemblerClass = typeof ScrapeAssembler;
const modulePath = values.assembler === undefined ? '../src/metrics/scrape-assembler.ts' : pathToFileURL(resolve(values.assembler)).href;
const { ScrapeAssembler: Assembler } = (await import(modulePath)) as { ScrapeAssembler: AssemblerClass };

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
const ms = (xs: number[]): string => `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})`;

/** The worker's live heap: its heap snapshot's self sizes summed (a snapshot runs a full GC first), as bench/memory-probe.mjs reads it. */
async function snapshotBytes(worker: Worker): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const chunk of await worker.getHeapSnapshot()) chunks.push(chunk as Buffer);
  const snapshot = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { snapshot: { meta: { node_fields: string[] } }; nodes: number[] };
  const fields = snapshot.snapshot.meta.node_fields;
  const at = fields.indexOf('self_size');
  let total = 0;
  for (let i = at; i < snapshot.nodes.length; i += fields.length) total += snapshot.nodes[i] as number;
  return total;
}

const pki = await getPki();
const origin = await startOrigin('h2');
const zone = Object.fromEntries(Array.from({ length: SAMPLED }, (_, i) => [benchHostName(i), { a: ['127.0.0.1'], ttl: 60 }]));
const dns = await startDnsServer(zone);
const dir = await mkdtemp(join(tmpdir(), 'egress-series-memory-'));
try {
  await writeFile(join(dir, 'ca.pem'), pki.rootCa);
  const catalog = (hosts: number): string => `catalog: none
dns: { servers: ["127.0.0.1:${dns.address.port}"] }
tls: { ca_file: ${JSON.stringify(join(dir, 'ca.pem'))}, requirements: [${TLS_REQUIREMENTS.join(', ')}] }
targets:
${Array.from({ length: hosts }, (_, i) => `  - { host: ${benchHostName(i)}, port: ${origin.port}${values.unique ? `, labels: { owner: "team-${i}" }` : ''} }`).join('\n')}
`;
  // Two real rounds of each sampled host.
  const sampleConfig = parseConfig(catalog(SAMPLED), 'bench.yml');
  const ctx = testRoundContext({ config: sampleConfig, ca: [pki.rootCa] });
  const rounds: RoundReport[][] = [];
  for (const target of resolveTargets(sampleConfig)) rounds.push([await runRound(target, ctx), await runRound(target, ctx)]);

  const families = TARGET_FAMILIES.map((id) => [id, header(F[id])] as const);
  const declared = TARGET_FAMILIES.filter((id) => F[id].type !== 'histogram');
  for (const hosts of HOSTS) {
    const config = parseConfig(catalog(hosts), 'bench.yml');
    const options = seriesOptionsFrom(config);
    const targets = resolveTargets(config);
    const rendered: Array<[key: string, families: RenderedFamilies, labels: string]> = targets.map((target, i) => {
      const series = new TargetSeries(target);
      let out: RenderedFamilies = new Map();
      for (const report of rounds[i % SAMPLED] ?? []) out = series.observe({ ...report, target }, options);
      return [`${target.host}:${target.port}`, out, labelText(targetLabels(target)).slice(1, -1)];
    });
    let expected = '';
    for (const [id, head] of families) {
      let family = '';
      for (const [, text] of rendered) family += text.get(id) ?? '';
      if (family !== '' || declared.includes(id)) expected += head + family;
    }
    const bytes = Buffer.byteLength(expected);

    const assembler = new Assembler(families);
    for (const [key, text, labels] of rendered) assembler.set(key, text, labels);
    const worker = Reflect.get(assembler, 'worker') as Worker;
    const scrape = (gzip: boolean): Promise<Buffer> => assembler.body(declared, '', gzip);
    const plainBody = await scrape(false);
    if (!plainBody.equals(Buffer.from(expected))) throw new Error(`${hosts} hosts: the scrape differs from the text the targets sent`);
    if (!gunzipSync(await scrape(true)).equals(plainBody)) throw new Error(`${hosts} hosts: the gzipped scrape differs`);

    // The worker's time a set: a round of every target then a scrape, less a scrape alone
    // (its event loop's active time). The main thread's: posting them.
    const setMs: number[] = [];
    const postMs: number[] = [];
    for (let run = 0; run < 5; run += 1) {
      const a = worker.performance.eventLoopUtilization();
      const started = process.hrtime.bigint();
      for (const [key, text, labels] of rendered) assembler.set(key, text, labels);
      postMs.push(Number(process.hrtime.bigint() - started) / 1e6 / hosts);
      await scrape(false);
      const b = worker.performance.eventLoopUtilization();
      await scrape(false);
      const c = worker.performance.eventLoopUtilization();
      setMs.push(((b.active - a.active) - (c.active - b.active)) / hosts);
    }
    const plain: number[] = [];
    const zipped: number[] = [];
    let wire = 0;
    for (let run = 0; run < SCRAPES; run += 1) {
      for (const [gzip, times] of [[false, plain], [true, zipped]] as const) {
        const start = process.hrtime.bigint();
        const body = await scrape(gzip);
        times.push(Number(process.hrtime.bigint() - start) / 1e6);
        if (gzip) wire = body.length;
      }
    }
    const heap = await snapshotBytes(worker);
    const stats = 'stats' in assembler ? await (assembler as unknown as { stats(): Promise<Record<string, number>> }).stats() : undefined;
    console.log(`${hosts} hosts, ${values.assembler ?? 'this checkout'}${values.unique ? ', a shape per target' : ''}`);
    console.log(`  text ${mb(bytes)} (${(bytes / hosts / 1000).toFixed(2)} KB a host), gzipped ${mb(wire)}`);
    console.log(`  worker heap after GC (snapshot): ${mb(heap)}${stats === undefined ? '' : `; its own reading ${JSON.stringify(stats)}`}`);
    const us = (xs: number[]): string => `${(median(xs) * 1000).toFixed(1)} µs (median of ${xs.length} rounds: ${xs.map((x) => (x * 1000).toFixed(1)).join(', ')})`;
    console.log(`  a set, main thread (posting it): ${us(postMs)}`);
    console.log(`  a set, worker: ${us(setMs)}`);
    console.log(`  scrape plain: ${ms(plain)}`);
    console.log(`  scrape gzip:  ${ms(zipped)}`);
    await assembler.close();
  }
} finally {
  await Promise.all([origin.close(), dns.close()]);
  await rm(dir, { recursive: true, force: true });
}
