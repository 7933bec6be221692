// What --config.check warns about but does not refuse: files the exporter reads on every
// round rather than at load (a registry's docker_config, so a rotated pull token needs no
// reload). Missing now, it may be mounted later; the run would fail until it is there.
import type { Config } from '../config/types.js';
import { loadRegistryCredentials } from '../config/registry-credentials.js';

/** One line per problem, each naming its key path (`registries[0].docker_config`). */
export async function configWarnings(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const warnings: string[] = [];
  for (const [i, registry] of (config.registries ?? []).entries()) {
    if (registry.credentials !== 'docker_config') continue;
    const loaded = await loadRegistryCredentials(registry, { env });
    if (loaded === undefined || loaded.ok) continue;
    const key = `registries[${i}].${registry.dockerConfig === null ? 'credentials' : 'docker_config'}`;
    warnings.push(`${key}: ${loaded.problem} (read on every round: the registry check of ${registry.host} reports registry_credentials_unusable until it is fixed)`);
  }
  return warnings;
}
