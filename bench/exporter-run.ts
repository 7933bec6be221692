// One run of the exporter as a child process (`node dist/cli.js`), on its own schedule,
// measured from outside only: /proc for CPU and memory, /metrics as Prometheus scrapes
// it, /-/healthy for stalls. Nothing here depends on how the exporter works inside.
import { execFile } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TLS_REQUIREMENTS } from '../src/model/tls-requirements.js';
import { formatDuration } from '../src/config/duration.js';
import { NODE_FLAGS } from '../src/node-flags.js';
import { sleepUntil } from './clock.js';
import { ExporterProcess } from './exporter-process.js';
import type { ProcessWindow } from './exporter-process.js';
import { linkChild } from './ipc.js';
import type { BenchServers } from './bench-servers.js';
import { askMemory, MEMORY_PROBE_FLAGS } from './memory.js';
import type { MemorySample } from './memory.js';
import { benchHostName } from './names.js';
import { forkModule } from './processes.js';
import { scrape } from './scrape.js';
import type { ScrapeResult } from './scrape.js';
import { measureWindow } from './window.js';
import type { SharedWindow } from './window.js';

const execFileAsync = promisify(execFile);

export interface ExporterRunOptions {
  /** Names the run's files: `100-all`, `alone`, ... */
  name: string;
  hosts: number;
  quietHosts: readonly string[];
  intervalMs: number;
  /** Whole intervals measured, after one interval of warm-up. */
  intervals: number;
  scrapeEveryMs: number;
  /** Checks of the bench hosts; undefined: the exporter's default check set. */
  checks?: readonly string[];
  /** Extra top-level YAML for the config. */
  extraYaml?: string;
  /** Ping /-/healthy through the window. */
  pinger: boolean;
  /** After the window, scrape until this many scrapes of each kind (gzip, plain) were timed. */
  scrapeSamples: number;
  cpuProfile: boolean;
  /** Node flags after NODE_FLAGS (--node-flag). */
  nodeFlags?: readonly string[];
  /** Preload the memory probe and ask it where the memory is after the window; `snapshots`: keep heap snapshots. */
  memory?: { snapshots: boolean };
  log: (line: string) => void;
}

/** One process's window (exporter-process.ts) and the window's shared readings (window.ts), and what came after it. */
export interface ExporterRunResult extends ProcessWindow, SharedWindow {
  /** Where the memory was at the end of the window, after a full GC (--memory). */
  memory?: MemorySample;
  /** The scrapes after the window for the scrape-time p99. */
  extraScrapes: ScrapeResult[];
  profile?: string;
}

/** The exporter's config for a run: the bench hosts at the origin, the quiet hosts at their listener. */
export function exporterConfig(servers: BenchServers, o: Pick<ExporterRunOptions, 'hosts' | 'quietHosts' | 'intervalMs' | 'checks' | 'extraYaml'>): string {
  const lines = [
    '# Written by npm run bench.',
    'catalog: none',
    `interval: ${formatDuration(o.intervalMs)}`,
    // The default timeout (10s) must stay shorter than the interval.
    ...(o.intervalMs <= 10_000 ? [`timeout: ${formatDuration(Math.floor(o.intervalMs / 2))}`] : []),
    'concurrency: 32',
    `dns: { servers: ["127.0.0.1:${servers.dnsPort}"] }`,
    `tls: { ca_file: ${JSON.stringify(servers.caFile)}${servers.listsTlsRequirements ? `, requirements: [${TLS_REQUIREMENTS.join(', ')}]` : ''} }`,
    ...(o.extraYaml === undefined ? [] : [o.extraYaml]),
    'targets:',
  ];
  const checks = o.checks === undefined ? '' : `, checks: [${o.checks.join(', ')}]`;
  for (let i = 0; i < o.hosts; i += 1) lines.push(`  - { host: ${benchHostName(i)}, port: ${servers.originPort}${checks} }`);
  for (const host of o.quietHosts) lines.push(`  - { host: ${host}, port: ${servers.quietPort}, checks: [dns, tcp] }`);
  return `${lines.join('\n')}\n`;
}

