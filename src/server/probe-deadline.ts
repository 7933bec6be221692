// /probe answers within the scrape's own timeout, as blackbox_exporter does:
// Prometheus sends it as X-Prometheus-Scrape-Timeout-Seconds, and the round
// gets that minus a margin for the answer to travel, never more than the
// configured check timeout. A blackholed host then reports its failure instead
// of failing the scrape.
import type { Config } from '../config/types.js';
import type { ProbeSet } from '../scheduler/round.js';

export const SCRAPE_TIMEOUT_HEADER = 'X-Prometheus-Scrape-Timeout-Seconds';

/** Left for the answer to reach Prometheus (blackbox_exporter's --timeout-offset default). */
export const SCRAPE_TIMEOUT_MARGIN_MS = 500;

export type ScrapeTimeout = { ok: true; seconds: number | undefined } | { ok: false; message: string };

/**
 * The header's value in seconds; undefined when absent, empty or 0 (no
 * timeout given, as blackbox_exporter reads it). Anything but a non-negative
 * number is refused with a message naming the header.
 */
export function parseScrapeTimeout(header: string | undefined): ScrapeTimeout {
  const text = header?.trim() ?? '';
  if (text === '') return { ok: true, seconds: undefined };
  const seconds = /^\d+(?:\.\d+)?$|^\.\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(seconds)) return { ok: false, message: `${SCRAPE_TIMEOUT_HEADER}: expected a number of seconds such as 10 or 2.5, got ${JSON.stringify(header)}` };
  return { ok: true, seconds: seconds === 0 ? undefined : seconds };
}

/**
 * The deadline of an on-demand round: the scrape timeout minus the margin
 * (half of it when the timeout is under a second, so something is left to
 * probe in), at most the configured check timeout.
 */
export function probeBudgetMs(scrapeTimeoutSeconds: number | undefined, checkTimeoutMs: number): number {
  if (scrapeTimeoutSeconds === undefined) return checkTimeoutMs;
  const scrapeMs = scrapeTimeoutSeconds * 1000;
  return Math.max(1, Math.min(checkTimeoutMs, Math.floor(scrapeMs - Math.min(SCRAPE_TIMEOUT_MARGIN_MS, scrapeMs / 2))));
}

export interface DeadlineRound {
  /** The config with every check's timeout cut to the budget. */
  config: Config;
  /** The probes, each also aborted when the round's budget is spent. */
  probes: ProbeSet;
  /** Clears the round's timer. */
  clear: () => void;
}

type Probe<T, O, R> = (target: T, options: O, signal: AbortSignal) => Promise<R>;

function within<T, O, R>(probe: Probe<T, O, R>, deadline: AbortSignal): Probe<T, O, R> {
  return (target, options, signal) => probe(target, options, AbortSignal.any([signal, deadline]));
}

/**
 * What an on-demand round needs to end within `budgetMs` as a whole: each check
 * gets at most the budget, and every probe still running when it is spent is
 * aborted, so it reports a timeout (a failure is data) rather than vanishing.
 */
export function deadlineRound(config: Config, probes: ProbeSet, budgetMs: number): DeadlineRound {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), budgetMs);
  const { signal } = controller;
  return {
    config: budgetMs >= config.timeoutMs ? config : { ...config, timeoutMs: budgetMs },
    probes: {
      registry: within(probes.registry, signal),
      dns: within(probes.dns, signal),
      tcp: within(probes.tcp, signal),
      tcpTunnel: within(probes.tcpTunnel, signal),
      tls: within(probes.tls, signal),
      http: within(probes.http, signal),
    },
    clear: () => clearTimeout(timer),
  };
}
