// `egress-exporter check`, run as a user runs it, against loopback fixtures.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer } from './fixtures/dns-server.js';
import type { DnsFixture } from './fixtures/dns-server.js';
import { startTlsServer } from './fixtures/tls-servers.js';
import type { RunningServer } from './fixtures/tls-servers.js';
import { tempDir, writeTestCa } from './helpers/exporter.js';
import { runCheckCommand } from '../src/commands/check.js';

const run = promisify(execFile);

async function check(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['dist/cli.js', 'check', ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('egress-exporter check', () => {
  let dns: DnsFixture;
  let full: RunningServer;
  let noH2: RunningServer;
  let dir: string;
  let good: string;
  let mixed: string;

  beforeAll(async () => {
    dir = await tempDir('egress-check-');
    await writeTestCa(dir);
    full = await startTlsServer('full');
    noH2 = await startTlsServer('no-h2');
    dns = await startDnsServer({ 'cgr.dev': { a: ['127.0.0.1'] }, 'apk.cgr.dev': { a: ['127.0.0.1'] } });
    const head = `catalog: none\ninterval: 30s\ntimeout: 3s\ndns: { servers: ["${dns.address.name}"] }\ntls: { ca_file: ca.pem, requirements: [tls13_aes_256_gcm_sha384, tls12_ecdhe_ecdsa_aes_256_gcm_sha384, extended_master_secret, group_p256, sig_ecdsa_secp256r1_sha256, sig_rsa_pss_rsae_sha256, alpn_h2, baseline] }\nproxy: none\ntargets:\n`;
    good = join(dir, 'good.yml');
    await writeFile(good, `${head}  - { host: cgr.dev, port: ${full.port}, checks: [dns, tcp, tls] }\n`);
    mixed = join(dir, 'mixed.yml');
    await writeFile(mixed, `${head}  - { host: cgr.dev, port: ${full.port}, checks: [dns, tcp, tls] }\n  - { host: apk.cgr.dev, port: ${noH2.port}, checks: [dns, tcp, tls] }\n`);
  });
  afterAll(async () => {
    await dns.close();
    await full.close();
    await noH2.close();
  });

  it('exits 0 and prints a table when every requirement is met', async () => {
    const result = await check(`--config.file=${good}`);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^HOST +PATH +DNS +TCP +TLS +HTTP$/);
    expect(lines[1]).toMatch(/^cgr\.dev:\d+ +direct +ok +ok +ok +-$/);
    expect(result.stdout).toContain('TLS requirements');
    expect(result.stdout).toMatch(/cgr\.dev:\d+ +direct +ok +ok +ok +ok +ok +ok +ok +ok/);
    expect(result.stdout).toContain('1 host checked in');
    expect(result.stdout).toContain('1 meets every requirement, 0 do not.');
    // Not a TTY: no colour codes, no symbols, no progress line.
    expect(result.stdout).not.toContain('\x1b[');
    expect(result.stderr).toBe('');
  });

  it('exits 1 and names each unmet requirement and its reason', async () => {
    const result = await check(`--config.file=${mixed}`);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/apk\.cgr\.dev:\d+ +direct +ok +ok +FAIL tls_handshake_failed/);
    expect(result.stdout).toMatch(/apk\.cgr\.dev:\d+ +direct +ok +ok +ok +ok +ok +ok +FAIL +FAIL/);
    expect(result.stdout).toMatch(/apk\.cgr\.dev:\d+ tls alpn_h2 via direct: not met - selected http\/1\.1/);
    expect(result.stdout).toContain('1 meets every requirement, 1 does not.');
  });

  it('takes --host=host:port, as /probe?target= does', async () => {
    const result = await check(`--config.file=${mixed}`, `--host=apk.cgr.dev:${noH2.port}`, '--output=json');
    const json = JSON.parse(result.stdout) as { hosts: Array<{ host: string; port: number }> };
    expect(json.hosts.map((h) => `${h.host}:${h.port}`)).toEqual([`apk.cgr.dev:${noH2.port}`]);
  });

  it('checks only the hosts asked for, and speaks JSON', async () => {
    const result = await check(`--config.file=${mixed}`, '--host=cgr.dev', '--output=json');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as { ok: boolean; hosts: Array<{ host: string; paths: Array<{ tls: { requirements: Record<string, { verdict: string }> } }> }> };
    expect(json.ok).toBe(true);
    expect(json.hosts.map((h) => h.host)).toEqual(['cgr.dev']);
    expect(json.hosts[0]?.paths[0]?.tls.requirements.baseline?.verdict).toBe('met');
  });

  it('exits 2 on a usage or config error, naming the problem', async () => {
    const unknownHost = await check(`--config.file=${good}`, '--host=nope.example');
    expect(unknownHost.code).toBe(2);
    expect(unknownHost.stderr).toContain(`--host: "nope.example" is not a target of the config (targets: cgr.dev:${full.port})`);
    const otherPort = await check(`--config.file=${good}`, `--host=cgr.dev:${full.port + 1}`);
    expect(otherPort.code).toBe(2);
    expect(otherPort.stderr).toContain(`--host: "cgr.dev:${full.port + 1}" is not a target of the config`);
    const badOutput = await check('--output=xml');
    expect(badOutput.code).toBe(2);
    expect(badOutput.stderr).toContain('--output: expected one of table, json, got "xml"');
    await writeFile(join(dir, 'bad.yml'), 'concurrency: lots\n');
    const badConfig = await check(`--config.file=${join(dir, 'bad.yml')}`);
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toContain(`${join(dir, 'bad.yml')}: concurrency: expected an integer from 1 to 256, got "lots"`);
  });

  it('on a terminal: colour unless NO_COLOR is set, and "checking 1 host" while it runs', async () => {
    const terminal = () => {
      let text = '';
      return { isTTY: true, write: (chunk: string) => ((text += chunk), true), text: () => text };
    };
    const run = async (noColor: string | undefined) => {
      const out = terminal();
      const err = terminal();
      const saved = process.env.NO_COLOR;
      if (noColor === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = noColor;
      try {
        const code = await runCheckCommand([`--config.file=${good}`], { out: out as unknown as NodeJS.WritableStream, err: err as unknown as NodeJS.WritableStream });
        return { code, out: out.text(), err: err.text() };
      } finally {
        if (saved === undefined) delete process.env.NO_COLOR;
        else process.env.NO_COLOR = saved;
      }
    };
    const coloured = await run(undefined);
    expect(coloured.code).toBe(0);
    expect(coloured.out).toContain('\x1b[32m✓\x1b[0m');
    expect(coloured.err).toContain('checking 1 host: 0 done');
    expect(coloured.err).not.toContain('1 hosts');
    const plain = await run('1');
    expect(plain.code).toBe(0);
    expect(plain.out).toContain('✓');
    // No colour codes (the progress line's erase-line on stderr is not colour).
    expect(plain.out).not.toContain('\x1b[');
  });
});
