// The HTTP check: one real request on a fresh connection that offers ALPN
// `h2, http/1.1`, over the path a client takes (a direct connection or a CONNECT
// tunnel, given as a Dial). Every phase is opened here, so every phase is timed here:
//
//   connect        TCP to the host, or to the proxy on a proxy path (from the dial)
//   proxy_connect  CONNECT sent -> its 200 (proxy paths only, from the dial)
//   tls            tls.connect -> secureConnect, inside the tunnel on a proxy path
//   first_byte     request sent -> response head received (for HTTP/2 this includes
//                  the SETTINGS exchange, as a client's first request does)
// DNS is timed by the scheduler, not here.
//
// Protocol: one undici Client (`allowH2`) on the check's own TLS socket speaks HTTP/2
// exactly when ALPN selected 'h2', and HTTP/1.1 after 'http/1.1' or no ALPN at all (a
// server without ALPN would leave an HTTP/2 client waiting forever). Any HTTP/1.x
// answer is reported as protocol '1.1'. Whether that is a downgrade is not decided here.
//
// Request: the expectation's method and path, with its headers (never Host or a hop-by-hop
// one: the config refuses them) beside User-Agent and Accept. The Host (HTTP/2 :authority)
// is the servername: the target's server_name when it has one, as curl --resolve sends.
//
// TLS: SNI is the servername (not sent for an IP literal), no session is ever resumed (no
// `session` option, and Node's client keeps no session cache), and certificates do
// not stop the check (`rejectUnauthorized: false`): the TLS check judges them, and the
// HTTP check must still tell which protocol a client gets through an intercepting
// proxy whose CA is unknown. `tlsAuthorized` says whether the chain verified against
// the system roots plus `ca`, and the name matched.
//
// Shared: `onHandshake` is shown the finished handshake before the request is sent (so
// first_byte does not include it): the tls check judges it as its default handshake.
//
// Native TLS: the check's TLS runs straight over the dialled socket (observeWire: false),
// so no byte crosses JavaScript on its way to OpenSSL. Its failures are read from
// OpenSSL's error and the socket's byte counter (tls-client.ts), with the same reasons.
//
// Result: `ok` when a response arrived and is valid (expected status and headers; with
// no expected status, any status below 500; with expect_body, that text in what was read
// of the body: at most maxBodyBytes, within bodyTimeoutMs of the head). Reasons:
//   the dial's reason                            refused, timeout, unreachable, reset, proxy_*
//   TLS alert / not a TLS answer                  tls_handshake_failed
//   via a proxy, the tunnel closed before a
//   single byte of TLS came back                  proxy_closed (the proxy dropped the tunnel)
//   connection closed/reset otherwise             reset
//   no response before the deadline               timeout
//   an answer that is not HTTP, or not valid      http_bad_response
//   via a proxy, an error page of the proxy
//   itself inside the tunnel (X-Squid-Error,
//   Proxy-Status error=...)                      proxy_denied (403), proxy_auth_required (407),
//                                                proxy_bad_gateway (502/503/504), else
//                                                proxy_protocol_error; answeredByProxy: true
//
// Hygiene: one deadline (min of timeoutMs and the caller's signal) covers everything;
// the probe never throws and, before it resolves, destroys the undici client (and so its
// HTTP/2 session or HTTP/1.1 request), the TLS socket and the dialled socket, and clears
// every timer and listener.
import type { IncomingHttpHeaders } from 'node:http';
import type { Client } from 'undici';
import type { Dispatcher } from 'undici';
import { rootCertificates } from 'node:tls';
import type { SecureContext, TLSSocket } from 'node:tls';
import type { Readable } from 'node:stream';
import type { HttpExpectation } from '../../model/types.js';
import { VERSION } from '../../version.js';
import type { FailureReason } from '../reasons.js';
import { authority } from '../net/proxy.js';
import { readProxyAnswer, saysProxy } from '../net/proxy-answer.js';
import type { ProxyWords } from '../net/proxy-answer.js';
import { dialTls, dialedFacts, trustedContext } from '../tls/tls-client.js';
import type { HandshakeWitness, TrustOptions } from '../tls/tls-client.js';
import { listen, settleOnce } from '../../async/abort.js';
import { clientOnOwnSockets, closeClient, requestBefore } from './socket-client.js';
import { requestFailure } from './request-failure.js';
import { secondsSince } from '../../async/clock.js';
import { errorMessage } from '../errors.js';
import type { Dial, ProbeOutcome } from '../types.js';
import type { Target } from '../../model/types.js';

