// --web.config.file end to end: HTTPS and basic auth on every endpoint but /-/healthy and /-/ready.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import https from 'node:https';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getPki } from './fixtures/pki.js';
import type { Pki } from './fixtures/pki.js';
import { spawnDaemon } from './helpers/daemon.js';
import type { RunningDaemon } from './helpers/daemon.js';
import { parseExposition, Scrape } from './helpers/scrape.js';

const run = promisify(execFile);

function get(port: number, path: string, ca: string, auth?: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path, method, ca, servername: 'localhost', auth, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
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

/** The SHA-256 fingerprint of the certificate a new handshake gets. */
function servedCertificate(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? '');
      socket.end();
    });
    socket.on('error', reject);
  });
}

const fingerprint = (chain: string): string => new X509Certificate(chain).fingerprint256;

describe('reloading the web config (SIGHUP, /-/reload)', () => {
  let pki: Pki;
  let dir: string;
  let daemon: RunningDaemon;
  const web = (users: Record<string, string>, extra = '') =>
    `tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n${extra}basic_auth_users:\n${Object.entries(users)
      .map(([user, password]) => `  ${user}: ${bcrypt.hashSync(password, 4)}`)
      .join('\n')}\n`;
  /** What cert-manager does to a mounted Secret: new files under the same names. */
  const rotate = async (leaf: { chain: string; key: string }) => {
    await writeFile(join(dir, 'tls.crt'), leaf.chain);
    await writeFile(join(dir, 'tls.key'), leaf.key);
  };
  const reload = (auth: string) => get(daemon.port, '/-/reload', pki.rootCa, auth, 'POST');

  beforeAll(async () => {
    pki = await getPki();
    dir = await mkdtemp(join(tmpdir(), 'egress-web-reload-'));
    await rotate(pki.ecdsa);
    await writeFile(join(dir, 'web.yml'), web({ prometheus: 'first-secret' }));
    await writeFile(join(dir, 'egress.yml'), 'catalog: none\n');
    daemon = await spawnDaemon([`--config.file=${join(dir, 'egress.yml')}`, `--web.config.file=${join(dir, 'web.yml')}`]);
  });
  afterAll(async () => {
    await daemon.stop();
  });

  it('serves rotated certificate files and new users after SIGHUP', async () => {
    expect(await servedCertificate(daemon.port, pki.rootCa)).toBe(fingerprint(pki.ecdsa.chain));
    await rotate(pki.rsa);
    await writeFile(join(dir, 'web.yml'), web({ prometheus: 'first-secret', grafana: 'second-secret' }));
    daemon.child.kill('SIGHUP');
    await vi.waitFor(async () => expect(await servedCertificate(daemon.port, pki.rootCa)).toBe(fingerprint(pki.rsa.chain)), { timeout: 5000, interval: 50 });
    expect((await get(daemon.port, '/metrics', pki.rootCa, 'grafana:second-secret')).status).toBe(200);
    expect(daemon.logs()).toContain('"msg":"web config reloaded"');
  });

  it('does the same on POST /-/reload', async () => {
    await rotate(pki.ecdsa);
    await writeFile(join(dir, 'web.yml'), web({ prometheus: 'third-secret' }));
    expect(await reload('prometheus:first-secret')).toEqual({ status: 200, body: 'Reloaded\n' });
    expect(await servedCertificate(daemon.port, pki.rootCa)).toBe(fingerprint(pki.ecdsa.chain));
    expect((await get(daemon.port, '/metrics', pki.rootCa, 'grafana:second-secret')).status).toBe(401);
    expect((await get(daemon.port, '/metrics', pki.rootCa, 'prometheus:first-secret')).status).toBe(401);
    expect((await get(daemon.port, '/metrics', pki.rootCa, 'prometheus:third-secret')).status).toBe(200);
  });

  it('keeps the running web config when the new one is broken, and says why', async () => {
    const auth = 'prometheus:third-secret';
    // A key that is not the certificate's: half-rotated files.
    await writeFile(join(dir, 'tls.key'), pki.rsa.key);
    const broken = await reload(auth);
    expect(broken.status).toBe(500);
    expect(broken.body).toContain(`${join(dir, 'web.yml')}: tls_server_config.key_file: the private key in ${JSON.stringify(join(dir, 'tls.key'))} does not match the certificate`);
    expect(await servedCertificate(daemon.port, pki.rootCa)).toBe(fingerprint(pki.ecdsa.chain));
    const metrics = await get(daemon.port, '/metrics', pki.rootCa, auth);
    expect(metrics.status).toBe(200);
    expect(new Scrape(parseExposition(metrics.body), metrics.body).value('egress_exporter_config_last_reload_successful')).toBe(0);

    await rotate(pki.ecdsa);
    await writeFile(join(dir, 'web.yml'), `basic_auth_users:\n  prometheus: ${bcrypt.hashSync('x', 4)}\n`);
    const plain = await reload(auth);
    expect(plain.status).toBe(500);
    expect(plain.body).toContain(`${join(dir, 'web.yml')}: tls_server_config: turning TLS off needs a restart; the running web config stays`);
    expect((await get(daemon.port, '/metrics', pki.rootCa, auth)).status).toBe(200);

    await writeFile(join(dir, 'web.yml'), web({ prometheus: 'third-secret' }));
    expect((await reload(auth)).status).toBe(200);
  });
});
