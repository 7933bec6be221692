// Fails the test during which a promise rejection went unhandled or an EventEmitter
// leaked listeners (MaxListenersExceededWarning): both are bugs a passing test would
// otherwise hide. Registered once per worker process (setupFiles run per test file).
import { afterEach } from 'vitest';

const KEY = Symbol.for('egress-exporter.stray-errors');
type Registry = { stray: string[] };
const globals = globalThis as typeof globalThis & { [KEY]?: Registry };

function describe(value: unknown): string {
  return value instanceof Error ? (value.stack ?? value.message) : String(value);
}

if (globals[KEY] === undefined) {
  const registry: Registry = { stray: [] };
  globals[KEY] = registry;
  process.on('unhandledRejection', (reason) => registry.stray.push(`unhandled rejection: ${describe(reason)}`));
  process.on('warning', (warning) => {
    if (warning.name === 'MaxListenersExceededWarning') registry.stray.push(`${warning.name}: ${warning.message}`);
  });
}

afterEach(async () => {
  // Warnings are emitted on a later tick: let them arrive.
  await new Promise((resolve) => setImmediate(resolve));
  const stray = globals[KEY]!.stray.splice(0);
  if (stray.length > 0) throw new Error(`during this test:\n${stray.join('\n')}`);
});
