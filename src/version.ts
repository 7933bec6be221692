// Version from package.json. Revision: EGRESS_EXPORTER_REVISION (set in images),
// else the git revision recorded at build time (dist/build-info.json, written by
// scripts/write-build-info.mjs), else the git checkout the code runs from (tests
// run src/, which has no build info).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function builtRevision(): string | undefined {
  try {
    const info = JSON.parse(readFileSync(new URL('./build-info.json', import.meta.url), 'utf8')) as { revision?: unknown };
    return typeof info.revision === 'string' && info.revision !== '' && info.revision !== 'unknown' ? info.revision : undefined;
  } catch {
    return undefined;
  }
}

function readRevision(): string {
  const fromEnv = process.env.EGRESS_EXPORTER_REVISION;
  if (fromEnv) return fromEnv;
  const built = builtRevision();
  if (built !== undefined) return built;
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).toString().trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

export const VERSION = readVersion();
export const REVISION = readRevision();
