// Version from package.json; revision from EGRESS_EXPORTER_REVISION (set in
// images) or the git checkout the code runs from.
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

function readRevision(): string {
  const fromEnv = process.env.EGRESS_EXPORTER_REVISION;
  if (fromEnv) return fromEnv;
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).toString().trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

export const VERSION = readVersion();
export const REVISION = readRevision();
