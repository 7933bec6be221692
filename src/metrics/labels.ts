// How a target is named on its series: `host`, plus `port` when it is not 443, so two
// targets on one host never share series and the common case reads as it always has.
import type { Target } from '../model/types.js';

/** The port every label leaves implicit: a target on 443 is known by its host alone. */
export const DEFAULT_TARGET_PORT = 443;

export function targetLabels(target: Pick<Target, 'host' | 'port'>): { host: string; port?: string } {
  return target.port === DEFAULT_TARGET_PORT ? { host: target.host } : { host: target.host, port: String(target.port) };
}
