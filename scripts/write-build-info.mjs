#!/usr/bin/env node
// Records the git revision at build time in dist/build-info.json, so `--version`
// and egress_exporter_build_info name it wherever dist/ is run from (an npm
// install, an image), not only from a git checkout. EGRESS_EXPORTER_REVISION, when
// set (the image's build argument), wins over git; without either: "unknown".
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function gitRevision() {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString().trim();
  } catch {
    return '';
  }
}

const revision = process.env.EGRESS_EXPORTER_REVISION || gitRevision() || 'unknown';
mkdirSync(new URL('../dist/', import.meta.url), { recursive: true });
writeFileSync(new URL('../dist/build-info.json', import.meta.url), `${JSON.stringify({ revision })}\n`);
