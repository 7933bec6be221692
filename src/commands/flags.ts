// The command line of every command (the daemon, check, catalog, the bench): node's
// parseArgs, strict and without positionals, and one UsageError for its complaints and
// ours, so that each command words a bad flag the same way, with the nearest known flag
// or command suggested for a typo.
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { closestMatch } from 'leven';
import { parseDuration } from '../config/duration.js';

export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * The flags' values; an unknown flag, a missing value or a positional is a UsageError.
 * An unknown flag, or a positional where `commands` are the words that may stand there,
 * gets the nearest known one suggested, as git does (`chek`: did you mean check?).
 */
export function parseCommandLine<const O extends Options>(argv: string[], options: O, commands: readonly string[] = []) {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: false, options }).values;
  } catch (error) {
    throw new UsageError(misspelt(argv, options, commands) ?? (error instanceof Error ? error.message : String(error)));
  }
}

/** Typos at most this far from a known word (and at most a third of its length) get a suggestion. */
const MAX_TYPO_DISTANCE = 3;

/** The known word nearest `word`, if it is near enough to be what was meant. */
export function nearest(word: string, known: readonly string[]): string | undefined {
  const maxDistance = Math.min(MAX_TYPO_DISTANCE, Math.max(1, Math.floor(word.length / 3)));
  return closestMatch(word, known, { maxDistance });
}

/** The first unknown flag or stray word of `argv`, worded with a suggestion when one is near; undefined when neither is the problem. */
function misspelt(argv: string[], options: Options, commands: readonly string[]): string | undefined {
  const { tokens } = parseArgs({ args: argv, strict: false, allowPositionals: true, tokens: true, options });
  for (const token of tokens) {
    if (token.kind === 'option' && !(token.name in options)) {
      const guess = token.rawName.startsWith('--') ? nearest(token.name, Object.keys(options)) : undefined;
      return `unknown flag '${token.rawName}'${guess === undefined ? '' : `: did you mean '--${guess}'?`}`;
    }
    if (token.kind === 'positional') {
      const guess = nearest(token.value, commands);
      if (commands.length === 0) return `unexpected argument '${token.value}': this command takes only flags`;
      if (commands.includes(token.value)) return `'${token.value}' must come first, before any flag`;
      return `unknown command '${token.value}'${guess === undefined ? ` (commands: ${commands.join(', ')})` : `: did you mean '${guess}'?`}`;
    }
  }
  return undefined;
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