export interface HttpProbeOptions extends TrustOptions {
  /** Opens the byte stream: direct TCP, or a CONNECT tunnel (proxyDial). */
  dial: Dial;
  /** SNI, name to verify and Host (:authority); default target.host. An IP literal is verified but not sent as SNI. */
  servername?: string;
  /** The request and the answer that proves the host. Default GET /, any status below 500. */
  expectation?: HttpExpectation;
  /** Default DEFAULT_USER_AGENT. */
  userAgent?: string;
  /** The dial goes through a proxy: a tunnel that closes before any TLS byte is `proxy_closed`. */
  viaProxy?: boolean;
  /** At most this much of the body is read before closing. Default 64 KiB. */
  maxBodyBytes?: number;
  /** After the head, wait at most this long for the (bounded) body. Default 1000 ms. */
  bodyTimeoutMs?: number;
  /** Shown the finished handshake before the request: the tls check judges it as its default one (round.ts). */
  onHandshake?: HandshakeWitness;
}

export interface HttpPhases {
  connect?: number;
  proxy_connect?: number;
  tls?: number;
  first_byte?: number;
}

export interface HttpResult extends ProbeOutcome {
  /** The protocol actually used; absent when no HTTP exchange started. */
  protocol?: '2' | '1.1';
  /** What ALPN selected: 'h2', 'http/1.1' or 'none' (also 'none' when TLS did not finish). */
  alpn: string;
  status?: number;
  /** Lower-case response headers, bounded (no set-cookie), for debug output. */
  headers?: Record<string, string>;
  /** The response is the expected one. False when there is no response. */
  valid: boolean;
  /** Seconds per phase that took place. */
  phases: HttpPhases;
  /** The certificate chain verified (system roots + ca) and matched the name. */
  tlsAuthorized?: boolean;
  tlsAuthorizationError?: string;
  viaProxy: boolean;
  /**
   * On a proxy path: the answer was an error page of the proxy itself (X-Squid-Error,
   * Proxy-Status error), e.g. squid with ssl-bump delivering a denial inside the
   * tunnel. The reason is then a proxy_* reason, never http_bad_response.
   */
  answeredByProxy?: boolean;
  /** Body bytes read (at most maxBodyBytes; fewer when the expected text was found early). */
  bodyBytes?: number;
}

/** What was read of a body, and why the reading stopped. */
export interface BodyRead {
  bytes: number;
  /** end: the whole body; limit: maxBodyBytes read; found: the expected text seen; stalled: bodyTimeoutMs passed; cut: the stream failed; deadline: the check's deadline came. */
  stop: 'end' | 'limit' | 'found' | 'stalled' | 'cut' | 'deadline';
  /** With an expected text: whether it was seen. */
  found?: boolean;
}

export const DEFAULT_USER_AGENT = `egress-exporter/${VERSION}`;
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
export const DEFAULT_BODY_TIMEOUT_MS = 1000;
export const DEFAULT_EXPECTATION: HttpExpectation = { method: 'GET', path: '/' };
const ALPN = ['h2', 'http/1.1'];
const MAX_DEBUG_HEADERS = 40;
const MAX_DEBUG_HEADER_VALUE = 200;

const noop = (): void => {};

