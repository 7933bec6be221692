// Which ways out a target is probed over: straight to the host, through the
// proxy the config or the environment names, or through each named proxy.
import type { Config } from '../config/types.js';
import { envProxyFor } from '../probes/net/no-proxy.js';
import type { ProbePath } from './report.js';
import type { Target } from '../model/types.js';

/** The `path` label of checks that go straight to the host. */
export const DIRECT_PATH = 'direct';
/** The `path` label of the single proxy of `proxy: env` or `proxy: <url>`. */
export const PROXY_PATH = 'proxy';

export type { ProbePath } from './report.js';

const DIRECT: ProbePath = { name: DIRECT_PATH, proxy: null, expectInterception: false };

/**
 * `proxies` (when set) wins over `proxy`. `proxy: env` follows HTTPS_PROXY and
 * NO_PROXY per host, as curl does: a host NO_PROXY matches goes direct.
 * `compare_direct` adds the direct path next to the proxy ones.
 */
export function pathsFor(target: Target, config: Config, env: NodeJS.ProcessEnv = process.env): ProbePath[] {
  let proxied: ProbePath[];
  if (config.proxies.length > 0) {
    proxied = config.proxies.map((p) => ({ name: p.name, proxy: { name: p.name, url: new URL(p.url) }, expectInterception: p.expectInterception }));
  } else if (config.proxy === 'none') {
    proxied = [];
  } else {
    const spec = config.proxy === 'env' ? envProxyFor(target.host, env, PROXY_PATH) : { name: PROXY_PATH, url: new URL(config.proxy) };
    proxied = spec === null ? [] : [{ name: PROXY_PATH, proxy: spec, expectInterception: false }];
  }
  if (proxied.length === 0) return [DIRECT];
  return config.compareDirect ? [DIRECT, ...proxied] : proxied;
}
