// What the config file and the web config file have in common before their
// keys are read: the file's text, the YAML parsed strictly (one document,
// unique keys, bounded aliases) with a mapping at the top, and the error that
// lists a file's problems, one line each, each starting with the file's name.
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { describeValue } from './reader.js';

/** Every problem of one file. Subclasses give the stable `code` callers branch on. */
export abstract class FileProblemsError extends Error {
  abstract readonly code: string;
  /** One line per problem, each starting with the file name. */
  readonly problems: string[];

  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

export type FileProblemsErrorClass = new (problems: string[]) => FileProblemsError;

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

/** The text of `path`; `what` names the file in the message when it cannot be read. */
export async function readConfigText(path: string, what: string, error: FileProblemsErrorClass): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new error([`${path}: cannot read the ${what}: ${describeFsError(err)}`]);
  }
}

/** The yaml library's reason without its own ` at line L, column C:` and excerpt. */
function yamlReason(error: { code: string; message: string }): string {
  if (error.code === 'MULTIPLE_DOCS') return 'expected a single document, found several (---)';
  return error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '').trim();
}

/**
 * Parses YAML text whose top level must be a mapping; `source` names the file
 * in messages. An empty file, or one with only comments, is an empty mapping.
 * `doc` gives the positions of keys, to list problems in file order.
 */
export function parseYamlMapping(text: string, source: string, error: FileProblemsErrorClass): { doc: Document; value: Record<string, unknown> } {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new error(
      doc.errors.map((problem) => {
        const at = problem.linePos?.[0];
        return `${source}: invalid YAML${at ? ` at line ${at.line}, column ${at.col}` : ''}: ${yamlReason(problem)}`;
      }),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new error([`${source}: invalid YAML: ${err instanceof Error ? err.message : String(err)}`]);
  }
  if (value === null || value === undefined) value = {};
  if (typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    throw new error([`${source}: expected a mapping at the top level, got ${describeValue(value)}`]);
  }
  return { doc, value: value as Record<string, unknown> };
}
