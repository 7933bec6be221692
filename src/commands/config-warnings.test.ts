import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { configWarnings } from './config-warnings.js';

describe('--config.check warnings', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'egress-config-warnings-'));
    await writeFile(join(dir, 'docker.json'), JSON.stringify({ auths: { 'reg.lab.test:5000': { auth: Buffer.from('user:secret').toString('base64') } } }));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const config = (dockerConfig: string) =>
    parseConfig(`catalog: none\ntargets:\n  - { host: reg.lab.test, port: 5000 }\nregistries:\n  - { host: reg.lab.test, port: 5000, docker_config: "${dockerConfig}" }\n`, join(dir, 'egress.yml'));

  it('names a docker_config file that is missing, with its key, and what it will do to the registry check', async () => {
    const missing = join(dir, 'missing.json');
    expect(await configWarnings(config(missing))).toEqual([
      `registries[0].docker_config: cannot read the Docker config ${JSON.stringify(missing)}: no such file or directory (ENOENT) (read on every round: the registry check of reg.lab.test reports registry_credentials_unusable until it is fixed)`,
    ]);
  });

  it('says nothing of a docker_config that is there and usable, or of anonymous pulls', async () => {
    expect(await configWarnings(config(join(dir, 'docker.json')))).toEqual([]);
    expect(await configWarnings(parseConfig('catalog: chainguard\n', 'egress.yml'))).toEqual([]);
  });
});
