// /probe answers within the scrape's own timeout, as blackbox_exporter does:
// Prometheus sends it as X-Prometheus-Scrape-Timeout-Seconds, and the round
// gets that minus a margin for the answer to travel, never more than the
// configured check timeout: every check of it ends by then (the on-demand
// runner's deadline). A blackholed host then reports its failure instead of
// failing the scrape.

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
