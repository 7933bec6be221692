// `--config.check` as a user runs it: what it refuses is tested in src/config; here, what it
// warns about (a file read on every round, not at load) and how it counts.
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/exporter.js';

const run = promisify(execFile);

describe('egress-exporter --config.check', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('egress-config-check-');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('accepts a missing docker_config with a warning naming it, and counts "1 target"', async () => {
    const file = join(dir, 'egress.yml');
    await writeFile(file, 'catalog: none\ntargets:\n  - { host: reg.lab.test, port: 5000 }\nregistries:\n  - { host: reg.lab.test, port: 5000, docker_config: pull-secret.json }\n');
    const { stderr } = await run(process.execPath, ['dist/cli.js', `--config.file=${file}`, '--config.check'], { timeout: 30_000 });
    expect(stderr).toBe(
      `warning: registries[0].docker_config: cannot read the Docker config ${JSON.stringify(join(dir, 'pull-secret.json'))}: no such file or directory (ENOENT)` +
        ' (read on every round: the registry check of reg.lab.test reports registry_credentials_unusable until it is fixed)\n' +
        `config OK: ${file}, 1 target\n`,
    );
  });
});
