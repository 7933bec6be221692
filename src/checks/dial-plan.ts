// Which connection a path's tls, http and registry checks open: through the path's
// proxy, or straight to the address the tcp check found reachable. Or none, when the
// path cannot be tested: then they report at once the reason the path already gave,
// instead of waiting out their own deadlines against a blocked path.
import type { Family, Target } from '../model/types.js';
import { directDial } from '../probes/net/dial.js';
import { proxyDial } from '../probes/net/proxy.js';
import type { TcpResult } from '../probes/net/tcp.js';
import type { FailureReason } from '../probes/reasons.js';
import type { Dial } from '../probes/types.js';
import type { ProbePath } from './report.js';

/** What a check reports when its path cannot be tested. */
export interface Skip {
  ok: false;
  reason: FailureReason;
  message: string;
  durationSeconds: number;
}

/** Each call of `dial` opens a fresh connection on the path. */
export type Plan = { dial: Dial } | { skip: Skip };

/** The address the handshakes use: the first that accepted a connection, else the first resolved. */
function connectAddress(target: Target, addresses: Partial<Record<Family, string[]>>, tcp: TcpResult | undefined): string | undefined {
  const reachable = tcp?.families.flatMap((f) => f.attempts.filter((a) => a.ok).map((a) => a.address)) ?? [];
  return reachable[0] ?? target.families.map((f) => addresses[f]?.[0]).find((a) => a !== undefined);
}

/**
 * The plan of a path after its tcp check (absent when not wanted). Not tested: no
 * address to connect to, or a tcp check that reached nothing (no address accepted a
 * connection, or the proxy refused the tunnel): could not test, not "failed".
 */
export function planPath(target: Target, path: ProbePath, addresses: Partial<Record<Family, string[]>>, tcp: TcpResult | undefined): Plan {
  let dial: Dial | undefined;
  if (path.proxy !== null) dial = proxyDial(path.proxy, target.host, target.port);
  else {
    const address = connectAddress(target, addresses, tcp);
    if (address !== undefined) dial = directDial(address, target.port);
  }
  if (dial === undefined) return { skip: { ok: false, reason: 'no_addresses', message: 'no addresses to connect to (the DNS check found none)', durationSeconds: 0 } };
  if (tcp !== undefined && !tcp.ok && tcp.families.every((f) => f.reachable === 0)) {
    const why = tcp.message ?? tcp.reason ?? 'failed';
    return { skip: { ok: false, reason: tcp.reason ?? 'unreachable', message: `not tried: the tcp check reached nothing (${why})`, durationSeconds: 0 } };
  }
  return { dial };
}