/** Whether a response is the expected one; `problem` says why not. Exported for tests. */
export function judgeResponse(status: number, headers: Readonly<Record<string, string>>, expectation: HttpExpectation | undefined): { valid: boolean; problem?: string } {
  const statuses = expectation?.expectStatus ?? [];
  if (statuses.length > 0) {
    if (!statuses.includes(status)) return { valid: false, problem: `status ${status}, expected ${statuses.join(' or ')}` };
  } else if (status >= 500) {
    return { valid: false, problem: `status ${status}, expected any status below 500` };
  }
  for (const [name, want] of Object.entries(expectation?.expectHeaders ?? {})) {
    const got = headers[name.toLowerCase()];
    if (got === undefined) return { valid: false, problem: `header ${name.toLowerCase()} missing, expected ${JSON.stringify(want)}` };
    if (got.trim() !== want) return { valid: false, problem: `header ${name.toLowerCase()} is ${JSON.stringify(got.slice(0, 100))}, expected ${JSON.stringify(want)}` };
  }
  return { valid: true };
}

/** Whether the body read holds the expected text; `problem` says why not. Exported for tests. */
export function judgeBody(
  read: BodyRead,
  expected: string,
  { maxBodyBytes = DEFAULT_MAX_BODY_BYTES, bodyTimeoutMs = DEFAULT_BODY_TIMEOUT_MS }: { maxBodyBytes?: number; bodyTimeoutMs?: number } = {},
): { valid: boolean; problem?: string } {
  if (read.found === true) return { valid: true };
  const shown = expected.length > 100 ? `${JSON.stringify(expected.slice(0, 97))}...` : JSON.stringify(expected);
  const within: Record<BodyRead['stop'], string> = {
    end: `the whole body, ${read.bytes} bytes`,
    found: `the ${read.bytes} bytes read`,
    limit: `its first ${read.bytes} bytes: the check reads at most ${maxBodyBytes} bytes of a body`,
    stalled: `the ${read.bytes} bytes that came within ${bodyTimeoutMs} ms of the response head: the check waits no longer for a body`,
    cut: `the ${read.bytes} bytes that came before the body was cut off`,
    deadline: `the ${read.bytes} bytes that came before the check's deadline`,
  };
  return { valid: false, problem: `body does not contain ${shown} (looked in ${within[read.stop]})` };
}

/**
 * An error page a TLS-inspecting proxy produced itself, inside the tunnel it bumped
 * (squid with ssl-bump answers CONNECT 200 and then shows its 403/503 page over the
 * intercepted TLS). Recognised by squid's `X-Squid-Error` or an RFC 9209 `Proxy-Status`
 * carrying `error=`, and read as an answer to CONNECT would be (proxy-answer.ts). Only
 * looked at on proxy paths. Exported for tests.
 */
export function proxyGeneratedError(status: number, headers: Readonly<Record<string, string>>): ProxyWords | undefined {
  if (status < 400 || !saysProxy(headers)) return undefined;
  return readProxyAnswer(status, '', headers);
}

