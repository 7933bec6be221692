// The TLS client side every check shares: the trust store (system roots plus
// tls.ca_file) as one cached SecureContext, and a TLS connection over a Dial (a direct
// connection or a CONNECT tunnel) with a deadline, its failure classified here and
// nowhere else. The tls check, the http check, the registry check and the TLS to an
// https:// proxy all connect through dialTls or connectTls.
//
// The handshake never resumes a session (no `session` option; Node's client keeps no
// session cache) and does not stop on certificates (`rejectUnauthorized: false`):
// `authorized` says whether the chain verified against the context's roots and the
// name matched, and each caller decides what that means for its check.
//
// Two ways to connect (`observeWire`):
//   observed  every inbound byte passes the server-flight parser (tls-wire.ts) through
//             a JS stream (WireTap) before TLS sees it: the tls check reads EMS, the TLS 1.2
//             signature scheme and the TLS 1.3 key_share from it, and the classification
//             below reads cleartext alerts and a non-TLS answer's first bytes.
//   native    tls.connect over the dialled socket itself: the bytes never cross JavaScript
//             (0.1-0.2 ms of CPU less a connection, bench/tls-connection.ts). The http and
//             registry checks and the TLS to an https:// proxy connect so. Failures are
//             classified from OpenSSL's error alone (an alert's code and its "SSL alert
//             number N"; a non-TLS answer's ssl code) and the bytes that came back, from the
//             dialled socket's own counter (native()). What reads otherwise than observed:
//             an answer that is one warning-level or unknown alert (OpenSSL takes it for a
//             close: reset, where the wire says tls_handshake_failed); a fatal alert whose
//             ssl code lacks _ALERT_ (unrecognized_name: "handshake error ...", the same
//             reason); a non-TLS answer (its ssl code, not its first bytes); a stall (no
//             "ServerHello seen").
//
// A failed handshake is a verdict (the path answered the handshake: it is not met)
// or could not test, with a reason:
//   alert from the peer, or a local error about what the peer chose    verdict
//     (tls_handshake_failed for a check in which TLS is one phase)
//   not a TLS answer / any other ERR_SSL_*                             tls_handshake_failed
//   via a proxy, the tunnel closed before a single byte came back      proxy_closed
//   connection closed/reset otherwise                                  reset
//   no answer before the deadline                                      timeout
//   a socket error                                                     its reason (reasons.ts)
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket, connect as tlsConnect, createSecureContext } from 'node:tls';
import type { PeerCertificate, SecureContext } from 'node:tls';
import { listen, settleOnce } from '../../async/abort.js';
import { secondsSince } from '../../async/clock.js';
import { dialUntilAbort } from '../net/dial.js';
import { RESET_CODES, errorCode, errorMessage } from '../errors.js';
import { socketErrorReason } from '../reasons.js';
import type { FailureReason } from '../reasons.js';
import { anchorsFromPems } from './tls-certs.js';
import { ServerFlightParser, WireTap, alertName, versionName } from './tls-wire.js';
import type { WireObservation } from './tls-wire.js';
import type { Dial, DialResult } from '../types.js';

/** Whom a TLS-speaking check trusts: the options the tls, http and registry checks share. */
export interface TrustOptions {
  /** Extra trusted CAs (PEM text from tls.ca_file; a string may hold several certificates), added to the system roots. */
  ca?: readonly string[];
  /** The "system" trust store. Default: tls.rootCertificates. Tests override it. */
  systemRoots?: readonly string[];
}

const contexts = new WeakMap<readonly string[], Map<string, SecureContext>>();

/**
 * A client context trusting `systemRoots` plus the certificates in `ca` (PEM text, a
 * string may hold several; blocks that do not parse are skipped: the config loader
 * reports bad files). Cached per roots array and CA set: a context holding ~150 roots
 * is expensive to build under OpenSSL 3.
 */
export function trustedContext(systemRoots: readonly string[], ca: readonly string[]): SecureContext {
  let perRoots = contexts.get(systemRoots);
  if (perRoots === undefined) {
    perRoots = new Map();
    contexts.set(systemRoots, perRoots);
  }
  const key = createHash('sha256').update(ca.join('\n')).digest('hex');
  let ctx = perRoots.get(key);
  if (ctx === undefined) {
    const caPems = anchorsFromPems(ca).map((c) => c.toString());
    ctx = createSecureContext({ ca: [...systemRoots, ...caPems] });
    if (perRoots.size >= 8) perRoots.delete(perRoots.keys().next().value as string);
    perRoots.set(key, ctx);
  }
  return ctx;
}

