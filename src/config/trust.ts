// What a config trusts, read from the files it names once per load (start-up, reload):
// tls.ca_file, and the public roots (the system's plus tls.public_ca_file).
import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import type { Config } from './types.js';

export interface Trust {
  /** PEM text of tls.ca_file (a string may hold several certificates). */
  caPem: readonly string[];
  /** The roots that count as public: the system's plus tls.public_ca_file. */
  publicRoots: readonly string[];
}

/** Read once per config: each array is parsed once, by identity (trustedContext caches by it). */
export async function readTrust(config: Config): Promise<Trust> {
  const publicRoots = config.tls.publicCaFile === null ? rootCertificates : [...rootCertificates, await readFile(config.tls.publicCaFile, 'utf8')];
  const caPem = config.tls.caFile === null ? [] : [await readFile(config.tls.caFile, 'utf8')];
  return { caPem, publicRoots };
}