/** Whether the build at `exporterDir` takes `tls.requirements` (see BenchServers.listsTlsRequirements). */
export async function takesTlsRequirements(exporterDir: string, dir: string): Promise<boolean> {
  const file = join(dir, 'requirements-key.yml');
  await writeFile(file, 'catalog: none\ntls: { requirements: [] }\n');
  return execFileAsync(process.execPath, [join(exporterDir, 'dist/cli.js'), '--config.check', '--config.file', file], { timeout: 60_000 }).then(
    () => true,
    () => false,
  );
}

/** The effective config the exporter makes of a file (`--config.check`), to tell two configs apart. */
export async function effectiveConfig(exporterDir: string, file: string): Promise<string> {
  const { stdout } = await execFileAsync(process.execPath, [join(exporterDir, 'dist/cli.js'), '--config.check', '--config.file', file], { timeout: 60_000, maxBuffer: 64 * 2 ** 20 });
  return stdout;
}

export async function runExporter(servers: BenchServers, o: ExporterRunOptions): Promise<ExporterRunResult> {
  const configFile = join(servers.dir, `${o.name}.yml`);
  await writeFile(configFile, exporterConfig(servers, o));
  const profileDir = join(servers.dir, `${o.name}-profile`);
  const exporter = await ExporterProcess.start({
    name: o.name,
    dir: servers.dir,
    exporterDir: servers.exporterDir,
    configFile,
    nodeFlags: [...NODE_FLAGS, ...(o.nodeFlags ?? []), ...(o.cpuProfile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), ...(o.memory ? MEMORY_PROBE_FLAGS : [])],
    quietHosts: o.quietHosts,
    scrapeEveryMs: o.scrapeEveryMs,
    ipc: o.memory !== undefined,
  });
  const pinger = o.pinger ? forkModule(`pinger (${o.name})`, join(import.meta.dirname, 'pinger-child.ts'), [`${exporter.base}/-/healthy`], join(servers.dir, 'pinger.log')) : undefined;
  try {
    const pingerLink = pinger === undefined ? undefined : await linkChild(pinger);
    const { shared, processes } = await measureWindow(servers, [exporter], o, pingerLink);
    const window = processes[0] as ProcessWindow;
    // After the peak was read: a full GC and the heap snapshots take memory of their own.
    let memorySample: MemorySample | undefined;
    if (o.memory !== undefined) {
      o.log(`  ${o.name}: asking where the memory is (a full GC${o.memory.snapshots ? ', heap snapshots' : ''})`);
      memorySample = await askMemory(exporter.child, servers.dir, o.memory.snapshots);
      for (const file of memorySample.snapshots) o.log(`  ${o.name}: heap snapshot ${file}`);
      await writeFile(join(servers.dir, `${o.name}-memory.json`), `${JSON.stringify(memorySample, null, 1)}\n`);
    }

    // Extra scrapes for the scrape-time p99, alternating gzip and plain, while the schedule runs.
    const extraScrapes: ScrapeResult[] = [];
    const extraUntil = Date.now() + 2 * o.intervalMs;
    const scrapeTimeoutMs = Math.max(o.scrapeEveryMs, 10_000);
    const count = (gzip: boolean) => window.windowScrapes.filter((s) => s.acceptedGzip === gzip).length + extraScrapes.filter((s) => s.acceptedGzip === gzip).length;
    if (o.scrapeSamples > 0) o.log(`  ${o.name}: extra scrapes for the p99 (up to ${o.scrapeSamples} of each kind, at most ${formatDuration(2 * o.intervalMs)})`);
    while (Date.now() < extraUntil && (count(true) < o.scrapeSamples || count(false) < o.scrapeSamples)) {
      exporter.alive();
      const gzip = count(true) <= count(false);
      extraScrapes.push(await scrape(`${exporter.base}/metrics`, { gzip, keepText: false, timeoutMs: scrapeTimeoutMs }));
      await sleepUntil(Date.now() + 100);
    }

    await exporter.stop();
    let profile: string | undefined;
    if (o.cpuProfile) {
      const files = (await readdir(profileDir).catch(() => [])).filter((f) => f.endsWith('.cpuprofile'));
      if (files[0] !== undefined) profile = join(profileDir, files[0]);
    }
    const result: ExporterRunResult = { ...shared, ...window, extraScrapes };
    if (profile !== undefined) result.profile = profile;
    if (memorySample !== undefined) result.memory = memorySample;
    return result;
  } finally {
    await pinger?.stop();
    await exporter.stop();
  }
}
