// The http and registry checks speak HTTP through undici over sockets they opened
// themselves (tls-client.ts): each phase is timed and nothing is shared with another
// check. What both need from undici: a request the deadline always ends, and a close.
import { untilAborted } from './abort.js';
import type { Client, Dispatcher } from 'undici';

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
    client.destroy().then(closed, closed);
  });
}

