// The one kit that reads the config file and the web config: a typed reader of
// the parsed YAML. Each key is read with a check that says what its value may
// be, and every problem is collected with its key path, so that all of a file's
// problems are reported at once, in file order, as
// `<file>: <key.path>: <what is wrong>`, most of them `expected <what>, got <what was found>`.
//
// Conventions, the same in both files:
// - A key that is absent or null (`interval:` with nothing after it) is unset:
//   its default applies. So a section whose keys are all commented out is fine.
// - A mapping is strict: a key that nobody reads is reported as unknown.
// - Reading goes on after a problem, so checks across keys run next to other
//   problems; they trust only values read without one (`Value.ok`).
import { isMap, isScalar, isSeq } from 'yaml';
import type { Document } from 'yaml';
import { formatDuration, parseDuration } from './duration.js';

export type Path = ReadonlyArray<string | number>;

/** Reads a set value: what it stands for, or undefined after reporting why it is wrong. */
export type Check<T> = (value: Value) => T | undefined;

// ---------------------------------------------------------------------------
// Messages

/** How a value found in the file reads after `got`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 100 ? `${value.slice(0, 97)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (value instanceof Uint8Array) return 'binary data';
  if (typeof value === 'object') return Object.keys(value).length === 0 ? 'an empty mapping' : 'a mapping';
  return typeof value;
}

/** `targets[0].labels.team`; keys that are not plain words are quoted. */
export function formatPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') {
      out += `[${segment}]`;
      continue;
    }
    const word = /^[A-Za-z0-9_-]+$/.test(segment) ? segment : JSON.stringify(segment);
    out += out === '' ? word : `.${word}`;
  }
  return out;
}

/**
 * Where a key path starts in the file, to list problems in file order. A path
 * that is not in the file at all (a default) sorts last; a missing key deeper
 * down sorts with its parent.
 */