export interface TlsClientOptions {
  /** SNI and the name verified; an IP literal is verified but not sent as SNI. */
  servername: string;
  /** The trust (trustedContext) or a requirement's constrained context. */
  secureContext: SecureContext;
  /** Protocols offered by ALPN; absent: no ALPN extension. */
  alpn?: readonly string[];
  /** The socket is a CONNECT tunnel: a close before any TLS byte is the proxy's doing. */
  viaProxy: boolean;
  /**
   * Read the server's cleartext flight (WireTap): what the tls check judges. False: a
   * native connection, whose facts are what Node reports (no `wire`).
   */
  observeWire: boolean;
  signal: AbortSignal;
}

export interface TlsConnected {
  ok: true;
  socket: TLSSocket;
  /** What the caller destroys with `socket`: the tap when observed (it destroys the dialled socket), else the dialled socket. */
  transport: { destroy: () => void };
  /** What the parser read of the server's cleartext flight; absent on a native connection. */
  wire?: WireObservation;
  /** tls.connect -> secureConnect. */
  seconds: number;
  /** 'h2', 'http/1.1' or 'none'. */
  alpn: string;
  /** 'TLSv1.3', 'TLSv1.2', ... */
  version: string;
  authorized: boolean;
  authorizationError?: string;
  /** The leaf's SHA-256 fingerprint, when the name check read the leaf (a chain that verified). */
  leafFingerprint?: string;
}

export interface TlsFailed {
  ok: false;
  /** The path answered the handshake (an alert, or a local error about what the peer chose): a verdict, not a failure to test. */
  verdict: boolean;
  /** tls_handshake_failed for a verdict. */
  reason: FailureReason;
  /** The failure in the words of a check made of handshakes: 'alert 40 handshake_failure', 'no answer before the deadline'. */
  detail: string;
  /** The same for a check in which TLS is one phase: 'TLS handshake failed: alert 40 handshake_failure'. */
  message: string;
}

export type TlsClientResult = TlsConnected | TlsFailed;

/** How a finished handshake was offered: what a reader needs to judge it as one of its own. */
export interface HandshakeOffer {
  servername: string;
  secureContext: SecureContext;
  alpn?: readonly string[];
  /** Dial start -> secureConnect. */
  durationSeconds: number;
}

/**
 * Reads a finished handshake of another check (tls.ts SharedDefaultHandshake), at once
 * and while its socket is open. It keeps nothing of the socket and never throws.
 */
export type HandshakeWitness = (connected: TlsConnected, offer: HandshakeOffer) => void;

type FailureClass = { verdict: true; detail: string } | { verdict: false; reason: FailureReason; detail: string };

/** Local errors that are an answer about the path: the peer chose something the client did not offer, or nothing is left to offer. */
const LOCAL_VERDICT_CODES = new Set([
  'ERR_SSL_NO_CIPHERS_AVAILABLE',
  'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
  'ERR_SSL_WRONG_SSL_VERSION',
  'ERR_SSL_VERSION_TOO_LOW',
  'ERR_SSL_VERSION_TOO_HIGH',
  'ERR_SSL_INAPPROPRIATE_FALLBACK',
  'ERR_SSL_WRONG_CIPHER_RETURNED',
  'ERR_SSL_WRONG_CURVE',
  'ERR_SSL_BAD_KEY_SHARE',
  'ERR_SSL_WRONG_SIGNATURE_TYPE',
  'ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM',
  'ERR_SSL_NO_SHARED_CIPHER',
  'ERR_SSL_NO_SHARED_SIGNATURE_ALGORITHMS',
  'ERR_SSL_NO_SUITABLE_KEY_SHARE',
  'ERR_SSL_NO_SUITABLE_GROUPS',
  'ERR_SSL_UNSUPPORTED_ELLIPTIC_CURVE',
  'ERR_SSL_NO_APPLICATION_PROTOCOL',
]);

/** Answers that are not TLS at all (an HTTP error page, a captive portal...). */
const NOT_TLS_CODES = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_RECORD_LAYER_FAILURE',
  'ERR_SSL_HTTP_REQUEST',
  'ERR_SSL_HTTPS_PROXY_REQUEST',
  'ERR_SSL_UNKNOWN_PROTOCOL',
]);

const sslName = (code: string): string => code.replace(/^ERR_SSL_/, '').toLowerCase();

/**
 * Sorts a failed handshake into "the path answered" (verdict) or "could not test".
 * Exported for tests.
 */
