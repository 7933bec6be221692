// /probe?target=HOST[:PORT][&debug=true]: one target's checks run now, into an
// answer of their own (the scheduled results and their series are untouched), within
// the scrape's timeout. The exposition of that one round, with blackbox_exporter's
// probe_success and probe_duration_seconds for the target, or its debug transcript.
// Other query parameters (the Prometheus Operator's `module`) are ignored.
import type express from 'express';
import { roundContext } from '../checks/context.js';
import type { ProbeSet } from '../checks/context.js';
import type { PathHealth } from '../checks/path-health.js';
import { runRound } from '../checks/round.js';
import type { Config } from '../config/types.js';
import type { Trust } from '../config/trust.js';
import { roundSignal } from '../async/round-signal.js';
import type { Logger } from '../logging/logger.js';
import { CONTENT_TYPE } from '../metrics/exposition.js';
import { renderRound } from '../metrics/view.js';
import type { Target } from '../model/types.js';
import { onDemandRunner } from '../scheduler/check-runner.js';
import { parseScrapeTimeout, probeBudgetMs, SCRAPE_TIMEOUT_HEADER } from './probe-deadline.js';
import { lookupProbeTarget } from './probe-target.js';
import { renderTranscript } from './transcript.js';

/** What the daemon runs with now (it changes on reload). */
export interface ProbeRouteState {
  config: Config;
  targets: readonly Target[];
  trust: Trust;
  /** Aborts at shutdown and reload: a /probe round stops with the scheduler's. */
  signal: AbortSignal;
}

export interface ProbeRouteDeps {
  current: () => ProbeRouteState;
  logger: Logger;
  /** The daemon's: a host that must stay blocked and goes silent is judged by what its path reaches lately. */
  pathHealth?: PathHealth;
  /** Probes put in place of the defaults (tests). */
  probes?: Partial<ProbeSet>;
}

export function probeRoute(deps: ProbeRouteDeps): express.RequestHandler {
  return async (req, res) => {
    // A client that goes away aborts the probe.
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const debug = req.query.debug === 'true' || req.query.debug === '1';
    const timeout = parseScrapeTimeout(req.get(SCRAPE_TIMEOUT_HEADER));
    if (!timeout.ok) {
      res.status(400).type('text/plain').send(`${timeout.message}\n`);
      return;
    }
    const { config, targets, trust, signal } = deps.current();
    const lookup = lookupProbeTarget(req.query.target, targets, config.web.allowAnyTarget, config.tls.requirements);
    if (!lookup.ok) {
      res.status(lookup.status).type('text/plain').send(`${lookup.message}\n`);
      return;
    }
    const endsAtMs = Date.now() + probeBudgetMs(timeout.seconds, config.timeoutMs);
    const stopped = roundSignal(gone.signal, signal);
    const runner = onDemandRunner({ config, signal: stopped, logger: deps.logger, endsAtMs });
    const setup = { config, trust, logger: deps.logger, ...(deps.pathHealth !== undefined && { pathHealth: deps.pathHealth }), ...(deps.probes !== undefined && { probes: deps.probes }) };
    const report = await runRound(lookup.target, roundContext(setup, runner));
    if (gone.signal.aborted) return;
    // Cut short by a reload or shutdown: its checks said nothing, and a partial round must
    // not read as probe_success 1. The scrape fails (up 0) instead.
    if (stopped.aborted) {
      res.status(503).type('text/plain').send('the round was stopped by a reload or shutdown before it finished; ask again\n');
      return;
    }
    if (debug) res.type('text/plain').send(renderTranscript(report));
    else res.type(CONTENT_TYPE).send(renderRound(report, config));
  };
}
