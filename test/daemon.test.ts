// The built daemon as a user runs it: `node dist/cli.js` (what `npm start` runs).
// The no-config run happens in an empty network namespace, so the system
// resolver's queries fail at once and reach no one.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { getCatalog } from '../src/catalog/index.js';
import { parseExposition, Scrape } from './helpers/scrape.js';

const run = promisify(execFile);
const CLI = 'dist/cli.js';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run the tests with npm test, which builds first`);
});

describe('egress-exporter with no config, offline', () => {
  interface Report {
    readyAfterMs?: number;
    metrics?: string;
    landing?: string;
    healthy?: number;
    error?: string;
    exit: { code: number | null; signal: string | null; afterMs: number };
    logs: string;
  }
  let report: Report;

  beforeAll(() => {
    const out = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" test/helpers/netns-daemon.mjs 127.0.0.1:9739 --log.level=info', process.execPath], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (out.status !== 0) throw new Error(`unshare failed (${out.status}): ${out.stderr}`);
    report = JSON.parse(out.stdout) as Report;
  }, 70_000);

  it('becomes ready and serves a failed dns check with a reason for every one of the 13 catalog hosts', () => {
    expect(report.error).toBeUndefined();
    const m = new Scrape(parseExposition(report.metrics ?? ''), report.metrics ?? '');
    const hosts = getCatalog('chainguard').hosts.map((h) => h.host);
    expect(hosts).toHaveLength(13);
    expect(m.labelValues('egress_probe_success', 'host', { check: 'dns' })).toEqual([...hosts].sort());
    for (const host of hosts) {
      expect(m.value('egress_probe_success', { host, check: 'dns', resolver: 'system' }), host).toBe(0);
      const reasons = m.find('egress_probe_failure_reason', { host, check: 'dns', resolver: 'system' });
      expect(reasons, host).toHaveLength(1);
      expect(reasons[0]?.value).toBe(1);
      // Without addresses the tcp check cannot run, and says so.
      expect(m.value('egress_probe_failure_reason', { host, check: 'tcp', path: 'direct', reason: 'no_addresses' })).toBe(1);
    }
    // Within one interval (30 s), well within.
    expect(report.readyAfterMs).toBeLessThan(30_000);
    expect(report.healthy).toBe(200);
    expect(report.landing).toContain('href="/metrics"');
  });

  it('logs one state change per host and check, not one line per probe', () => {
    const lines = report.logs
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; host?: string; check?: string; level: string });
    const changes = lines.filter((l) => l.msg === 'check state changed');
    const m = new Scrape(parseExposition(report.metrics ?? ''), report.metrics ?? '');
    // One line per (host, check): unknown -> down, and nothing more in the first round.
    expect(changes).toHaveLength(m.find('egress_probe_success').length);
    expect(new Set(changes.map((c) => `${c.host} ${c.check}`)).size).toBe(changes.length);
    // Failures are warnings, named by level.
    expect(changes.every((c) => c.level === 'warn')).toBe(true);
    expect(lines.some((l) => l.msg === 'egress-exporter listening')).toBe(true);
  });

  it('exits 0 within 5 s of SIGTERM', () => {
    expect(report.exit.code).toBe(0);
    expect(report.exit.afterMs).toBeLessThan(5000);
  });
});

describe('egress-exporter --config.check and flags', () => {
  it('prints the effective config of no file: the Chainguard catalog with defaults', async () => {
    const result = await cli('--config.check');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('catalog: chainguard');
    expect(result.stdout).toContain('interval: 30s');
    expect(result.stderr).toContain('13 targets');
  });

  it('prints the version with the git revision it was built from, also away from the checkout', async () => {
    const head = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
    expect(head).toMatch(/^[0-9a-f]{12}$/);
    const here = await cli('--version');
    expect(here.code).toBe(0);
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(here.stdout).toBe(`egress-exporter ${version} (revision ${head}, node ${process.version})\n`);
    // dist/ on its own (an install, an image): the revision recorded at build time.
    const dir = await mkdtemp(join(tmpdir(), 'egress-version-'));
    await cp('dist', join(dir, 'dist'), { recursive: true });
    await cp('package.json', join(dir, 'package.json'));
    await symlink(join(process.cwd(), 'node_modules'), join(dir, 'node_modules'));
    const { stdout } = await run(process.execPath, [join(dir, 'dist/cli.js'), '--version'], { cwd: dir, env: { ...process.env, EGRESS_EXPORTER_REVISION: '' } });
    expect(stdout).toContain(`(revision ${head},`);
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the TLS requirements each target is judged on: the catalog\'s for its hosts, the config\'s for its own', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'egress-cli-'));
    const file = join(dir, 'egress.yml');
    await writeFile(file, 'tls:\n  requirements: [group_p256]\ntargets:\n  - host: mirror.internal.example\n  - host: cache.internal.example\n    tls_requirements: []\n');
    const result = await cli(`--config.file=${file}`, '--config.check');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('#   mirror.internal.example:443 (config; dns, tcp, tls, http): tls requirements: group_p256\n');
    expect(result.stdout).toContain('#   cache.internal.example:443 (config; dns, tcp, tls, http): tls requirements: the unconstrained handshake only\n');
    expect(result.stdout).toContain('#   apk.cgr.dev:443 (chainguard; dns, tcp, tls, http): tls requirements: tls13_aes_256_gcm_sha384, tls12_ecdhe_ecdsa_aes_256_gcm_sha384, extended_master_secret, group_p256, sig_ecdsa_secp256r1_sha256, sig_rsa_pss_rsae_sha256, alpn_h2, baseline\n');
  });

  it('accepts the shipped example file', async () => {
    const result = await cli('--config.file=egress.example.yml', '--config.check');
    expect(result.stderr).toContain('config OK');
    expect(result.code).toBe(0);
  });

  it('exits 1 on a broken config, naming the key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'egress-cli-'));
    const file = join(dir, 'bad.yml');
    await writeFile(file, 'interval: 30s\ndns:\n  servers: ["8.8.8.8:99999"]\ntimeout: 45s\n');
    for (const args of [['--config.check'], []]) {
      const result = await cli(`--config.file=${file}`, ...args);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${file}: dns.servers[0]: expected ip[:port], got "8.8.8.8:99999"`);
      expect(result.stderr).toContain(`${file}: timeout: must be shorter than interval (30s), got 45s`);
    }
  });

  it('exits 1 when the config file is missing', async () => {
    const result = await cli('--config.file=/nonexistent/egress.yml');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('/nonexistent/egress.yml: cannot read the config file: no such file or directory (ENOENT)');
  });

  it('exits 2 on a bad flag or flag value, with usage', async () => {
    const unknown = await cli('--web.listen-adress=:9739');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown flag '--web.listen-adress': did you mean '--web.listen-address'?");
    expect(unknown.stderr).toContain('usage: egress-exporter');
    const level = await cli('--log.level=verbose');
    expect(level.code).toBe(2);
    expect(level.stderr).toContain('--log.level: expected one of debug, info, warn, error, got "verbose"');
    const address = await cli('--web.listen-address=9739');
    expect(address.code).toBe(2);
    expect(address.stderr).toContain('--web.listen-address: expected [host]:port such as :9739 or 127.0.0.1:9739, got "9739"');
    const ip = await cli('--web.listen-address=999.1.1.1:9739');
    expect(ip.code).toBe(2);
    expect(ip.stderr).toContain('--web.listen-address: "999.1.1.1" is not an IPv4 address');
  });

  it('exits 1 with one clear line when the port is taken', async () => {
    const server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const result = await cli(`--web.listen-address=127.0.0.1:${port}`, '--config.file=/dev/null');
    server.close();
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`egress-exporter: cannot serve on 127.0.0.1:${port}: the port is already in use by another process (EADDRINUSE)\n`);
  });

  it('exits 1 with one clear line when the listen host does not resolve', () => {
    // In an empty network namespace: the lookup fails on this machine, no query leaves it.
    const out = spawnSync('unshare', ['-n', process.execPath, CLI, '--web.listen-address=no-such-host.invalid:9739', '--config.file=/dev/null'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/^egress-exporter: cannot serve on no-such-host\.invalid:9739: the host name (does not resolve \(ENOTFOUND\)|could not be resolved: no answer from the resolver \(EAI_AGAIN\))\n$/);
  });
});