export function classifyHandshakeFailure(err: unknown, wire: WireObservation, viaProxy = false): FailureClass {
  if (wire.alert !== undefined) {
    return { verdict: true, detail: `alert ${wire.alert.description} ${alertName(wire.alert.description)}` };
  }
  const code = errorCode(err);
  if (/^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_/.test(code)) {
    const num = /SSL alert number (\d+)/.exec(errorMessage(err))?.[1];
    const description = num === undefined ? undefined : Number(num);
    const name = description === undefined ? code.replace(/^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_/, '').toLowerCase() : alertName(description);
    return { verdict: true, detail: description === undefined ? `alert ${name}` : `alert ${description} ${name}` };
  }
  if (LOCAL_VERDICT_CODES.has(code)) return { verdict: true, detail: `local ${sslName(code)}` };
  if (wire.garbage !== undefined) return { verdict: false, reason: 'tls_handshake_failed', detail: `not a TLS answer: ${wire.garbage}` };
  if (NOT_TLS_CODES.has(code)) return { verdict: false, reason: 'tls_handshake_failed', detail: `not a TLS answer: ${sslName(code)}` };
  if (RESET_CODES.has(code)) {
    // Through a tunnel, nothing at all from the far end means the proxy dropped it.
    if (viaProxy && wire.bytesSeen === 0) return { verdict: false, reason: 'proxy_closed', detail: `the proxy closed the tunnel before any TLS answer (${code})` };
    return { verdict: false, reason: 'reset', detail: `connection closed without an alert after ${wire.bytesSeen} bytes (${code})` };
  }
  if (code.startsWith('ERR_SSL_')) return { verdict: false, reason: 'tls_handshake_failed', detail: `handshake error ${sslName(code)}` };
  return { verdict: false, reason: socketErrorReason(err), detail: `${code || 'error'}: ${errorMessage(err).slice(0, 200)}` };
}

function failed(cls: FailureClass): TlsFailed {
  return cls.verdict
    ? { ok: false, verdict: true, reason: 'tls_handshake_failed', detail: cls.detail, message: `TLS handshake failed: ${cls.detail}` }
    : { ok: false, verdict: false, reason: cls.reason, detail: cls.detail, message: `TLS handshake failed: ${cls.detail}` };
}

function timedOut(wire: WireObservation): TlsFailed {
  if (wire.bytesSeen === 0) return { ok: false, verdict: false, reason: 'timeout', detail: 'no answer before the deadline', message: 'no TLS answer before the deadline' };
  const detail = `stalled after ${wire.bytesSeen} bytes${wire.serverHello ? ' (ServerHello seen)' : ''}`;
  return { ok: false, verdict: false, reason: 'timeout', detail, message: `TLS handshake ${detail}` };
}

const noop = (): void => {};

/**
 * Node's client checks the server's name (onConnectSecure) against
 * getPeerCertificate(true): the whole chain built as objects on every handshake, about
 * a fifth of a handshake's CPU. The name check reads only the leaf (its subjectaltname,
 * and its subject's CN when it has none), so until 'secureConnect' the socket answers
 * with the leaf alone, built once: `restore` gives the socket its own method back, and
 * `fingerprint` is the leaf's SHA-256 when the name check read it (the tls check keys
 * its chain facts by it, and need not build the leaf again).
 */
function leafOnlyForNameCheck(socket: TLSSocket): { restore: () => void; fingerprint: () => string | undefined } {
  let built: PeerCertificate | undefined;
  const leaf = (): PeerCertificate => (built ??= TLSSocket.prototype.getPeerCertificate.call(socket, false));
  socket.getPeerCertificate = leaf as TLSSocket['getPeerCertificate'];
  return {
    restore: () => {
      Reflect.deleteProperty(socket, 'getPeerCertificate');
    },
    fingerprint: () => built?.fingerprint256 || undefined,
  };
}

/** Between TLS and the dialled socket: what TLS reads from, what is known of what came back. */
interface Inbound {
  /** What tls.connect is given. */
  stream: Duplex;
  transport: { destroy: () => void };
  wire?: WireObservation;
  /** What is known of the inbound bytes now (the classification reads it when TLS fails). */
  seen: () => WireObservation;
}

function observed(raw: Socket): Inbound {
  const parser = new ServerFlightParser();
  const tap = new WireTap(raw, (chunk) => parser.feed(chunk));
  tap.on('error', noop);
  return { stream: tap, transport: tap, wire: parser.result, seen: () => parser.result };
}

/**
 * TLS straight over `raw`, counting what came back with raw's own counter. Node 20
 * (measured): a net.Socket's bytesRead counts what its handle read, the TLS bytes under
 * a native TLSSocket too, and keeps its value after the close; through a CONNECT tunnel
 * it already holds the proxy's answer, and bytes the dialer pushed back (unshift) are
 * counted but still buffered: TLS reads them first. Over a TLSSocket (an https://
 * proxy's tunnel) it counts the tunnel's bytes. The TLSSocket's own bytesRead counts
 * decrypted bytes: 0 until the handshake is over.
 */
function native(raw: Socket): Inbound {
  const before = raw.bytesRead - raw.readableLength;
  return { stream: raw, transport: raw, seen: () => ({ bytesSeen: Math.max(0, raw.bytesRead - before) }) };
}

