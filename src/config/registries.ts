// The registries whose pull path is checked: the config's `registries` list when
// it has one (an empty list turns the check off), else the catalog's, minus any
// whose host is excluded.
import { getCatalog } from '../catalog/index.js';
import type { Config, RegistryConfig } from './types.js';

export function resolveRegistries(config: Config): RegistryConfig[] {
  if (config.registries !== null) return config.registries.map((r) => ({ ...r }));
  const excluded = new Set(config.exclude);
  return getCatalog(config.catalog)
    .registries.filter((r) => !excluded.has(r.host))
    .map((r) => ({ ...r, credentials: 'anonymous', dockerConfig: null }));
}
