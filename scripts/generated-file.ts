// How a generator compares its output with the committed file (`--check`). Every
// generator of the repository (alerts, dashboards, the PrometheusRule) uses it.
import { readFileSync } from 'node:fs';

export type GeneratedState = 'current' | 'stale' | 'missing';

/** Whether `file` holds exactly `text`; a file that cannot be read is missing. */
export function generatedState(file: string, text: string): GeneratedState {
  let current: string;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    return 'missing';
  }
  return current === text ? 'current' : 'stale';
}

/** Runs a generator's main and turns a thrown error into one line on stderr and exit code 1. */
export function runGenerator(main: () => number | Promise<number>, prefix = ''): void {
  Promise.resolve()
    .then(main)
    .then(
      (code) => {
        process.exitCode = code;
      },
      (err: unknown) => {
        process.stderr.write(`${prefix}${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      },
    );
}
