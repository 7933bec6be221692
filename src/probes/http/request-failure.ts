// What a failed HTTP request means, for every check that sends one (the http check,
// the registry check): decided here and nowhere else, by the error's code.
//
//   the check's deadline passed (or undici's own timer)          timeout
//   the far end closed or reset the connection or the stream:
//   a socket reset, an EOF inside TLS, a premature close, undici's
//   socket error (incl. a GOAWAY), a stream reset or cancelled by
//   the peer, a session closed with an error code, undici's
//   "stream closed before the response" (UND_ERR_INFO)            reset
//   an answer that is not HTTP (llhttp's parser error, an HTTP/2
//   protocol error)                                               http_bad_response
//   any other socket error                                       its reason (reasons.ts)
import { RESET_CODES, errorCode, errorMessage } from '../errors.js';
import { socketErrorReason } from '../reasons.js';
import type { FailureReason } from '../reasons.js';

/** undici's and node:http2's codes for a connection or stream the peer ended. */
const CLOSED_CODES: ReadonlySet<string> = new Set([
  ...RESET_CODES,
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  // undici's InformationalError: a stream or connection the peer ended ("stream closed before the response was complete", "reset").
  'UND_ERR_INFO',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_STREAM_CANCEL',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_SESSION_ERROR',
]);
const TIMEOUT_CODES: ReadonlySet<string> = new Set(['UND_ERR_ABORTED', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export interface RequestFailure {
  reason: FailureReason;
  message: string;
}

/**
 * The reason of a request that got no response head. `aborted`: the check's signal
 * aborted (its deadline). `where` names the peer in the message (a host); `protocol`,
 * when known, the HTTP version the request went out with.
 */
export function requestFailure(err: unknown, aborted: boolean, where: string, protocol?: '2' | '1.1'): RequestFailure {
  const code = errorCode(err);
  const answer = protocol === undefined ? 'HTTP answer' : `HTTP/${protocol} answer`;
  if (aborted || TIMEOUT_CODES.has(code)) return { reason: 'timeout', message: `no ${answer} from ${where} before the deadline` };
  if (CLOSED_CODES.has(code)) return { reason: 'reset', message: `${where} closed the connection before the ${answer} (${code})` };
  // undici's HTTPParserError may carry no code at all.
  if (code.startsWith('HPE_') || code.startsWith('ERR_HTTP2_') || (err instanceof Error && err.name === 'HTTPParserError')) {
    return { reason: 'http_bad_response', message: `not an ${answer} from ${where} (${code}: ${errorMessage(err).slice(0, 200)})` };
  }
  return { reason: socketErrorReason(err), message: `${answer} from ${where}: ${code || 'error'}: ${errorMessage(err).slice(0, 200)}` };
}
