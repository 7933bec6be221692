// --web.config.file end to end: HTTPS and basic auth on every endpoint but /-/healthy and /-/ready.
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPki } from './fixtures/pki.js';
import { spawnDaemon } from './helpers/daemon.js';
import type { RunningDaemon } from './helpers/daemon.js';

const run = promisify(execFile);

function get(port: number, path: string, ca: string, auth?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, ca, servername: 'localhost', auth, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

describe('egress-exporter --web.config.file', () => {
  let dir: string;
  let ca: string;
  let port: number;
  let daemon: RunningDaemon;
  const logs = (): string => daemon.logs();

  beforeAll(async () => {
    const pki = await getPki();
    ca = pki.rootCa;
    dir = await mkdtemp(join(tmpdir(), 'egress-web-'));
    await writeFile(join(dir, 'cert.pem'), pki.ecdsa.chain);
    await writeFile(join(dir, 'key.pem'), pki.ecdsa.key);
    await writeFile(
      join(dir, 'web.yml'),
      `tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  prometheus: ${bcrypt.hashSync('s3cret-scrape', 4)}\n`,
    );
    await writeFile(join(dir, 'egress.yml'), 'catalog: none\n');
    daemon = await spawnDaemon([`--config.file=${join(dir, 'egress.yml')}`, `--web.config.file=${join(dir, 'web.yml')}`]);
    port = daemon.port;
  });
  afterAll(async () => {
    await daemon.stop();
  });

  it('serves /metrics over HTTPS to the right credentials only', async () => {
    expect((await get(port, '/metrics', ca)).status).toBe(401);
    expect((await get(port, '/metrics', ca, 'prometheus:wrong-password')).status).toBe(401);
    const ok = await get(port, '/metrics', ca, 'prometheus:s3cret-scrape');
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('egress_exporter_build_info');
    expect((await get(port, '/', ca)).status).toBe(401);
    expect((await get(port, '/probe?target=x', ca)).status).toBe(401);
  });

  it('leaves /-/healthy and /-/ready open for orchestrators', async () => {
    expect(await get(port, '/-/healthy', ca)).toEqual({ status: 200, body: 'Healthy\n' });
    expect(await get(port, '/-/ready', ca)).toEqual({ status: 200, body: 'Ready\n' });
  });

  it('logs a failed login without the password', async () => {
    await get(port, '/metrics', ca, 'prometheus:hunter2-wrong');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const failures = logs().split('\n').filter((l) => l.includes('basic auth failed'));
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures[0]).toContain('"user":"prometheus"');
    expect(logs()).not.toContain('hunter2-wrong');
    expect(logs()).not.toContain('wrong-password');
  });

  it('refuses to start on a broken web config, naming the key', async () => {
    await writeFile(join(dir, 'bad-web.yml'), 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  min_version: TLS1.2\n');
    const result = await run(process.execPath, ['dist/cli.js', '--config.check', `--web.config.file=${join(dir, 'bad-web.yml')}`]).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${join(dir, 'bad-web.yml')}: tls_server_config.min_version: expected one of TLS10, TLS11, TLS12, TLS13, got "TLS1.2"`);
  });
});
