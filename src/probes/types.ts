// Shared shapes for every probe. A probe is a pure async function
// `(target, options, signal) => result`: it never throws for a network failure,
// it returns a result whose `reason` comes from the fixed set in reasons.ts.
import type { Socket } from 'node:net';
import type { FailureReason } from './reasons.js';

/** What every probe result carries. */
export interface ProbeOutcome {
  ok: boolean;
  /** Set exactly when ok is false. */
  reason?: FailureReason;
  /** Human detail for logs and debug output; never used as a label. */
  message?: string;
  durationSeconds: number;
}

/**
 * Opens the byte stream a TLS or HTTP check runs over: a direct TCP connection,
 * or a CONNECT tunnel through a proxy. Resolves to a failure instead of throwing.
 */
export type Dial = (signal: AbortSignal) => Promise<DialResult>;

export type DialResult =
  | {
      ok: true;
      socket: Socket;
      /** Looking the host up, when the dial resolved its name itself (resolvingDial). */
      lookupSeconds?: number;
      /** TCP connect to the host, or to the proxy on a proxy path. */
      connectSeconds: number;
      /** On a proxy path: from sending CONNECT to its 200. */
      proxyConnectSeconds?: number;
      /** The socket is a CONNECT tunnel: a close before any byte came back is the proxy's doing. */
      viaProxy?: boolean;
      remoteAddress?: string;
    }
  | { ok: false; reason: FailureReason; message: string; durationSeconds: number };

/**
 * Dials for a host the check only learns while it runs (a registry's token realm, the
 * blob host a redirect points to): each call returns a Dial that opens a fresh byte
 * stream to host:port over one path. Direct: resolvingDial; through a proxy: proxyDial.
 */
export type DialFactory = (host: string, port: number) => Dial;
