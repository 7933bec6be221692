// The proxy dial: a TCP connection to an HTTP proxy (or TLS to an https:// proxy),
// `CONNECT host:port`, and the proxy's answer turned into data. On success the
// socket is a tunnel to the target: the TLS and HTTP checks run inside it, so they
// report what a client behind that proxy gets.
//
// Reasons (every one names the proxy's doing, never the origin's):
//   TCP to the proxy refused, unreachable or reset  -> proxy_refused
//   the proxy's name does not resolve                -> proxy_refused (the message says so)
//   TCP/TLS to the proxy or the CONNECT answer late  -> proxy_timeout
//   TLS to an https:// proxy fails (alert, cert)     -> proxy_protocol_error
//   an error status                                  -> as proxy-answer.ts reads it with the
//                                                       proxy's words: 407 proxy_auth_required,
//                                                       403 proxy_denied, 502/503/504 and a 500
//                                                       saying it could not reach or resolve
//                                                       the host proxy_bad_gateway
//   closed/reset before or while answering           -> proxy_closed
//   not HTTP, a head over 16 KiB, any other status   -> proxy_protocol_error
// Any 2xx is success (RFC 9110 9.3.6); 1xx interim answers are skipped.
//
// A tunnel that closes right after its 200 is not the dial's to notice: the dial has
// already succeeded (and says `viaProxy`). The next layer sees a connection closed
// before any byte came back, and reports 'proxy_closed' (tls.ts, http.ts): through a
// tunnel, that close is the proxy's. After bytes came back it is 'reset'.
//
// Bytes that arrive in the same read as the end of the CONNECT answer belong to the
// tunnel: they are pushed back (`unshift`) onto the paused socket, and the consumer
// sees them first.
//
// Secrets: the password of a proxy URL goes into the Proxy-Authorization header and
// nowhere else. Messages name the proxy by its name and its redacted URL, and the only
// text the proxy itself controls (reason phrase, Proxy-Authenticate) is scrubbed of
// the password before it is quoted.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import { createSecureContext, rootCertificates } from 'node:tls';
import type { SecureContext, TLSSocket } from 'node:tls';
import { connectTcp } from './dial.js';
import { errorCode, errorMessage } from '../errors.js';
import { secondsSince } from '../../async/clock.js';
import { connectTls, trustedContext } from '../tls/tls-client.js';
import type { FailureReason } from '../reasons.js';
import { readProxyAnswer } from './proxy-answer.js';
import type { Dial, DialResult } from '../types.js';
import { listen, settleOnce, untilAborted } from '../../async/abort.js';

/** A named proxy. `url` is http://[user:pass@]host[:port] or https://... */
export interface ProxySpec {
  /** The `path` label and the name used in messages. Must not contain the password. */
  name: string;
  url: URL;
}

export interface ProxyDialOptions {
  /**
   * Turns the proxy's host name into an address. Default: IP literals as is, names
   * through dns.lookup (getaddrinfo, the system resolver, as any client would do to
   * find its proxy). This is the only name the exporter resolves on a proxy path:
   * the target's name is sent in CONNECT and resolved by the proxy.
   */
  resolveProxyHost?: (host: string, signal: AbortSignal) => Promise<string>;
  /** Sent as User-Agent on the CONNECT request when set (some proxies apply policies by agent). */
  userAgent?: string;
  /** Extra CAs trusted for an https:// proxy's own certificate (added to the system roots). */
  proxyCa?: readonly string[];
  /** Upper bound of the CONNECT answer head. Default 16 KiB. */
  maxHeadBytes?: number;
}

export const DEFAULT_MAX_PROXY_HEAD_BYTES = 16 * 1024;

/** Redacts a proxy URL for logs and messages: `http://user:***@host:port`. */
export function redactProxyUrl(url: URL | string): string {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return '<invalid proxy url>';
  }
  let auth = '';
  if (u.username !== '' || u.password !== '') auth = `${u.username}${u.password !== '' ? ':***' : ''}@`;
  const path = u.pathname === '/' || u.pathname === '' ? '' : u.pathname;
  return `${u.protocol}//${auth}${u.host}${path}`;
}

