// The http and registry checks speak HTTP through undici over sockets they opened
// themselves (dialTls): every phase is timed by the check, and nothing is shared with
// another check or round (no pool, no TLS session cache). What both need from undici,
// made one way: a client that takes only the check's own sockets, a request the
// deadline always ends, and a close.
import type { Socket } from 'node:net';
import { Client, errors } from 'undici';
import type { Dispatcher } from 'undici';
import { untilAborted } from '../../async/abort.js';

const noop = (): void => {};

/** Where a client gets its sockets: the one already open, then `more()` each time undici asks again (absent: none). */
export interface OwnSockets {
  first?: Socket;
  /** Opens another socket; resolves to an Error (thrown at undici, classified by the caller) when it cannot. */
  more?: () => Promise<Socket | Error>;
}

/**
 * An undici Client for `origin` over the check's own sockets. It speaks HTTP/2 exactly
 * when the socket's ALPN selected h2 (allowH2), one request at a time, and has no timers
 * of its own: the check's deadline (its signal) bounds everything.
 */
export function clientOnOwnSockets(origin: string, sockets: OwnSockets): Client {
  let first = sockets.first;
  const client = new Client(origin, {
    allowH2: true,
    pipelining: 1,
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: (_opts, callback) => {
      const given = first;
      first = undefined;
      // Asynchronously: called synchronously, undici would not send the waiting request.
      if (given !== undefined) {
        queueMicrotask(() => callback(null, given));
        return;
      }
      if (sockets.more === undefined) {
        callback(Object.assign(new Error('the check has one connection'), { code: 'ECONNRESET' }), null);
        return;
      }
      void sockets.more().then((opened) => (opened instanceof Error ? callback(opened, null) : callback(null, opened)));
    },
  });
  client.on('connectionError', noop);
  return client;
}

/**
 * An undici request under `signal`. undici settles an aborted request only once it
 * was dispatched: the race makes the deadline hold whatever state the client is in.
 */
export function requestBefore(client: Client, options: Omit<Dispatcher.RequestOptions, 'origin' | 'signal'>, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
  return untilAborted(client.request({ ...options, signal }), signal, 'UND_ERR_ABORTED');
}

/** Time given to undici to close a client before the sockets are destroyed under it. */
const RELEASE_MS = 200;

/**
 * The error a released client's sockets are destroyed with, made once: left to itself,
 * destroy() builds a ClientDestroyedError for every check, and the socket's destroy
 * formats its stack (together 1.5 % of the CPU of 1,000 hosts' reachability checks).
 * It is never reported: the check's answer is in by the time its client is released.
 */
const RELEASED = new errors.ClientDestroyedError();

/**
 * Closes an undici client, waiting at most RELEASE_MS. Before its sockets are
 * destroyed: undici 7's h2 session trips over a socket destroyed under it.
 */
export function closeClient(client: Client): Promise<void> {
  return new Promise((resolve) => {
    // A timer cleared on close (AbortSignal.timeout would fire every time, with a
    // DOMException), unreferenced as that one was: a close must not hold the process open.
    const timer = setTimeout(resolve, RELEASE_MS).unref();
    const closed = (): void => {
      clearTimeout(timer);
      resolve();
    };
    client.destroy(RELEASED).then(closed, closed);
  });
}
