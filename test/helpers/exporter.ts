// The set-up the in-process end-to-end tests share: a temp dir holding the test CA
// and an egress.yml, an exporter listening on a free loopback port that has run its
// first round, and loggers that write nowhere or to memory.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfigFile } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { startExporter } from '../../src/exporter.js';
import type { Exporter } from '../../src/exporter.js';
import { createLogger } from '../../src/logging/logger.js';
import type { Logger, LogLevel } from '../../src/logging/logger.js';
import type { Shard } from '../../src/shard/assignment.js';
import { getPki } from '../fixtures/pki.js';
import { scrape } from './scrape.js';
import type { Scrape } from './scrape.js';

/** A logger that writes nowhere: for tests that read metrics, not logs. */
export function quietLogger(): Logger {
  return createLogger('error', 'json', new Writable({ write: (_c, _e, done) => done() }));
}

/** A JSON logger that keeps what it writes, so a test can assert what an operator would read. */
export interface MemoryLogger {
  logger: Logger;
  /** Everything written, as written. */
  text(): string;
  /** The last `n` lines written, for a failure message. */
  tail(n: number): string;
  /** Every line written, parsed. */
  lines(): Array<Record<string, unknown>>;
}

export function memoryLogger(level: LogLevel = 'info'): MemoryLogger {
  const written: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      written.push(chunk.toString());
      done();
    },
  });
  const lines = () => written.join('').split('\n').filter(Boolean);
  return {
    logger: createLogger(level, 'json', out),
    text: () => written.join(''),
    tail: (n) => lines().slice(-n).map((line) => `${line}\n`).join(''),
    lines: () => lines().map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** A fresh directory under the system's temp dir, named `prefix` and a random suffix. */
export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * Writes `dir`/ca.pem, what an egress.yml beside it names as `tls: { ca_file: ca.pem }`:
 * the test root CA, then any other PEMs to trust.
 */
export async function writeTestCa(dir: string, ...alsoTrusted: string[]): Promise<void> {
  const pki = await getPki();
  await writeFile(join(dir, 'ca.pem'), [pki.rootCa, ...alsoTrusted].join('\n'));
}

export interface TestExporterOptions {
  /** Where egress.yml is written (beside the ca.pem it may name); default a fresh temp dir. */
  dir?: string;
  /** Default: quietLogger(). */
  logger?: Logger;
  /** false: return as soon as the exporter listens, without waiting for its first round. */
  waitForFirstRound?: boolean;
  /** --shard/--total-shards: schedule only this shard's targets. */
  shard?: Shard;
}

export interface TestExporter {
  exporter: Exporter;
  /** http://127.0.0.1:PORT */
  base: string;
  /** Scrapes /metrics. */
  scrape(): Promise<Scrape>;
  stop(): Promise<void>;
}

export interface TestExporterOnFile extends TestExporter {
  /** The egress.yml it loaded, and reloads on POST /-/reload. */
  file: string;
}

/**
 * Starts an exporter on 127.0.0.1, on a free port, and waits for its first round of checks.
 * YAML is written to egress.yml and loaded as the daemon loads it (the exporter reloads
 * from that file); a Config is used as it is.
 */
export function startTestExporter(yaml: string, options?: TestExporterOptions): Promise<TestExporterOnFile>;
export function startTestExporter(config: Config, options?: TestExporterOptions): Promise<TestExporter>;
export async function startTestExporter(yamlOrConfig: string | Config, options: TestExporterOptions = {}): Promise<TestExporter & { file?: string }> {
  let config: Config;
  let file: string | undefined;
  if (typeof yamlOrConfig === 'string') {
    file = join(options.dir ?? (await tempDir('egress-test-')), 'egress.yml');
    await writeFile(file, yamlOrConfig);
    config = await loadConfigFile(file);
  } else {
    config = yamlOrConfig;
  }
  const exporter = await startExporter({ config, configFile: file, listen: { host: '127.0.0.1', port: 0 }, logger: options.logger ?? quietLogger(), shard: options.shard ?? null });
  if (options.waitForFirstRound !== false) await exporter.scheduler.firstRound;
  const base = `http://127.0.0.1:${exporter.address.port}`;
  return { exporter, base, file, scrape: () => scrape(base), stop: () => exporter.stop() };
}
