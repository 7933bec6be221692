// What Node's errors say, read one way for every probe: the stable `code` (callers
// branch on it, never on the text) and a message fit for a result's detail.

/** The error's `code` ('' without one). */
export function errorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
}

/** The error's message, or the thrown value as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Codes that mean "the far end closed or reset the connection" on a TLS or HTTP
 * socket: a cause of `reset` (or `proxy_closed` in a silent tunnel), never a verdict.
 */
export const RESET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_SSL_UNEXPECTED_EOF_WHILE_READING', 'ERR_STREAM_PREMATURE_CLOSE']);
