// The address feed at scale, in process: 5,000 hosts, each answered through 2 resolvers
// with 4 IPv4 and 2 IPv6 addresses (60,000 sightings). Measures what runs on the probing
// thread: a round's worth of reports, a save (whole, then after a sixth of the hosts
// changed, what one 5 s save window sees at a 30 s interval), the read back at start, a
// firewall's pull of the whole list in each format, and a named list's series refresh.
// Prints numbers; asserts nothing.
//
//   node --import tsx bench/feed-state.ts [--hosts 5000] [--runs 5]
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { targetKey } from '../src/checks/report.js';
import type { RoundReport } from '../src/checks/report.js';
import { parseConfig } from '../src/config/load.js';
import { resolveTargets } from '../src/config/targets.js';
import { AddressFeed } from '../src/feed/address-feed.js';
import { renderJson } from '../src/feed/json-format.js';
import { renderNft } from '../src/feed/nft-format.js';
import { StateStorage } from '../src/feed/state-storage.js';
import { renderText } from '../src/feed/text-format.js';
import { createLogger } from '../src/logging/logger.js';
import type { Target } from '../src/model/types.js';
import { ResultStore } from '../src/state/result-store.js';

const { values } = parseArgs({ options: { hosts: { type: 'string', default: '5000' }, runs: { type: 'string', default: '5' } } });
const HOSTS = Number(values.hosts);
const RUNS = Number(values.runs);
const RESOLVERS = ['127.0.0.1:5301', '127.0.0.1:5302'];
const quiet = createLogger('error', 'json', new Writable({ write: (_c, _e, done) => done() }));

const v4 = (host: number, resolver: number, i: number): string => `10.${(host >> 8) & 255}.${host & 255}.${resolver * 8 + i + 1}`;
const v6 = (host: number, resolver: number, i: number): string => `2001:db8:${host.toString(16)}::${resolver * 8 + i + 1}`;

function report(target: Target, index: number, atMs: number): RoundReport {
  return {
    target,
    startedAtMs: atMs,
    finishedAtMs: atMs,
    durationSeconds: 0,
    addresses: {},
    dnsJudgements: [],
    paths: [],
    dns: RESOLVERS.map((resolver, r) => ({
      ok: true,
      resolver,
      cnameChain: [],
      durationSeconds: 0,
      records: [
        { type: 'A', family: 'v4', ok: true, addresses: [0, 1, 2, 3].map((i) => v4(index, r, i)), ttl: 60, durationSeconds: 0 },
        { type: 'AAAA', family: 'v6', ok: true, addresses: [0, 1].map((i) => v6(index, r, i)), ttl: 60, durationSeconds: 0 },
      ],
    })),
  };
}

