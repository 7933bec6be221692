export { formatDuration, parseDuration } from './duration.js';
export { ConfigError, defaultConfig, loadConfigFile, parseConfig } from './load.js';
export { renderConfig } from './render.js';
export type { RenderOptions } from './render.js';
export { resolveTargets } from './targets.js';
export type { ResolvedTarget } from './targets.js';
export type { Config, ResolverAddress, TargetConfig } from './types.js';
