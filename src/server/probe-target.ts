// What /probe?target= may probe: a configured target, or, only with
// web.allow_any_target, any host:port (blackbox_exporter's /probe is an SSRF
// hole; this one is closed by default).
import { normaliseHost } from '../config/schema.js';
import { CHECK_NAMES } from '../model/types.js';
import type { Target } from '../model/types.js';

export type TargetLookup = { ok: true; target: Target } | { ok: false; status: 400; message: string };

/** `host`, `host:port` or `[v6]:port`. */
function splitHostPort(text: string): { host: string; port: number } | null {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  const named = /^([^:[\]]+)(?::(\d{1,5}))?$/.exec(text);
  const match = bracketed ?? named;
  if (match === null) return null;
  const port = match[2] === undefined ? 443 : Number(match[2]);
  if (port < 1 || port > 65535) return null;
  const host = normaliseHost(match[1] ?? '');
  return host === null ? null : { host, port };
}

export function lookupProbeTarget(query: unknown, targets: readonly Target[], allowAny: boolean): TargetLookup {
  if (typeof query !== 'string' || query === '') return { ok: false, status: 400, message: 'missing ?target=HOST (a configured target)' };
  const wanted = splitHostPort(query);
  if (wanted === null) return { ok: false, status: 400, message: `target ${JSON.stringify(query)} is not a host or host:port` };
  const explicitPort = /:\d{1,5}$/.test(query);
  const found = targets.find((t) => t.host === wanted.host && (!explicitPort || t.port === wanted.port));
  if (found) return { ok: true, target: found };
  if (!allowAny) {
    return {
      ok: false,
      status: 400,
      message: `target ${JSON.stringify(query)} is not configured; probing hosts outside the config needs web.allow_any_target: true`,
    };
  }
  return {
    ok: true,
    target: { host: wanted.host, port: wanted.port, families: ['v4'], checks: [...CHECK_NAMES], labels: {}, purpose: '', source: 'probe' },
  };
}
