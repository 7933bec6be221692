export { formatDuration, parseDuration } from './duration.js';
export { ConfigError, defaultConfig, loadConfigFile, parseConfig } from './load.js';
export { renderConfig } from './render.js';
export type { RenderOptions } from './render.js';
export { resolveRegistries } from './registries.js';
export { resolveTargets } from './targets.js';
export type { ResolvedTarget } from './targets.js';
export type { Config, RegistryConfig, RegistryCredentialSource, ResolverAddress, TargetConfig } from './types.js';
