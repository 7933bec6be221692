// The command line of every command (the daemon, check, catalog, the bench): node's
// parseArgs, strict and without positionals, and one UsageError for its complaints and
// ours, so that each command words a bad flag the same way.
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { parseDuration } from '../config/duration.js';

export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The flags' values; an unknown flag, a missing value or a positional is a UsageError. */
export function parseCommandLine<const O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: false, options }).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${flag}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
}

export function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`--${flag}: expected an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

/** Milliseconds; the config file's duration syntax. */
export function duration(flag: string, value: string, minMs: number): number {
  const ms = parseDuration(value);
  if (ms === null) throw new UsageError(`--${flag}: expected a duration like 60s or 1m, got "${value}"`);
  if (ms < minMs) throw new UsageError(`--${flag}: must be at least ${minMs / 1000}s, got "${value}"`);
  return ms;
}
