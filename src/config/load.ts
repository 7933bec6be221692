// Reading the config file: YAML -> the reader of schema.ts -> effective Config,
// with every problem reported at once as `<source>: <key.path>: <what is wrong>`,
// in the order the keys appear in the file.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Document } from 'yaml';
import { Problems, Value } from './reader.js';
import { configSchema } from './schema.js';
import type { Config } from './types.js';
import { describeFsError, FileProblemsError, parseYamlMapping, readConfigText } from './yaml-file.js';

export class ConfigError extends FileProblemsError {
  /** Stable, for callers that branch on the kind of error. */
  readonly code = 'EGRESS_CONFIG_INVALID';
  override readonly name = 'ConfigError';
}

/** The Config of a parsed file's top-level mapping; throws a ConfigError listing every problem. */
function readConfig(source: string, value: Record<string, unknown>, doc?: Document): Config {
  const problems = new Problems();
  const config = new Value(value, [], problems).read(configSchema);
  if (problems.count > 0 || config === undefined) throw new ConfigError(problems.lines(source, doc));
  return config;
}

/**
 * Parses the text of a config file. `source` names the file in messages.
 * An empty file, or one with only comments, gives the defaults.
 * Throws a ConfigError listing every problem.
 */
export function parseConfig(text: string, source: string): Config {
  const { doc, value } = parseYamlMapping(text, source, ConfigError);
  return readConfig(source, value, doc);
}

/** The configuration used when no file is given. */
export function defaultConfig(): Config {
  return readConfig('defaults', {});
}

/**
 * Reads and parses a config file, then checks that tls.ca_file can be read and
 * holds PEM certificates. A relative ca_file or docker_config is resolved against
 * the config file's directory (as Prometheus does); the returned Config holds the
 * resolved paths.
 */
export async function loadConfigFile(path: string): Promise<Config> {
  const config = parseConfig(await readConfigText(path, 'config file', ConfigError), path);

  for (const key of ['caFile', 'publicCaFile'] as const) {
    const name = key === 'caFile' ? 'tls.ca_file' : 'tls.public_ca_file';
    const file = config.tls[key];
    if (file === null) continue;
    const absolute = resolve(dirname(path), file);
    let pem: string;
    try {
      pem = await readFile(absolute, 'utf8');
    } catch (err) {
      throw new ConfigError([`${path}: ${name}: cannot read ${JSON.stringify(absolute)}: ${describeFsError(err)}`]);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ConfigError([`${path}: ${name}: expected PEM certificates (-----BEGIN CERTIFICATE-----), got none in ${JSON.stringify(absolute)}`]);
    }
    config.tls[key] = absolute;
  }
  // Read on every round (a rotated pull token needs no reload), so only made absolute here.
  for (const registry of config.registries ?? []) {
    if (registry.dockerConfig !== null) registry.dockerConfig = resolve(dirname(path), registry.dockerConfig);
  }
  return config;
}
