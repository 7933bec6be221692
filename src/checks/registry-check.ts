// The registry check on a path: the pull as `docker pull` takes it. Every host the
// registry sends the pull to (token realm, blob host) gets its own connection on the
// same path: its own lookup and TCP directly, its own CONNECT through a proxy (per host
// under NO_PROXY with `proxy: env`). Credentials are read at each run, so a rotated
// pull token is picked up without a reload.
import { loadRegistryCredentials } from '../config/registry-credentials.js';
import { resolvingDial } from '../probes/net/dial.js';
import type { ResolvingDialOptions } from '../probes/net/dial.js';
import { envProxyFor } from '../probes/net/no-proxy.js';
import { proxyDial } from '../probes/net/proxy.js';
import type { FailureReason } from '../probes/reasons.js';
import { registryName } from '../probes/registry/registry.js';
import type { RegistryProbeOptions, RegistryResult } from '../probes/registry/registry.js';
import type { Dial } from '../probes/types.js';
import { resolversOf } from './dns-check.js';
import { PROXY_PATH } from './paths.js';
import type { PathCheck, PathRun } from './path-run.js';

/** The name the pull asks the registry by: its server_name when set (SNI, Host), else its host. */
function registryHost(target: PathRun['target']): string {
  return target.serverName ?? target.host;
}

/**
 * Opens a connection on the path to a host the pull only learns as it goes. The
 * registry's own name (its server_name when set) is dialled at the target's host, as
 * curl --resolve NAME:PORT:HOST does; every other host (token realm, blob host) as named.
 */
function dialFactory(p: PathRun): (host: string, port: number) => Dial {
  const { target, ctx, path } = p;
  const plan = p.plan;
  const resolver = resolversOf(ctx.config)[0] ?? 'system';
  const dialled = (host: string, port: number): string => (port === target.port && host === registryHost(target) ? target.host : host);
  const direct = (host: string, port: number): Dial => {
    if ('dial' in plan && path.proxy === null && host === target.host && port === target.port) return plan.dial;
    const options: ResolvingDialOptions = { resolver };
    if (ctx.sinkhole !== undefined) options.sinkhole = ctx.sinkhole;
    return resolvingDial(host, port, options);
  };
  const proxy = path.proxy;
  const envProxied = proxy !== null && ctx.config.proxies.length === 0 && ctx.config.proxy === 'env';
  return (named, port) => {
    const host = dialled(named, port);
    if (proxy === null) return direct(host, port);
    if (!envProxied) return proxyDial(proxy, host, port);
    const spec = envProxyFor(host, ctx.env, PROXY_PATH);
    return spec === null ? direct(host, port) : proxyDial(spec, host, port);
  };
}

export const registryCheck: PathCheck<'registry'> = {
  name: 'registry',
  wanted: (target) => target.registry !== undefined,
  run: (p) => {
    const { target, ctx } = p;
    const pull = target.registry;
    if (pull === undefined) return Promise.resolve(undefined);
    const failed = (reason: FailureReason, message: string, durationSeconds: number): RegistryResult => ({
      ok: false,
      reason,
      message,
      durationSeconds,
      registry: registryName(registryHost(target), target.port),
      failedStep: 'ping',
      steps: {},
      transcript: [],
    });
    const plan = p.plan;
    return p.run(
      'registry',
      async (signal) => {
        if ('skip' in plan) return failed(plan.skip.reason, plan.skip.message, 0);
        const credentials = await loadRegistryCredentials({ host: registryHost(target), port: target.port, credentials: pull.credentials, dockerConfig: pull.dockerConfig }, { env: ctx.env });
        const options: RegistryProbeOptions = { dialFor: dialFactory(p), viaProxy: p.path.proxy !== null, ca: ctx.trust.caPem, systemRoots: ctx.trust.publicRoots };
        if (credentials !== undefined) options.credentials = credentials;
        return ctx.probes.registry({ host: registryHost(target), port: target.port, repository: pull.repository, reference: pull.reference, platform: pull.platform }, options, signal);
      },
      failed,
    );
  },
};