/**
 * One handshake over `raw`. Never rejects. On failure everything it opened, `raw`
 * included, is destroyed; on success the caller owns `socket` and `transport`.
 */
export function connectTls(raw: Socket, options: TlsClientOptions): Promise<TlsClientResult> {
  if (options.signal.aborted) {
    raw.destroy();
    return Promise.resolve(timedOut({ bytesSeen: 0 }));
  }
  raw.on('error', noop);
  // Closed before TLS starts: a tap would read the end at once; native TLS over a socket without a handle would wait for the deadline.
  const closedAlready = !options.observeWire && (raw.destroyed || raw.readableEnded);
  const inbound = options.observeWire ? observed(raw) : native(raw);
  let socket: TLSSocket | undefined;
  const release = (r: TlsClientResult): void => {
    if (r.ok) return;
    socket?.destroy();
    inbound.transport.destroy();
  };
  return settleOnce<TlsClientResult>(
    options.signal,
    () => timedOut(inbound.seen()),
    (settle) => {
      const start = process.hrtime.bigint();
      const fail = (err: unknown) => settle(failed(classifyHandshakeFailure(err, inbound.seen(), options.viaProxy)));
      const closed = () => Object.assign(new Error('connection closed before the handshake finished'), { code: 'ECONNRESET' });
      if (closedAlready) {
        fail(closed());
        return release;
      }
      try {
        socket = tlsConnect({
          socket: inbound.stream,
          secureContext: options.secureContext,
          ...(isIP(options.servername) === 0 && { servername: options.servername }),
          host: options.servername,
          ...(options.alpn !== undefined && { ALPNProtocols: [...options.alpn] }),
          rejectUnauthorized: false,
        });
      } catch (err) {
        fail(err);
        return release;
      }
      const s = socket;
      const leafOnly = leafOnlyForNameCheck(s);
      const unlisten = listen(s, { error: fail, close: () => fail(closed()) });
      s.once('secureConnect', () => {
        leafOnly.restore();
        const wire = inbound.wire;
        const connected: TlsConnected = {
          ok: true,
          socket: s,
          transport: inbound.transport,
          seconds: secondsSince(start),
          alpn: typeof s.alpnProtocol === 'string' && s.alpnProtocol !== '' ? s.alpnProtocol : 'none',
          version: s.getProtocol() ?? (wire?.serverHello === undefined ? 'unknown' : versionName(wire.serverHello.version)),
          authorized: s.authorized,
        };
        if (wire !== undefined) connected.wire = wire;
        const leaf = leafOnly.fingerprint();
        if (leaf !== undefined) connected.leafFingerprint = leaf;
        if (!s.authorized) {
          const authErr: unknown = s.authorizationError;
          connected.authorizationError = typeof authErr === 'string' ? authErr : errorCode(authErr) || errorMessage(authErr);
        }
        settle(connected);
      });
      return (r) => {
        leafOnly.restore();
        unlisten();
        // The caller's from here: an error it does not listen for must not crash the process.
        s.on('error', noop);
        release(r);
      };
    },
  );
}

/** A failure at stage 'tls' still carries the dial's facts (`dialed`): the connect was made and timed. */
export type DialedTls =
  | (TlsConnected & { dialed: Extract<DialResult, { ok: true }> })
  | (TlsFailed & { stage: 'dial' | 'tls'; dialed?: Extract<DialResult, { ok: true }> });

export interface DialTlsOptions extends Omit<TlsClientOptions, 'viaProxy'> {
  /** The dial goes through a proxy (known before dialling): no connection in time is proxy_timeout. */
  viaProxy?: boolean;
}

/**
 * Dials and then handshakes, both under `options.signal` (the caller's deadline).
 * Never rejects; on failure nothing it opened is left open.
 */
export async function dialTls(dial: Dial, options: DialTlsOptions): Promise<DialedTls> {
  const dialed = await dialUntilAbort(dial, options.signal);
  if (dialed === undefined) {
    const message = `no connection to ${options.servername} before the deadline`;
    return { ok: false, stage: 'dial', verdict: false, reason: options.viaProxy === true ? 'proxy_timeout' : 'timeout', detail: message, message };
  }
  if (!dialed.ok) return { ok: false, stage: 'dial', verdict: false, reason: dialed.reason, detail: dialed.message, message: dialed.message };
  const secured = await connectTls(dialed.socket, { ...options, viaProxy: options.viaProxy === true || dialed.viaProxy === true });
  return secured.ok ? { ...secured, dialed } : { ...secured, stage: 'tls', dialed };
}

/** What the dial of a dialTls showed, when it connected (even if TLS then failed): the phases before TLS. */
export function dialedFacts(result: DialedTls): Extract<DialResult, { ok: true }> | undefined {
  return result.ok || result.stage === 'tls' ? result.dialed : undefined;
}