/** Runs `work`, returning its wall time and the longest the event loop was held meanwhile. */
async function measure(work: () => unknown): Promise<{ ms: number; maxBlockMs: number }> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const start = process.hrtime.bigint();
  await work();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  delay.disable();
  return { ms, maxBlockMs: delay.max / 1e6 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const fmt = (xs: number[]): string => `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})`;

const yaml = `catalog: none
dns: { servers: [${RESOLVERS.map((r) => `"${r}"`).join(', ')}] }
targets:
${Array.from({ length: HOSTS }, (_, i) => `  - { host: h${i}.bench.test, families: [v4, v6] }`).join('\n')}
feed:
  max_addresses: 1000000
  max_bytes: 100000000
  lists: [{ name: all }]
`;
const config = parseConfig(yaml, 'bench.yml');
const targets = resolveTargets(config);
const dir = await mkdtemp(join(tmpdir(), 'egress-feed-bench-'));
const rows: Array<[string, string]> = [];
try {
  const storage = await StateStorage.open(dir);
  const store = new ResultStore();
  store.setTargets(targets);
  const feed = await AddressFeed.open({ config, targets, storage, logger: quiet });
  store.listen(feed);
  // The save the feed's schedule runs (private: called here directly, without its timer).
  const save = (): Promise<void> => (feed as unknown as { save(): Promise<void> }).save();
  const sixth = Math.ceil(targets.length / 6);
  const m = { round: [] as number[], full: [] as number[], fullBlock: [] as number[], part: [] as number[], partBlock: [] as number[], load: [] as number[] };
  let t = Date.now();
  for (let run = 0; run < RUNS; run += 1) {
    t += 1000;
    const at = t;
    m.round.push((await measure(() => targets.forEach((target, i) => store.put(report(target, i, at))))).ms);
    const full = await measure(save);
    m.full.push(full.ms);
    m.fullBlock.push(full.maxBlockMs);
    // What one 5 s save window sees at a 30 s interval: a sixth of the hosts reported.
    t += 1000;
    const later = t;
    targets.slice(0, sixth).forEach((target, i) => store.put(report(target, i, later)));
    const part = await measure(save);
    m.part.push(part.ms);
    m.partBlock.push(part.maxBlockMs);
    m.load.push((await measure(() => AddressFeed.open({ config, targets, storage, logger: quiet }).then((f) => f.close()))).ms);
  }
  const bytes = (await stat(storage.file)).size;
  rows.push([`a round: ${HOSTS} reports into the feed`, fmt(m.round)]);
  rows.push([`save of every host (${(bytes / 1e6).toFixed(1)} MB file): wall`, fmt(m.full)]);
  rows.push(['  event loop held at most', fmt(m.fullBlock)]);
  rows.push([`save after ${sixth} hosts changed: wall`, fmt(m.part)]);
  rows.push(['  event loop held at most', fmt(m.partBlock)]);
  rows.push(['read back at start (open, then close)', fmt(m.load)]);

  // A firewall's pull of every host, and what a named list's series refresh does.
  const answers: number[] = [];
  const text: number[] = [];
  const nft: number[] = [];
  const json: number[] = [];
  let count = 0;
  for (let run = 0; run < RUNS; run += 1) {
    let answer = feed.answer({ list: 'all' });
    answers.push((await measure(() => (answer = feed.answer({ list: 'all' })))).ms);
    if (answer.kind !== 'listing') throw new Error(answer.kind);
    const { listing, size, limits, overLimit, generatedAtMs } = answer;
    count = listing.addresses.length;
    text.push((await measure(() => renderText(listing, null))).ms);
    nft.push((await measure(() => renderNft(listing, { table: 'fw', set: 'all', families: ['v4', 'v6'] }, null))).ms);
    json.push((await measure(() => renderJson(listing, { list: 'all', size, limits, overLimit, generatedAtMs }))).ms);
  }
  // A named list's series: walked whole only at a start or a reload; a report updates its target's part.
  const inside = feed as unknown as { rebuildStats(): void; updateStats(key: string, nowMs: number): void };
  const rebuilds: number[] = [];
  const updates: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    rebuilds.push((await measure(() => inside.rebuildStats())).ms);
    updates.push(((await measure(() => targets.forEach((target) => inside.updateStats(targetKey(target), Date.now())))).ms * 1000) / targets.length);
  }
  rows.push([`choose and sort the list of every host (${count} addresses)`, fmt(answers)]);
  rows.push(['  its series, walked whole (start, reload)', fmt(rebuilds)]);
  rows.push(['  its series, one target reported', fmt(updates).replaceAll(' ms', ' µs')]);
  rows.push(['  render text', fmt(text)]);
  rows.push(['  render nft', fmt(nft)]);
  rows.push([`  render json (${count} entries)`, fmt(json)]);
  await feed.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
const width = Math.max(...rows.map(([k]) => k.length));
process.stdout.write(`address feed: ${HOSTS} hosts x ${RESOLVERS.length} resolvers x (4 A + 2 AAAA), ${RUNS} runs, node ${process.version}\n`);
for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
