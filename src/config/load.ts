// Reading the config file: YAML -> zod schema -> effective Config, with every
// problem reported at once as `<source>: <key.path>: <what is wrong>`, in the
// order the keys appear in the file.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import type { z } from 'zod';
import { configSchema, describeValue } from './schema.js';
import type { Config } from './types.js';

export class ConfigError extends Error {
  /** Stable, for callers that branch on the kind of error. */
  readonly code = 'EGRESS_CONFIG_INVALID';
  /** One line per problem, each starting with the file name. */
  readonly problems: string[];

  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type PathSegment = PropertyKey;

/** `targets[0].labels.team`; keys that are not plain words are quoted. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') {
      out += `[${segment}]`;
      continue;
    }
    const key = String(segment);
    const word = /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
    out += out === '' ? word : `.${word}`;
  }
  return out;
}

/**
 * Where a key path starts in the file, to list problems in file order. A path
 * that is not in the file at all (a default) sorts last; a missing key deeper
 * down sorts with its parent.
 */
function offsetOf(doc: Document, path: readonly PathSegment[]): number {
  let node: unknown = doc.contents;
  let offset = Number.POSITIVE_INFINITY;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair === undefined) break;
      offset = isScalar(pair.key) && pair.key.range ? pair.key.range[0] : offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined) break;
      const range = (item as { range?: [number, number, number] | null }).range;
      offset = range ? range[0] : offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

/** One message per problem: `path` is shown, `at` is where it sits in the file. */
function issueMessages(issue: z.core.$ZodIssue): Array<{ path: PathSegment[]; at: PathSegment[]; message: string }> {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...issue.path, key], at: [...issue.path, key], message: 'unknown key' }));
  }
  const extra: unknown = issue.code === 'custom' ? issue.params?.at : undefined;
  const at = Array.isArray(extra) ? [...issue.path, ...(extra as PathSegment[])] : [...issue.path];
  return [{ path: [...issue.path], at, message: issue.message }];
}

/** The yaml library's reason without its own ` at line L, column C:` and excerpt. */
function yamlReason(error: { code: string; message: string }): string {
  if (error.code === 'MULTIPLE_DOCS') return 'expected a single document, found several (---)';
  const reason = error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
  return reason.trim();
}

/**
 * Parses the text of a config file. `source` names the file in messages.
 * An empty file, or one with only comments, gives the defaults.
 * Throws a ConfigError listing every problem.
 */
export function parseConfig(text: string, source: string): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => {
        const at = error.linePos?.[0];
        const where = at ? ` at line ${at.line}, column ${at.col}` : '';
        return `${source}: invalid YAML${where}: ${yamlReason(error)}`;
      }),
    );
  }

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError([`${source}: invalid YAML: ${err instanceof Error ? err.message : String(err)}`]);
  }
  if (value === null || value === undefined) value = {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError([`${source}: expected a mapping at the top level, got ${describeValue(value)}`]);
  }

  const result = configSchema.safeParse(value);
  if (result.success) return result.data;

  const problems = result.error.issues
    .flatMap(issueMessages)
    .map((problem, order) => ({ ...problem, order, offset: offsetOf(doc, problem.at) }))
    .sort((a, b) => (a.offset === b.offset ? a.order - b.order : a.offset < b.offset ? -1 : 1))
    .map(({ path, message }) => (path.length === 0 ? `${source}: ${message}` : `${source}: ${formatPath(path)}: ${message}`));
  throw new ConfigError(problems);
}

/** The configuration used when no file is given. */
export function defaultConfig(): Config {
  return configSchema.parse({});
}

const FS_REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent is not a directory',
  ELOOP: 'too many symbolic links',
};

/** `no such file or directory (ENOENT)` */
export function describeFsError(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  const reason = FS_REASONS[code];
  if (reason !== undefined) return `${reason} (${code})`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Reads and parses a config file, then checks that tls.ca_file can be read and
 * holds PEM certificates. A relative ca_file or docker_config is resolved against
 * the config file's directory (as Prometheus does); the returned Config holds the
 * resolved paths.
 */
export async function loadConfigFile(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`${path}: cannot read the config file: ${describeFsError(err)}`]);
  }
  const config = parseConfig(text, path);

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
