// A round run now, outside the schedule (/probe, the check command): its own
// concurrency, every requirement handshake, and nothing stored, so the
// scheduled results and their series stay untouched.
import { setMaxListeners } from 'node:events';
import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import type { Config } from '../config/types.js';
import type { Logger } from '../logging/logger.js';
import { DEFAULT_PROBES, sinkholeFromConfig } from './round.js';
import type { ProbeSet, RoundContext } from './round.js';
import { Semaphore } from './semaphore.js';

/** PEM text of tls.ca_file, read once per config. */
export async function readCaPem(config: Config): Promise<string[]> {
  return config.tls.caFile === null ? [] : [await readFile(config.tls.caFile, 'utf8')];
}

/** What a config trusts: tls.ca_file, and the public roots (the system's plus tls.public_ca_file). */
export interface Trust {
  caPem: string[];
  publicRoots: readonly string[];
}

/** Read once per config: each array is parsed once, by identity. */
export async function readTrust(config: Config): Promise<Trust> {
  const publicRoots = config.tls.publicCaFile === null ? rootCertificates : [...rootCertificates, await readFile(config.tls.publicCaFile, 'utf8')];
  return { caPem: await readCaPem(config), publicRoots };
}

export interface OnDemandOptions {
  config: Config;
  caPem: readonly string[];
  publicRoots?: readonly string[];
  logger: Logger;
  signal: AbortSignal;
  probes?: Partial<ProbeSet>;
  /** Checks at once; default config.concurrency. */
  concurrency?: number;
}

export function onDemandContext(options: OnDemandOptions): RoundContext {
  const { config } = options;
  // Every check of the round waits on it (as on the scheduler's): with six or more paths, more than 10.
  setMaxListeners(0, options.signal);
  const context: RoundContext = {
    config,
    limiter: new Semaphore(options.concurrency ?? config.concurrency),
    logger: options.logger,
    signal: options.signal,
    probes: { ...DEFAULT_PROBES, ...options.probes },
    caPem: options.caPem,
  };
  if (options.publicRoots !== undefined) context.publicRoots = options.publicRoots;
  const sinkhole = sinkholeFromConfig(config);
  if (sinkhole !== undefined) context.sinkhole = sinkhole;
  return context;
}
