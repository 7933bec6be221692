// A round's context for tests that run rounds themselves: the builder the daemon,
// /probe and the check command use, with an on-demand runner and the test's CA.
import { rootCertificates } from 'node:tls';
import { roundContext } from '../../src/checks/context.js';
import type { ProbeSet, RoundContext } from '../../src/checks/context.js';
import type { RoundReport } from '../../src/checks/report.js';
import type { Config } from '../../src/config/types.js';
import type { Logger } from '../../src/logging/logger.js';
import type { Target } from '../../src/model/types.js';
import { onDemandRunner } from '../../src/scheduler/check-runner.js';
import { quietLogger } from './exporter.js';

export interface TestRoundOptions {
  config: Config;
  /** tls.ca_file's PEM text. */
  ca?: readonly string[];
  probes?: Partial<ProbeSet>;
  previous?: (target: Target) => RoundReport | undefined;
  now?: () => number;
  /** Checks at once (default 4). */
  concurrency?: number;
  signal?: AbortSignal;
  logger?: Logger;
}

export function testRoundContext(options: TestRoundOptions): RoundContext {
  const logger = options.logger ?? quietLogger();
  const runner = onDemandRunner({ config: options.config, signal: options.signal ?? new AbortController().signal, logger, concurrency: options.concurrency ?? 4 });
  const setup = { config: options.config, trust: { caPem: options.ca ?? [], publicRoots: rootCertificates }, logger };
  return roundContext(
    {
      ...setup,
      ...(options.probes !== undefined && { probes: options.probes }),
      ...(options.previous !== undefined && { previous: options.previous }),
      ...(options.now !== undefined && { now: options.now }),
    },
    runner,
  );
}
