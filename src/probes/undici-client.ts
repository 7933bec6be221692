// The http and registry checks speak HTTP through undici over sockets they opened
// themselves (tls-client.ts): each phase is timed and nothing is shared with another
// check. What both need from undici: a request the deadline always ends, and a close.
import { errors } from 'undici';
import type { Client, Dispatcher } from 'undici';
import { untilAborted } from './abort.js';

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

