// A round run now, outside the schedule (/probe, the check command): its own
// registry, results and concurrency, so the scheduled series stay untouched.
import { setMaxListeners } from 'node:events';
import { readFile } from 'node:fs/promises';
import { Registry } from 'prom-client';
import type { Config } from '../config/types.js';
import type { Logger } from '../logging/logger.js';
import { Recorder, recorderOptionsFrom } from '../metrics/recorder.js';
import { ResultStore } from './results.js';
import { DEFAULT_PROBES, sinkholeFromConfig } from './round.js';
import type { ProbeSet, RoundContext } from './round.js';
import { Semaphore } from './semaphore.js';

/** PEM text of tls.ca_file, read once per config. */
export async function readCaPem(config: Config): Promise<string[]> {
  return config.tls.caFile === null ? [] : [await readFile(config.tls.caFile, 'utf8')];
}

export interface OnDemandOptions {
  config: Config;
  caPem: readonly string[];
  logger: Logger;
  signal: AbortSignal;
  probes?: Partial<ProbeSet>;
  /** Checks at once; default config.concurrency. */
  concurrency?: number;
}

export function onDemandContext(options: OnDemandOptions): { context: RoundContext; registry: Registry } {
  const { config } = options;
  // Every check of the round waits on it (as on the scheduler's): with six or more paths, more than 10.
  setMaxListeners(0, options.signal);
  const registry = new Registry();
  const context: RoundContext = {
    config,
    recorder: new Recorder(registry, recorderOptionsFrom(config)),
    results: new ResultStore(),
    limiter: new Semaphore(options.concurrency ?? config.concurrency),
    logger: options.logger,
    signal: options.signal,
    probes: { ...DEFAULT_PROBES, ...options.probes },
    caPem: options.caPem,
    sinkhole: sinkholeFromConfig(config),
    logChanges: false,
  };
  return { context, registry };
}
