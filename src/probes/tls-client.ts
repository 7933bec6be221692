// The TLS client side the checks share: the trust store (system roots plus
// tls.ca_file) as one cached SecureContext, and one handshake over a dialled
// socket (a direct connection or a CONNECT tunnel) turned into data.
//
// The handshake never resumes a session (no `session` option; Node's client keeps no
// session cache) and does not stop on certificates (`rejectUnauthorized: false`):
// `authorized` says whether the chain verified against the context's roots and the
// name matched, and each caller decides what that means for its check.
//
// Reasons of a failed handshake:
//   TLS alert / not a TLS answer / any ERR_SSL_*   tls_handshake_failed
//   via a proxy, the tunnel closed before a
//   single byte of TLS came back                  proxy_closed (the proxy dropped the tunnel)
//   connection closed/reset otherwise             reset
//   no answer before the deadline                 timeout
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext } from 'node:tls';
import type { SecureContext, TLSSocket } from 'node:tls';
import { socketErrorReason } from './reasons.js';
import type { FailureReason } from './reasons.js';
import { anchorsFromPems } from './tls-certs.js';
import { WireTap } from './tls-wire.js';

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
  secureContext: SecureContext;
  alpn: readonly string[];
  /** The socket is a CONNECT tunnel: a close before any TLS byte is the proxy's doing. */
  viaProxy: boolean;
  signal: AbortSignal;
}

export type TlsClientResult =
  | {
      ok: true;
      socket: TLSSocket;
      /** Between the TLS socket and the dialled one; destroying it destroys the dialled socket. */
      tap: WireTap;
      /** tls.connect -> secureConnect. */
      seconds: number;
      /** 'h2', 'http/1.1' or 'none'. */
      alpn: string;
      /** 'TLSv1.3', 'TLSv1.2', ... */
      version: string;
      authorized: boolean;
      authorizationError?: string;
    }
  | { ok: false; reason: FailureReason; message: string };

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_SSL_UNEXPECTED_EOF_WHILE_READING', 'ERR_STREAM_PREMATURE_CLOSE']);

const noop = (): void => {};
const secondsSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

function errorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * One handshake over `raw`. Never rejects. On failure everything it opened, `raw`
 * included, is destroyed; on success the caller owns `socket` and `tap`.
 */
export function connectTls(raw: Socket, options: TlsClientOptions): Promise<TlsClientResult> {
  return new Promise((resolve) => {
    let tunnelBytes = 0;
    raw.on('error', noop);
    const tap = new WireTap(raw, (chunk) => {
      tunnelBytes += chunk.length;
    });
    tap.on('error', noop);
    let socket: TLSSocket | undefined;
    let done = false;
    const finish = (r: TlsClientResult) => {
      if (done) return;
      done = true;
      options.signal.removeEventListener('abort', onAbort);
      if (socket !== undefined) {
        socket.removeListener('error', onError);
        socket.removeListener('close', onClose);
      }
      if (!r.ok) {
        socket?.destroy();
        tap.destroy();
      }
      resolve(r);
    };
    const closedEarly = (detail: string): TlsClientResult =>
      options.viaProxy && tunnelBytes === 0
        ? { ok: false, reason: 'proxy_closed', message: `the proxy closed the tunnel before any TLS answer (${detail})` }
        : { ok: false, reason: 'reset', message: `connection closed during the TLS handshake after ${tunnelBytes} bytes (${detail})` };
    const onError = (err: Error) => {
      const code = errorCode(err);
      if (RESET_CODES.has(code)) return finish(closedEarly(code));
      if (code.startsWith('ERR_SSL_')) return finish({ ok: false, reason: 'tls_handshake_failed', message: `TLS handshake failed: ${code.replace(/^ERR_SSL_/, '').toLowerCase()}` });
      finish({ ok: false, reason: socketErrorReason(err), message: `TLS handshake: ${code || 'error'}: ${errorMessage(err).slice(0, 200)}` });
    };
    const onClose = () => finish(closedEarly('closed'));
    const onAbort = () =>
      finish({ ok: false, reason: 'timeout', message: tunnelBytes === 0 ? 'no TLS answer before the deadline' : `TLS handshake stalled after ${tunnelBytes} bytes` });
    options.signal.addEventListener('abort', onAbort, { once: true });
    if (options.signal.aborted) return onAbort();
    const start = process.hrtime.bigint();
    try {
      socket = tlsConnect({
        socket: tap,
        secureContext: options.secureContext,
        ...(isIP(options.servername) === 0 && { servername: options.servername }),
        host: options.servername,
        ALPNProtocols: [...options.alpn],
        rejectUnauthorized: false,
      });
    } catch (err) {
      return finish({ ok: false, reason: 'tls_handshake_failed', message: `TLS setup: ${errorMessage(err)}` });
    }
    socket.on('error', onError);
    socket.once('close', onClose);
    socket.once('secureConnect', () => {
      const s = socket;
      if (s === undefined) return;
      s.on('error', noop);
      const alpn = typeof s.alpnProtocol === 'string' && s.alpnProtocol !== '' ? s.alpnProtocol : 'none';
      const r: TlsClientResult = { ok: true, socket: s, tap, seconds: secondsSince(start), alpn, version: s.getProtocol() ?? 'unknown', authorized: s.authorized };
      if (!s.authorized) {
        const authErr: unknown = s.authorizationError;
        r.authorizationError = typeof authErr === 'string' ? authErr : errorCode(authErr) || errorMessage(authErr);
      }
      finish(r);
    });
  });
}
