// The tcp check on a path: every resolved address directly, or the CONNECT tunnel
// through the path's proxy (the one "address" is the proxy).
import { proxyDial } from '../probes/net/proxy.js';
import type { PathCheck } from './path-run.js';

export const tcpCheck: PathCheck<'tcp'> = {
  name: 'tcp',
  wanted: (target) => target.checks.includes('tcp'),
  run: (p) => {
    const { target, path, ctx } = p;
    return p.run(
      'tcp',
      (signal) =>
        path.proxy === null
          ? ctx.probes.tcp(target, { addresses: p.report.addresses }, signal)
          : ctx.probes.tcpTunnel(target, { dial: proxyDial(path.proxy, target.host, target.port) }, signal),
      (reason, message, durationSeconds) => ({ ok: false, reason, message, durationSeconds, families: [] }),
    );
  },
};