/** `Basic base64(user:pass)` with URL-decoded parts, or undefined without credentials. */
export function proxyAuthorization(url: URL): string | undefined {
  if (url.username === '' && url.password === '') return undefined;
  return `Basic ${Buffer.from(`${safeDecode(url.username)}:${safeDecode(url.password)}`, 'utf8').toString('base64')}`;
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** The port of a proxy URL: explicit, else 443 for https:// and 80 for http:// (Go's choice; curl assumes 1080). */
export function proxyPort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** A host name as it appears in an authority: IPv6 literals in brackets. */
export function authority(host: string, port: number): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return `${isIP(bare) === 6 ? `[${bare}]` : bare}:${port}`;
}

/** The proxy host of a URL without IPv6 brackets. */
function proxyHostname(url: URL): string {
  const h = url.hostname;
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** Text the proxy controls, made safe to quote: printable ASCII, bounded, no password. */
function quoteUntrusted(text: string, secrets: readonly string[]): string {
  let out = text.replace(/[^\x20-\x7e]/g, '?').slice(0, 120);
  for (const s of secrets) if (s !== '') out = out.split(s).join('***');
  return out;
}

export type ProxyHead =
  | { kind: 'incomplete' }
  | { kind: 'garbage'; detail: string }
  | { kind: 'too_large' }
  | { kind: 'head'; status: number; reasonPhrase: string; headers: Record<string, string>; headLength: number };

const HTTP_PREFIX = Buffer.from('HTTP/');

/**
 * Parses the start of a proxy's answer. Tolerant of split reads (call again with more
 * bytes) and of bare LF line ends; strict about the status line. Exported for tests.
 */
export function parseProxyHead(buf: Buffer, maxBytes = DEFAULT_MAX_PROXY_HEAD_BYTES): ProxyHead {
  const prefixLen = Math.min(buf.length, HTTP_PREFIX.length);
  if (!buf.subarray(0, prefixLen).equals(HTTP_PREFIX.subarray(0, prefixLen))) {
    return { kind: 'garbage', detail: `answer does not start with HTTP/ (${describeBytes(buf)})` };
  }
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  let end = -1;
  let sepLen = 0;
  if (crlf >= 0 && (lf < 0 || crlf < lf)) [end, sepLen] = [crlf, 4];
  else if (lf >= 0) [end, sepLen] = [lf, 2];
  if (end < 0) return buf.length > maxBytes ? { kind: 'too_large' } : { kind: 'incomplete' };
  if (end + sepLen > maxBytes) return { kind: 'too_large' };
  const lines = buf.subarray(0, end).toString('latin1').split(/\r?\n/);
  const statusLine = lines[0] ?? '';
  const m = /^HTTP\/1\.[01] ([1-9]\d\d)(?: (.*))?$/.exec(statusLine);
  if (m === null) return { kind: 'garbage', detail: `bad status line (${describeBytes(Buffer.from(statusLine, 'latin1'))})` };
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return { kind: 'garbage', detail: 'bad header line' };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { kind: 'head', status: Number(m[1]), reasonPhrase: m[2] ?? '', headers, headLength: end + sepLen };
}

function describeBytes(buf: Buffer): string {
  const head = buf.subarray(0, 24);
  const printable = head.every((b) => b >= 0x20 && b < 0x7f);
  return printable ? JSON.stringify(head.toString('latin1')) : `0x${head.toString('hex')}`;
}

async function defaultResolve(host: string): Promise<string> {
  if (isIP(host) !== 0) return host;
  return (await lookup(host)).address;
}


/**
 * A Dial that opens a CONNECT tunnel to host:port through `proxy`. The returned
 * socket is paused, positioned at the first byte of the tunnel. Never rejects.
 */
export function proxyDial(proxy: ProxySpec, host: string, port: number, options: ProxyDialOptions = {}): Dial {
  return (signal) => dialThroughProxy(proxy, host, port, options, signal);
}

async function dialThroughProxy(proxy: ProxySpec, host: string, port: number, options: ProxyDialOptions, signal: AbortSignal): Promise<DialResult> {
  const start = process.hrtime.bigint();
  const url = proxy.url;
  const label = `proxy ${proxy.name} (${redactProxyUrl(url)})`;
  const secrets = [url.password, safeDecode(url.password)].filter((s) => s !== '');
  const scrub = (text: string): string => {
    let out = text;
    for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
    return out;
  };
  const fail = (reason: FailureReason, message: string): DialResult => ({ ok: false, reason, message: scrub(message), durationSeconds: secondsSince(start) });

  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return fail('proxy_protocol_error', `${label}: unsupported proxy scheme ${url.protocol} (http:// and https:// only)`);
  }
  if (signal.aborted) return fail('proxy_timeout', `${label}: deadline passed before connecting`);

  const proxyHost = proxyHostname(url);
  const pport = proxyPort(url);
  let address: string;
  try {
    address = await untilAborted((options.resolveProxyHost ?? defaultResolve)(proxyHost, signal), signal);
  } catch (err) {
    if (signal.aborted) return fail('proxy_timeout', `${label}: looking up ${proxyHost} timed out`);
    return fail('proxy_refused', `${label}: cannot resolve proxy host ${proxyHost}: ${errorCode(err) || errorMessage(err)}`);
  }

  const tcp = await connectTcp(address, pport, signal);
  if (!tcp.ok) {
    const reason: FailureReason = tcp.reason === 'timeout' ? 'proxy_timeout' : 'proxy_refused';
    return fail(reason, `${label}: ${tcp.message}`);
  }
  let socket: Socket = tcp.socket;
  socket.on('error', () => {});

  if (url.protocol === 'https:') {
    const secured = await tlsToProxy(socket, proxyHost, options.proxyCa ?? [], signal);
    if (!secured.ok) {
      socket.destroy();
      return fail(secured.reason, `${label}: TLS to the proxy: ${secured.message}`);
    }
    socket = secured.socket;
    socket.on('error', () => {});
  }
  const connectSeconds = secondsSince(start);

  const target = authority(host, port);
  const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`];
  const auth = proxyAuthorization(url);
  if (auth !== undefined) lines.push(`Proxy-Authorization: ${auth}`);
  if (options.userAgent !== undefined) lines.push(`User-Agent: ${options.userAgent.replace(/[\r\n]/g, ' ')}`);
  const request = `${lines.join('\r\n')}\r\n\r\n`;

  const answered = await awaitConnectAnswer(socket, request, options.maxHeadBytes ?? DEFAULT_MAX_PROXY_HEAD_BYTES, signal);
  if (answered.kind !== 'ok') {
    socket.destroy();
    switch (answered.kind) {
      case 'timeout':
        return fail('proxy_timeout', `${label}: no answer to CONNECT ${target} before the deadline${answered.bytes > 0 ? ` (${answered.bytes} bytes of a head)` : ''}`);
      case 'closed':
        return fail('proxy_closed', `${label}: connection closed ${answered.bytes > 0 ? `in the middle of its answer to CONNECT ${target} (${answered.bytes} bytes)` : `without answering CONNECT ${target}`}${answered.code ? ` (${answered.code})` : ''}`);
      case 'garbage':
        return fail('proxy_protocol_error', `${label}: not an HTTP answer to CONNECT ${target}: ${quoteUntrusted(answered.detail, secrets)}`);
      case 'too_large':
        return fail('proxy_protocol_error', `${label}: answer head to CONNECT ${target} larger than ${options.maxHeadBytes ?? DEFAULT_MAX_PROXY_HEAD_BYTES} bytes`);
      case 'status': {
        const phrase = answered.reasonPhrase === '' ? '' : ` ${quoteUntrusted(answered.reasonPhrase, secrets)}`;
        const wants = answered.status === 407 && answered.authenticate !== undefined ? ` (asks for ${quoteUntrusted(answered.authenticate.split(/\s/)[0] ?? '', secrets)})` : '';
        const sent = answered.status === 407 ? (auth === undefined ? '; no credentials sent' : '; credentials sent were refused') : '';
        const words = readProxyAnswer(answered.status, answered.reasonPhrase, answered.headers);
        const said = words.evidence === '' ? '' : ` (${quoteUntrusted(words.evidence, secrets)})`;
        const unreachable = words.reason === 'proxy_bad_gateway' ? ': the proxy could not reach or resolve the host' : '';
        return fail(words.reason, `${label} answered CONNECT ${target} with ${answered.status}${phrase}${said}${wants}${sent}${unreachable}`);
      }
    }
  }
  return { ok: true, socket, connectSeconds, proxyConnectSeconds: answered.proxyConnectSeconds, remoteAddress: address, viaProxy: true };
}

/** Node's default trust (system roots, NODE_EXTRA_CA_CERTS), built once: what any client of an https:// proxy verifies it with. */
let defaultTrust: SecureContext | undefined;

type TlsToProxy = { ok: true; socket: TLSSocket } | { ok: false; reason: FailureReason; message: string };

/** TLS to an https:// proxy: the shared handshake, its failures named as the proxy's, its certificate required to verify. */
async function tlsToProxy(raw: Socket, servername: string, extraCa: readonly string[], signal: AbortSignal): Promise<TlsToProxy> {
  const secureContext = extraCa.length > 0 ? trustedContext(rootCertificates, extraCa) : (defaultTrust ??= createSecureContext());
  // Native (no WireTap): nothing is judged from the proxy's server flight, and its failures read the same from OpenSSL's error.
  const secured = await connectTls(raw, { servername, secureContext, alpn: ['http/1.1'], viaProxy: false, observeWire: false, signal });
  if (!secured.ok) {
    const reason: FailureReason = secured.reason === 'timeout' ? 'proxy_timeout' : secured.reason === 'reset' ? 'proxy_closed' : 'proxy_protocol_error';
    return { ok: false, reason, message: secured.detail };
  }
  if (!secured.authorized) {
    secured.socket.destroy();
    secured.transport.destroy();
    return { ok: false, reason: 'proxy_protocol_error', message: `its certificate did not verify (${secured.authorizationError ?? 'unknown'})` };
  }
  return { ok: true, socket: secured.socket };
}

type ConnectAnswer =
  | { kind: 'ok'; proxyConnectSeconds: number }
  | { kind: 'timeout'; bytes: number }
  | { kind: 'closed'; bytes: number; code?: string }
  | { kind: 'garbage'; detail: string }
  | { kind: 'too_large' }
  | { kind: 'status'; status: number; reasonPhrase: string; headers: Record<string, string>; authenticate?: string };

/** Writes the CONNECT request and reads the answer head. Leaves the socket paused, with any extra bytes unshifted. */
function awaitConnectAnswer(socket: Socket, request: string, maxHeadBytes: number, signal: AbortSignal): Promise<ConnectAnswer> {
  let buffered: Buffer = Buffer.alloc(0);
  return settleOnce<ConnectAnswer>(signal, () => ({ kind: 'timeout', bytes: buffered.length }), (settle) => {
    const sent = process.hrtime.bigint();
    /** Bytes after the 200's head: the tunnel's first. */
    let rest: Buffer | undefined;
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      for (;;) {
        const head = parseProxyHead(buffered, maxHeadBytes);
        if (head.kind === 'incomplete') return;
        if (head.kind === 'garbage') return settle({ kind: 'garbage', detail: head.detail });
        if (head.kind === 'too_large') return settle({ kind: 'too_large' });
        if (head.status < 200) {
          // 1xx interim answer: skip it and keep reading.
          buffered = buffered.subarray(head.headLength);
          if (buffered.length === 0) return;
          continue;
        }
        if (head.status >= 300) {
          const answer: ConnectAnswer = { kind: 'status', status: head.status, reasonPhrase: head.reasonPhrase, headers: head.headers };
          if (head.headers['proxy-authenticate'] !== undefined) answer.authenticate = head.headers['proxy-authenticate'];
          return settle(answer);
        }
        rest = buffered.subarray(head.headLength);
        return settle({ kind: 'ok', proxyConnectSeconds: secondsSince(sent) });
      }
    };
    const closed = () => settle({ kind: 'closed', bytes: buffered.length });
    const onError = (err: Error) => settle({ kind: 'closed', bytes: buffered.length, code: errorCode(err) || err.message });
    const unlisten = listen(socket, { data: onData, end: closed, close: closed, error: onError });
    socket.write(request);
    return () => {
      // Pause before dropping the 'data' listener: a flowing socket without one drops bytes.
      socket.pause();
      unlisten();
      if (rest !== undefined && rest.length > 0) socket.unshift(rest);
    };
  });
}
