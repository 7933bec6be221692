// npm run bench: how fast and how lean the exporter is, on loopback only.
// Prints numbers; asserts nothing. Every server it talks to is started here.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { loadConfigFile, parseConfig } from '../src/config/load.js';
import { startExporter } from '../src/exporter.js';
import { createLogger } from '../src/logging/logger.js';
import { startDnsServer } from '../test/fixtures/dns-server.js';
import { startListener } from '../test/fixtures/tcp-peers.js';
import { startTlsServer } from '../test/fixtures/tls-servers.js';
import { getPki } from '../test/fixtures/pki.js';
import { startHostileMatrix } from '../test/fixtures/hostile-matrix.js';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const quiet = createLogger('error', 'json', new Writable({ write: (_c, _e, done) => done() }));
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const ms = (seconds: number): string => (seconds * 1000).toFixed(2);

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return [value, Number(process.hrtime.bigint() - start) / 1e9];
}

const rows: Array<[string, string]> = [];
const row = (name: string, value: string): void => {
  rows.push([name, value]);
  console.log(`${name.padEnd(52)} ${value}`);
};

async function dnsTcpScenario(targets: number, rounds: number): Promise<void> {
  const names = Array.from({ length: targets }, (_, i) => `host${i}.bench.test`);
  const dns = await startDnsServer(Object.fromEntries(names.map((n, i) => [n, { a: [`127.0.${Math.floor(i / 250)}.${(i % 250) + 1}`], ttl: 60 }])));
  const listener = await startListener('0.0.0.0');
  const yaml = `catalog: none
interval: 1h
timeout: 5s
concurrency: 32
dns: { servers: ["${dns.address.name}"] }
targets:
${names.map((n) => `  - { host: ${n}, port: ${listener.port}, checks: [dns, tcp] }`).join('\n')}
`;
  const exporter = await startExporter({ config: parseConfig(yaml, 'bench.yml'), listen: { host: '127.0.0.1', port: 0 }, logger: quiet, autostart: false });
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const roundTimes: number[] = [];
  for (let i = 0; i < rounds; i += 1) roundTimes.push((await time(() => exporter.scheduler.runOnce()))[1]);
  lag.disable();
  roundTimes.sort((a, b) => a - b);
  row(`dns+tcp: ${targets} targets, one round (p50 of ${rounds})`, `${ms(quantile(roundTimes, 0.5))} ms`);
  row(`dns+tcp: checks per second`, `${((2 * targets) / (quantile(roundTimes, 0.5) || 1)).toFixed(0)}`);
  row(`dns+tcp: event-loop delay p99 during rounds`, `${(lag.percentile(99) / 1e6).toFixed(2)} ms`);

  const base = `http://127.0.0.1:${exporter.address.port}`;
  const scrapes: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 50; i += 1) {
    const [text, seconds] = await time(async () => (await fetch(`${base}/metrics`)).text());
    bytes = text.length;
    scrapes.push(seconds);
  }
  scrapes.sort((a, b) => a - b);
  row(`scrape of /metrics with ${targets} targets (p50 of 50)`, `${ms(quantile(scrapes, 0.5))} ms, ${(bytes / 1024).toFixed(0)} KiB`);
  global.gc?.();
  const mem = process.memoryUsage();
  row(`memory after ${rounds} rounds of ${targets} targets`, `rss ${mib(mem.rss)} MiB, heap ${mib(mem.heapUsed)} MiB`);
  await exporter.stop();
  await dns.close();
  await listener.close();
}

async function tlsScenario(targets: number): Promise<void> {
  const pki = await getPki();
  const dir = await mkdtemp(join(tmpdir(), 'egress-bench-'));
  await writeFile(join(dir, 'ca.pem'), pki.rootCa);
  const server = await startTlsServer('full');
  const dns = await startDnsServer({ 'cgr.dev': { a: ['127.0.0.1'] } });
  const yaml = `catalog: none
interval: 1h
timeout: 10s
dns: { servers: ["${dns.address.name}"] }
tls: { ca_file: ${join(dir, 'ca.pem')} }
targets:
  - { host: cgr.dev, port: ${server.port}, checks: [dns, tcp, tls] }
`;
  const config = parseConfig(yaml, 'bench.yml');
  const exporter = await startExporter({ config, listen: { host: '127.0.0.1', port: 0 }, logger: quiet, autostart: false });
  const times: number[] = [];
  for (let i = 0; i < targets; i += 1) times.push((await time(() => exporter.scheduler.runOnce()))[1]);
  times.sort((a, b) => a - b);
  row(`tls: one round of one host, 10 handshakes (p50 of ${targets})`, `${ms(quantile(times, 0.5))} ms`);
  row(`tls: p99`, `${ms(quantile(times, 0.99))} ms`);
  await exporter.stop();
  await dns.close();
  await server.close();
}

/** 500 scrapes at once while the fault matrix's rounds run (faults in flight): how long each waits for its answer. */
async function scrapeBurstScenario(scrapes: number): Promise<void> {
  const matrix = await startHostileMatrix();
  const config = await loadConfigFile(join(matrix.dir, 'egress.yml'));
  const exporter = await startExporter({ config, listen: { host: '127.0.0.1', port: 0 }, logger: quiet });
  await exporter.scheduler.firstRound;
  const base = `http://127.0.0.1:${exporter.address.port}`;
  const times = await Promise.all(
    Array.from({ length: scrapes }, async () => {
      const [response, seconds] = await time(async () => (await fetch(`${base}/metrics`)).text());
      return { seconds, bytes: response.length };
    }),
  );
  const sorted = times.map((t) => t.seconds).sort((a, b) => a - b);
  row(`${scrapes} scrapes at once, fault matrix running (p50)`, `${ms(quantile(sorted, 0.5))} ms, ${((times[0]?.bytes ?? 0) / 1024).toFixed(0)} KiB each`);
  row(`${scrapes} scrapes at once, p99`, `${ms(quantile(sorted, 0.99))} ms`);
  await exporter.stop();
  await matrix.close();
}

const started = Date.now();
console.log(`egress-exporter bench, node ${process.version}, loopback only`);
await dnsTcpScenario(200, 10);
await tlsScenario(20);
await scrapeBurstScenario(500);
console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
