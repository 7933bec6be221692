// The http check on a path, over the path's dial (or skipped with the reason the path
// gave). When the tls check runs too, the http check's handshake is offered to it as its
// default one (SharedDefaultHandshake): one handshake a round for both.
import type { HttpProbeOptions, HttpResult } from '../probes/http/http.js';
import { SharedDefaultHandshake } from '../probes/tls/tls.js';
import type { Dial } from '../probes/types.js';
import type { PathCheck, PathRun } from './path-run.js';
import { tlsOptions } from './tls-check.js';

function httpOptions(p: PathRun, dial: Dial): HttpProbeOptions {
  const options: HttpProbeOptions = { dial, ca: p.ctx.trust.caPem, systemRoots: p.ctx.trust.publicRoots, viaProxy: p.path.proxy !== null };
  if (p.shared !== undefined) options.onHandshake = p.shared.witness;
  if (p.target.http !== undefined) options.expectation = p.target.http;
  // The same name as the tls check's (tlsOptions), so the handshake they share stands for both.
  if (p.target.serverName !== undefined) options.servername = p.target.serverName;
  return options;
}

export const httpCheck: PathCheck<'http'> = {
  name: 'http',
  wanted: (target) => target.checks.includes('http'),
  run: (p) => {
    const plan = p.plan;
    const viaProxy = p.path.proxy !== null;
    if ('dial' in plan && p.wants('tls')) p.shared = new SharedDefaultHandshake(p.target, tlsOptions(p, plan.dial));
    const noAnswer = { alpn: 'none', valid: false, phases: {}, viaProxy } satisfies Partial<HttpResult>;
    return p.run(
      'http',
      (signal) => ('dial' in plan ? p.ctx.probes.http(p.target, httpOptions(p, plan.dial), signal) : Promise.resolve({ ...plan.skip, ...noAnswer })),
      (reason, message, durationSeconds) => ({ ok: false, reason, message, durationSeconds, ...noAnswer }),
    );
  },
};
