// A round run on demand gives one signal to all its checks. With six or more
// hosts (the check command) or six or more proxies (/probe of the daemon), more
// than ten checks listen on it at once: that must not print Node's
// MaxListenersExceededWarning. Every peer is a silent server the test starts
// (TCP accepted, no TLS answer), so the checks stay in flight together.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer } from './fixtures/dns-server.js';
import type { DnsFixture } from './fixtures/dns-server.js';
import { startProxy } from './fixtures/proxies.js';
import type { RunningProxy } from './fixtures/proxies.js';
import { startRawServer } from './fixtures/tls-servers.js';
import type { RunningServer } from './fixtures/tls-servers.js';
import { spawnDaemon } from './helpers/daemon.js';
import { tempDir } from './helpers/exporter.js';

const run = promisify(execFile);
const HOSTS = Array.from({ length: 8 }, (_, i) => `h${i + 1}.test`);

describe('eight hosts or eight proxies at once', () => {
  let dns: DnsFixture;
  let silent: RunningServer;
  let proxy: RunningProxy;
  let dir: string;

  beforeAll(async () => {
    dns = await startDnsServer(Object.fromEntries(HOSTS.map((h) => [h, { a: ['127.0.0.1'] }])));
    silent = await startRawServer('silent');
    proxy = await startProxy({ mode: 'tunnel', map: Object.fromEntries(HOSTS.map((h) => [`${h}:${silent.port}`, silent.port])) });
    dir = await tempDir('egress-listeners-');
  });
  afterAll(async () => {
    await proxy.close();
    await silent.close();
    await dns.close();
  });

  it('check: no MaxListenersExceededWarning with eight hosts', async () => {
    const file = join(dir, 'hosts.yml');
    await writeFile(
      file,
      `catalog: none\ninterval: 30s\ntimeout: 1s\nproxy: none\ndns: { servers: ["${dns.address.name}"] }\ntargets:\n${HOSTS.map((h) => `  - { host: ${h}, port: ${silent.port} }`).join('\n')}\n`,
    );
    const result = await run(process.execPath, ['dist/cli.js', 'check', `--config.file=${file}`, '--output=json'], { timeout: 30_000 }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(result.code).toBe(1);
    const json = JSON.parse(result.stdout) as { hosts: Array<{ paths: Array<{ tcp: { ok: boolean }; tls: { reason: string } }> }> };
    // Every host was reached and its TLS check waited out its deadline: all in flight together.
    expect(json.hosts).toHaveLength(8);
    for (const host of json.hosts) expect(host.paths[0]).toMatchObject({ tcp: { ok: true }, tls: { reason: 'timeout' } });
    expect(result.stderr).not.toContain('MaxListenersExceededWarning');
    expect(result.stderr).toBe('');
  });

  it('/probe of the daemon: no MaxListenersExceededWarning with eight proxies', async () => {
    const file = join(dir, 'proxies.yml');
    await writeFile(
      file,
      `catalog: none
interval: 30s
timeout: 1s
dns: { servers: ["${dns.address.name}"] }
proxies:
${HOSTS.map((_, i) => `  - { name: p${i + 1}, url: "${proxy.url}" }`).join('\n')}
targets:
  - { host: h1.test, port: ${silent.port} }
`,
    );
    const daemon = await spawnDaemon([`--config.file=${file}`]);
    try {
      const response = await fetch(`http://127.0.0.1:${daemon.port}/probe?target=h1.test:${silent.port}`);
      expect(response.status).toBe(200);
      const body = await response.text();
      for (let i = 1; i <= 8; i++) {
        expect(body).toContain(`egress_probe_success{host="h1.test",port="${silent.port}",check="tcp",path="p${i}"} 1`);
        expect(body).toContain(`egress_probe_failure_reason{host="h1.test",port="${silent.port}",check="tls",path="p${i}",reason="timeout"} 1`);
      }
      expect(daemon.logs()).not.toContain('MaxListenersExceededWarning');
    } finally {
      await daemon.stop();
    }
  });
});
