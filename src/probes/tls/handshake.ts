// One handshake of the tls check: a fresh connection over the path's dial, under its
// own deadline, and what it showed (version, cipher, group, ALPN, EMS, the server's
// signature scheme on TLS 1.2), read from the socket and the cleartext server flight.
// The tls check's own handshakes always read the flight (observeWire); a native one
// (the http check's, judged by SharedDefaultHandshake) is read only when Node alone
// shows every fact as the flight would (factsWithoutWire).
import type { SecureContext, TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { deadlineSignal } from '../../async/abort.js';
import { secondsSince } from '../../async/clock.js';
import { errorMessage } from '../errors.js';
import type { FailureReason } from '../reasons.js';
import type { Dial } from '../types.js';
import { chainFromPeer } from './tls-certs.js';
import { dialTls } from './tls-client.js';
import type { TlsConnected } from './tls-client.js';
import type { TlsHandshakeFacts } from './tls-result.js';
import { groupName } from './tls-wire.js';
import type { WireObservation } from './tls-wire.js';

/** What one handshake showed. */
export interface ObservedHandshake extends TlsHandshakeFacts {
  signatureScheme?: number;
  reused: boolean;
  authorized: boolean;
  authorizationError?: string;
  /** The leaf's SHA-256 fingerprint (base handshake only): what the chain facts are cached by. */
  leafFingerprint?: string;
  /** Empty when the facts of this leaf are cached (certFactsFor). */
  chain: X509Certificate[];
}

export type HandshakeRun =
  | { status: 'ok'; facts: ObservedHandshake; durationSeconds: number }
  | { status: 'failed'; detail: string; durationSeconds: number }
  | { status: 'untested'; reason: FailureReason; detail: string; durationSeconds: number };

function negotiatedGroup(wire: WireObservation | undefined, socket: TLSSocket): string {
  const hello = wire?.serverHello;
  if (hello?.version === 0x0304 && hello.keyShareGroup !== undefined) return groupName(hello.keyShareGroup);
  const ske = wire?.serverKeyExchange;
  if (ske?.kx === 'ecdhe' && ske.namedCurve !== undefined) return groupName(ske.namedCurve);
  if (ske?.kx === 'dhe') return 'dhe';
  return groupFromSocket(socket);
}

/** The group as getEphemeralKeyInfo() names it (Node 20: `{type:'ECDH', name:'prime256v1'|'X25519'|...}`, `{type:'DH', size}`). */
function groupFromSocket(socket: TLSSocket): string {
  const info = socket.getEphemeralKeyInfo();
  if (info === null || typeof info !== 'object' || !('type' in info)) return 'none';
  if (info.type === 'DH') return 'dhe';
  switch (info.name) {
    case 'prime256v1':
      return 'P-256';
    case 'secp384r1':
      return 'P-384';
    case 'secp521r1':
      return 'P-521';
    case 'X25519':
    case 'X448':
      return info.name;
    default:
      return info.name === undefined ? 'none' : 'other';
  }
}

/** Groups getEphemeralKeyInfo() names as the key_share does. A TLS 1.3 ffdhe group is only 'DH' there ('dhe', where the wire says 'ffdhe2048'). */
const NAMED_ALIKE: ReadonlySet<string> = new Set(['P-256', 'P-384', 'P-521', 'X25519', 'X448']);

/**
 * Whether a handshake read without its server flight (a native connection) shows every
 * fact as the flight would: TLS 1.3 with a group in NAMED_ALIKE. A TLS 1.2 one does not:
 * its EMS and the server's signature scheme are in the flight only.
 */
export function factsWithoutWire(tls: TlsConnected): boolean {
  return tls.wire !== undefined || (tls.version === 'TLSv1.3' && NAMED_ALIKE.has(groupFromSocket(tls.socket)));
}

export function observe(tls: TlsConnected, needsChain: HandshakePlan['needsChain']): ObservedHandshake {
  const { socket, wire } = tls;
  const cipher = socket.getCipher() as { standardName?: string; name?: string } | undefined;
  const facts: ObservedHandshake = {
    version: tls.version,
    cipher: cipher?.standardName ?? cipher?.name ?? 'unknown',
    group: negotiatedGroup(wire, socket),
    alpn: tls.alpn,
    // The tap sees every byte before TLS does, so a TLS 1.2 handshake that succeeded had
    // its ServerHello parsed; without one, EMS is 'not observable' (judgeSuccess).
    ems: tls.version === 'TLSv1.2' ? (wire?.serverHello?.ems ?? null) : null,
    handshakeSeconds: tls.seconds,
    reused: socket.isSessionReused(),
    authorized: tls.authorized,
    chain: [],
  };
  if (wire?.serverKeyExchange?.signatureScheme !== undefined) facts.signatureScheme = wire.serverKeyExchange.signatureScheme;
  if (tls.authorizationError !== undefined) facts.authorizationError = tls.authorizationError;
  if (needsChain !== undefined) {
    // getPeerCertificate(false), not getPeerX509Certificate(): after the latter, Node 20 answers getPeerCertificate(true) with {}.
    const leaf: string | undefined = tls.leafFingerprint ?? (socket.getPeerCertificate(false).fingerprint256 || undefined);
    if (leaf !== undefined) facts.leafFingerprint = leaf;
    if (leaf === undefined || needsChain(leaf, facts.authorized, facts.authorizationError)) facts.chain = chainFromPeer(socket.getPeerCertificate(true));
  }
  return facts;
}

export interface HandshakePlan {
  context: SecureContext;
  alpn?: readonly string[];
  /** The base handshake: whether the chain must be read for this leaf (not cached). Absent: never read it. */
  needsChain?: (leaf: string, authorized: boolean, authorizationError: string | undefined) => boolean;
}

export interface Connection {
  servername: string;
  dial: Dial;
  timeoutMs: number;
}

/** One fresh connection and handshake, under its own deadline. Never rejects; leaves nothing open. */
export async function runHandshake(conn: Connection, plan: HandshakePlan, parent: AbortSignal): Promise<HandshakeRun> {
  const start = process.hrtime.bigint();
  const deadline = deadlineSignal(parent, conn.timeoutMs);
  try {
    const tls = await dialTls(conn.dial, { servername: conn.servername, secureContext: plan.context, ...(plan.alpn !== undefined && { alpn: plan.alpn }), observeWire: true, signal: deadline.signal });
    if (!tls.ok) {
      const durationSeconds = secondsSince(start);
      return tls.verdict ? { status: 'failed', detail: tls.detail, durationSeconds } : { status: 'untested', reason: tls.reason, detail: tls.detail, durationSeconds };
    }
    try {
      return { status: 'ok', facts: observe(tls, plan.needsChain), durationSeconds: secondsSince(start) };
    } catch (err) {
      return { status: 'untested', reason: 'internal_error', detail: `reading the handshake: ${errorMessage(err)}`, durationSeconds: secondsSince(start) };
    } finally {
      tls.socket.destroy();
      tls.transport.destroy();
    }
  } catch (err) {
    return { status: 'untested', reason: 'internal_error', detail: `unexpected: ${errorMessage(err)}`, durationSeconds: secondsSince(start) };
  } finally {
    deadline.release();
  }
}