function offsetOf(doc: Document, path: Path): number {
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

interface Problem {
  /** Where it is shown. */
  path: Path;
  /** Where it sits in the file, when that differs: a bad label name is shown at `labels`, sorted by the name. */
  at: Path;
  message: string;
}

/** The problems of one file, in the order they are found. */
export class Problems {
  private readonly found: Problem[] = [];

  add(path: Path, message: string, at: Path = path): void {
    this.found.push({ path, at, message });
  }

  get count(): number {
    return this.found.length;
  }

  /** A problem at `path` or below it. */
  has(path: Path): boolean {
    return this.found.some((problem) => path.every((segment, i) => problem.path[i] === segment));
  }

  /** One line per problem, `<source>: <key.path>: <message>`; in file order when `doc` is given. */
  lines(source: string, doc?: Document): string[] {
    const found = doc === undefined ? this.found : this.sorted(doc);
    return found.map(({ path, message }) => (path.length === 0 ? `${source}: ${message}` : `${source}: ${formatPath(path)}: ${message}`));
  }

  private sorted(doc: Document): Problem[] {
    return this.found
      .map((problem, order) => ({ problem, order, offset: offsetOf(doc, problem.at) }))
      .sort((a, b) => (a.offset === b.offset ? a.order - b.order : a.offset < b.offset ? -1 : 1))
      .map(({ problem }) => problem);
  }
}

// ---------------------------------------------------------------------------
// The reader

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** A value found in the file (or not: unset), at its key path. */
export class Value {
  constructor(
    readonly input: unknown,
    readonly path: Path,
    readonly problems: Problems,
  ) {}

  /** Absent or null: its default applies. */
  get unset(): boolean {
    return this.input === undefined || this.input === null;
  }

  /** Read without a problem here or below: checks across keys may trust it. */
  get ok(): boolean {
    return !this.problems.has(this.path);
  }

  /** Reports a problem at `sub` below this value (`at`: where it sits in the file, see Problem); returns undefined. */
  fail(message: string, sub: Path = [], at?: Path): undefined {
    this.problems.add([...this.path, ...sub], message, at === undefined ? undefined : [...this.path, ...at]);
    return undefined;
  }

  /** The value inside a mapping or a list. */
  child(key: string | number): Value {
    const container = this.input as Record<string | number, unknown>;
    return new Value(Object.hasOwn(container, key) ? container[key] : undefined, [...this.path, key], this.problems);
  }

  /** What `check` makes of it; undefined when unset or wrong. */
  read<T>(check: Check<T>): T | undefined {
    return this.unset ? undefined : check(this);
  }

  /** What `check` makes of it, `fallback` when unset (or wrong: then the file is refused anyway). */
  or<T>(fallback: T, check: Check<T>): T {
    return this.read(check) ?? fallback;
  }

  /** What `check` makes of it; unset is a problem. */
  required<T>(check: Check<T>): T | undefined {
    return this.unset ? this.fail('required') : check(this);
  }

  /** A mapping whose keys all have defaults: unset, or not a mapping (reported), reads as an empty one. */
  section<T>(read: (fields: Fields) => T): T {
    return (this.unset ? undefined : mapping('a mapping', read)(this)) ?? read(new Fields(new Value({}, this.path, this.problems)));
  }
}

/** The keys of a mapping, for one reading of it: the keys it reads are known. */
export class Fields {
  readonly read = new Set<string>();
  constructor(readonly value: Value) {}

  at(key: string): Value {
    this.read.add(key);
    return this.value.child(key);
  }
}

// ---------------------------------------------------------------------------
// Checks that both files use

/** Accepts what `accept` returns (null or undefined: not accepted); `expected <what>, got <value>` otherwise. */
export function leaf<T>(what: string, accept: (input: unknown) => T | null | undefined, got: (input: unknown) => string = describeValue): Check<T> {
  return (value) => accept(value.input) ?? value.fail(`expected ${what}, got ${got(value.input)}`);
}

export function oneOf(values: readonly string[]): string {
  return values.join(', ');
}

export function enumValue<T extends string>(allowed: readonly T[]): Check<T> {
  return leaf(`one of ${oneOf(allowed)}`, (input) => (allowed as readonly unknown[]).includes(input) ? (input as T) : undefined);
}

export function integer(min: number, max: number): Check<number> {
  return leaf(`an integer from ${min} to ${max}`, (input) => (typeof input === 'number' && Number.isInteger(input) && input >= min && input <= max ? input : undefined));
}

/** A duration like `30s` or `1m30s`, from `minMs` to `maxMs` milliseconds. */
export function duration(minMs: number, maxMs: number): Check<number> {
  return (value) => {
    const ms = typeof value.input === 'string' ? parseDuration(value.input) : null;
    if (ms === null) return value.fail(`expected a duration like 30s or 1m30s, got ${describeValue(value.input)}`);
    if (ms < minMs) return value.fail(minMs === 1 ? `must be greater than 0, got ${formatDuration(ms)}` : `must be at least ${formatDuration(minMs)}, got ${formatDuration(ms)}`);
    if (ms > maxMs) return value.fail(`must be at most ${formatDuration(maxMs)}, got ${formatDuration(ms)}`);
    return ms;
  };
}

export const bool: Check<boolean> = leaf('true or false', (input) => (typeof input === 'boolean' ? input : undefined));

export const filePath: Check<string> = leaf('a file path', (input) => (typeof input === 'string' && input !== '' ? input : undefined));

/**
 * A strict mapping: `read` reads its keys; a key it does not read is reported,
 * as `unknown key` or, for a key of `unsupported`, with that message.
 * `what` names it in `expected <what>, got ...`.
 */
export function mapping<T>(what: string, read: (fields: Fields) => T | undefined, unsupported: Readonly<Record<string, string>> = {}): Check<T> {
  return (value) => {
    if (!isPlainObject(value.input)) return value.fail(`expected ${what}, got ${describeValue(value.input)}`);
    const fields = new Fields(value);
    const out = read(fields);
    for (const key of Object.keys(value.input)) {
      if (!fields.read.has(key)) value.fail(Object.hasOwn(unsupported, key) ? (unsupported[key] as string) : 'unknown key', [key]);
    }
    return out;
  };
}

/** A mapping of names to values, each checked by `entry` (which reports at the value, or at the name). */
export function mappingOf<T>(what: string, entry: (name: string, value: Value, map: Value) => T | undefined): Check<Record<string, T>> {
  return (value) => {
    if (!isPlainObject(value.input)) return value.fail(`expected ${what}, got ${describeValue(value.input)}`);
    const out: Array<[string, T]> = [];
    for (const name of Object.keys(value.input)) {
      const item = entry(name, value.child(name), value);
      if (item !== undefined) out.push([name, item]);
    }
    // fromEntries: a key named __proto__ stays a key.
    return Object.fromEntries(out);
  };
}

/** A list, each item read by `item`; `what` names the items in `expected a list of <what>`. Wrong items are left out. */
export function listOf<T>(what: string, item: Check<T>): Check<T[]> {
  return (value) => {
    if (!Array.isArray(value.input)) return value.fail(`expected a list of ${what}, got ${describeValue(value.input)}`);
    return value.input.flatMap((_, i) => item(value.child(i)) ?? []);
  };
}

/** A list of distinct items: a repeat (by `identity`) is reported and left out. */
export function distinctListOf<T>(what: string, item: Check<T>, identity: (value: T) => string = String): Check<T[]> {
  return (value) => {
    const once = firstTime(identity);
    return listOf(what, (at) => {
      const found = item(at);
      return found === undefined ? undefined : once(found, at);
    })(value);
  };
}

/** Returns a value the first time its identity is seen; a repeat is reported at `at`, `<value> is listed twice`. */
export function firstTime<T>(identity: (value: T) => string = String): (value: T, at: Value) => T | undefined {
  const seen = new Set<string>();
  return (value, at) => {
    const id = identity(value);
    if (!seen.has(id)) {
      seen.add(id);
      return value;
    }
    return at.fail(`${typeof value === 'string' ? JSON.stringify(id) : id} is listed twice`);
  };
}

/** `got 1 (quote it: "1")` for a scalar where a string was expected. */
export function describeNotString(value: unknown): string {
  const got = describeValue(value);
  return typeof value === 'number' || typeof value === 'boolean' ? `${got} (quote it: "${String(value)}")` : got;
}