/** All headers lower-case with string values (repeated ones joined by ", "); pseudo-headers dropped. */
function flattenHeaders(raw: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name.startsWith(':') || value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

function debugHeaders(all: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  for (const [name, value] of Object.entries(all)) {
    if (name === 'set-cookie') continue;
    if (n++ >= MAX_DEBUG_HEADERS) break;
    out[name] = value.length > MAX_DEBUG_HEADER_VALUE ? `${value.slice(0, MAX_DEBUG_HEADER_VALUE)}...` : value;
  }
  return out;
}

/** Everything this check opened; destroyed before the probe resolves. */
class Resources {
  transport?: { destroy: () => void };
  tls?: TLSSocket;
  client?: Client;
  body?: Readable;

  async release(): Promise<void> {
    this.body?.destroy();
    if (this.client !== undefined) await closeClient(this.client);
    this.tls?.destroy();
    this.transport?.destroy();
  }
}

type Step<T> = ({ ok: true } & T) | { ok: false; reason: FailureReason; message: string };

interface Context {
  host: string;
  port: number;
  servername: string;
  expectation: HttpExpectation;
  userAgent: string;
  viaProxy: boolean;
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  /** The expected text, as bytes: looked for while the body is read. */
  expectBody?: Buffer;
  signal: AbortSignal;
  res: Resources;
}

/** Probes one target. Never throws. */
export async function probeHttp(target: Target, options: HttpProbeOptions, signal: AbortSignal): Promise<HttpResult> {
  const start = process.hrtime.bigint();
  const viaProxy = options.viaProxy ?? false;
  const res = new Resources();
  const result: HttpResult = { ok: false, valid: false, alpn: 'none', phases: {}, viaProxy, durationSeconds: 0 };
  try {
    await run(target, options, signal, res, result);
  } catch (err) {
    result.ok = false;
    result.valid = false;
    result.reason = 'internal_error';
    result.message = `http probe bug: ${errorMessage(err)}`;
  } finally {
    await res.release();
  }
  result.durationSeconds = secondsSince(start);
  return result;
}

async function run(target: Target, options: HttpProbeOptions, signal: AbortSignal, res: Resources, result: HttpResult): Promise<void> {
  const fail = (reason: FailureReason, message: string) => {
    result.ok = false;
    result.reason = reason;
    result.message = message;
  };
  // Before dialling: a CA that does not parse is a configuration error, not a path failure.
  let context: SecureContext;
  try {
    context = trustedContext(options.systemRoots ?? rootCertificates, options.ca ?? []);
  } catch (err) {
    return fail('internal_error', `cannot use the configured CA certificates: ${errorMessage(err)}`);
  }
  const ctx: Context = {
    host: target.host,
    port: target.port,
    servername: options.servername ?? target.host,
    expectation: options.expectation ?? DEFAULT_EXPECTATION,
    userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
    viaProxy: result.viaProxy,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    bodyTimeoutMs: options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
    signal,
    res,
  };
  if (ctx.expectation.expectBody !== undefined) ctx.expectBody = Buffer.from(ctx.expectation.expectBody, 'utf8');
  const dialStart = process.hrtime.bigint();
  const secured = await dialTls(options.dial, { servername: ctx.servername, secureContext: context, alpn: ALPN, viaProxy: ctx.viaProxy, observeWire: false, signal });
  const dialed = dialedFacts(secured);
  if (dialed !== undefined) {
    result.phases.connect = dialed.connectSeconds;
    if (dialed.proxyConnectSeconds !== undefined) result.phases.proxy_connect = dialed.proxyConnectSeconds;
  }
  if (!secured.ok) return fail(secured.reason, secured.message);
  res.transport = secured.transport;
  res.tls = secured.socket;
  result.phases.tls = secured.seconds;
  result.alpn = secured.alpn;
  result.tlsAuthorized = secured.authorized;
  if (secured.authorizationError !== undefined) result.tlsAuthorizationError = secured.authorizationError;
  options.onHandshake?.(secured, { servername: ctx.servername, secureContext: context, alpn: ALPN, durationSeconds: secondsSince(dialStart) });

  // undici speaks HTTP/2 exactly when ALPN selected h2 (allowH2), as this says.
  result.protocol = secured.alpn === 'h2' ? '2' : '1.1';
  const answered = await exchange(ctx, secured.socket, result.protocol);
  if (!answered.ok) return fail(answered.reason, answered.message);
  result.phases.first_byte = answered.firstByteSeconds;
  result.status = answered.status;
  result.headers = debugHeaders(answered.headers);
  result.bodyBytes = answered.body.bytes;
  const line = `HTTP/${result.protocol} ${answered.status} (ALPN ${result.alpn}${result.viaProxy ? ', through the proxy' : ''})`;
  const byProxy = result.viaProxy ? proxyGeneratedError(answered.status, answered.headers) : undefined;
  if (byProxy !== undefined) {
    result.answeredByProxy = true;
    result.valid = false;
    result.ok = false;
    result.reason = byProxy.reason;
    result.message = `${line}: answered by the proxy inside the tunnel, not by the host (${byProxy.evidence})`;
    return;
  }
  let verdict = judgeResponse(answered.status, answered.headers, options.expectation);
  if (verdict.valid && ctx.expectation.expectBody !== undefined) verdict = judgeBody(answered.body, ctx.expectation.expectBody, ctx);
  result.valid = verdict.valid;
  result.ok = verdict.valid;
  if (verdict.valid) {
    result.message = line;
  } else {
    result.reason = 'http_bad_response';
    result.message = `${line}: ${verdict.problem ?? 'not the expected answer'}`;
  }
}

type Exchange = Step<{ status: number; headers: Record<string, string>; firstByteSeconds: number; body: BodyRead }>;

/**
 * Reads at most maxBodyBytes of a body, for at most bodyTimeoutMs; never fails the check.
 * With an expected text, looks for it in each chunk joined to the end of the one before
 * (the text's length less one byte: a text split across chunks is found), so each chunk
 * costs its own length whatever the body's, and stops as soon as the text is in.
 */
function drainBody(ctx: Context, body: Readable): Promise<BodyRead> {
  let bytes = 0;
  const needle = ctx.expectBody;
  let tail = Buffer.alloc(0);
  let found = false;
  const read = (stop: BodyRead['stop']): BodyRead => {
    const out: BodyRead = { bytes: Math.min(bytes, ctx.maxBodyBytes), stop };
    if (needle !== undefined) out.found = found;
    return out;
  };
  return settleOnce(ctx.signal, () => read('deadline'), (settle) => {
    const timer = setTimeout(() => settle(read('stalled')), ctx.bodyTimeoutMs);
    const onData = (chunk: Buffer | string) => {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (needle !== undefined && !found) {
        // Only what falls within maxBodyBytes counts.
        const window = Buffer.concat([tail, data.subarray(0, Math.max(0, ctx.maxBodyBytes - bytes))]);
        found = window.indexOf(needle) !== -1;
        tail = window.subarray(Math.max(0, window.length - needle.length + 1));
      }
      bytes += data.length;
      if (found) settle(read('found'));
      else if (bytes >= ctx.maxBodyBytes) settle(read('limit'));
    };
    const end = () => settle(read('end'));
    const unlisten = listen(body, { data: onData, end, close: end, error: () => settle(read('cut')) });
    if (body.destroyed) end();
    return () => {
      clearTimeout(timer);
      unlisten();
    };
  });
}

/**
 * One request over the check's own TLS socket, through undici: HTTP/2 when ALPN
 * selected h2, else HTTP/1.1. The client gets this one socket and no other.
 */
async function exchange(ctx: Context, socket: TLSSocket, protocol: '2' | '1.1'): Promise<Exchange> {
  // The origin names the Host (:authority): the servername, as curl --resolve sends it.
  const client = clientOnOwnSockets(`https://${authority(ctx.servername, ctx.port)}`, { first: socket });
  ctx.res.client = client;
  const headers: Record<string, string> = { 'user-agent': ctx.userAgent, accept: '*/*', ...ctx.expectation.headers };
  if (protocol === '1.1') headers.connection = 'close';
  const sent = process.hrtime.bigint();
  let response: Dispatcher.ResponseData;
  try {
    response = await requestBefore(client, { method: ctx.expectation.method, path: ctx.expectation.path, headers }, ctx.signal);
  } catch (err) {
    // Once the head is in, nothing fails the check.
    return { ok: false, ...requestFailure(err, ctx.signal.aborted, ctx.host, protocol) };
  }
  const firstByteSeconds = secondsSince(sent);
  ctx.res.body = response.body;
  response.body.on('error', noop);
  const body = await drainBody(ctx, response.body);
  return { ok: true, status: response.statusCode, headers: flattenHeaders(response.headers), firstByteSeconds, body };
}
