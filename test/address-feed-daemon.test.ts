// The address feed in the built daemon: /addresses behind the same basic auth as /metrics,
// its series on /metrics, --storage.path saved on SIGTERM and read back by the next start
// (served at once, before any round), and a --storage.path that cannot be used refused.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer } from './fixtures/dns-server.js';
import type { DnsFixture } from './fixtures/dns-server.js';
import { spawnDaemon } from './helpers/daemon.js';
import type { RunningDaemon } from './helpers/daemon.js';
import { parseExposition } from './helpers/scrape.js';

const AUTH = `Basic ${Buffer.from('firewall:pull-s3cret').toString('base64')}`;

async function get(daemon: RunningDaemon, path: string, auth: string | null = AUTH): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${daemon.port}${path}`, { headers: auth === null ? {} : { Authorization: auth } });
  return { status: response.status, body: await response.text() };
}

async function waitFor<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await attempt();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('egress-exporter --storage.path and /addresses', () => {
  let dir: string;
  let dns: DnsFixture;
  let daemon: RunningDaemon | undefined;
  let flags: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'egress-feed-daemon-'));
    dns = await startDnsServer({ 'app.feed.test': { a: ['192.0.2.10', '192.0.2.11'], ttl: 60 } });
    await writeFile(
      join(dir, 'egress.yml'),
      `catalog: none
interval: 1s
timeout: 500ms
dns: { servers: ["${dns.address.name}"] }
targets: [{ host: app.feed.test, checks: [dns] }]
feed: { lists: [{ name: app, hosts: [app.feed.test] }] }
`,
    );
    await writeFile(join(dir, 'web.yml'), `basic_auth_users:\n  firewall: ${bcrypt.hashSync('pull-s3cret', 4)}\n`);
    flags = [`--config.file=${join(dir, 'egress.yml')}`, `--web.config.file=${join(dir, 'web.yml')}`, `--storage.path=${join(dir, 'state')}`];
  });

  afterAll(async () => {
    await daemon?.stop();
    await dns?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves the list to the right credentials only, with its series on /metrics', async () => {
    daemon = await spawnDaemon(flags);
    const running = daemon;
    const list = await waitFor('the list', async () => {
      const r = await get(running, '/addresses/app');
      return r.status === 200 ? r.body : undefined;
    });
    expect(list).toBe('192.0.2.10\n192.0.2.11\n');
    expect((await get(running, '/addresses/app', null)).status).toBe(401);
    expect((await get(running, '/addresses?host=app.feed.test&format=json', `Basic ${Buffer.from('firewall:wrong').toString('base64')}`)).status).toBe(401);
    // The series follow the list within a second; the state is saved soon after it changes.
    const metrics = await waitFor('the series', async () => {
      const samples = parseExposition((await get(running, '/metrics')).body);
      const saved = samples.find((s) => s.name === 'egress_feed_state_saved_timestamp_seconds')?.value ?? 0;
      const addresses = samples.find((s) => s.name === 'egress_feed_addresses' && s.labels.list === 'app')?.value;
      return saved > 0 && addresses === 2 ? samples : undefined;
    });
    expect(metrics.find((s) => s.name === 'egress_feed_bytes' && s.labels.list === 'app')?.value).toBe(22);
    expect(metrics.find((s) => s.name === 'egress_feed_over_limit' && s.labels.list === 'app')?.value).toBe(0);
  });

  it('saves on SIGTERM; the next start serves the saved list at once, while the DNS is silent', async () => {
    await daemon?.stop();
    expect(daemon?.child.exitCode).toBe(0);
    const saved = await readFile(join(dir, 'state', 'feed-state.json'), 'utf8');
    expect(saved).toContain('"192.0.2.11"');
    dns.silentAll = true;
    daemon = await spawnDaemon(flags);
    const first = await get(daemon, '/addresses/app?comments=true');
    expect(first.status, first.body).toBe(200);
    expect(first.body).toMatch(/^# egress-exporter address feed: list app: 2 addresses at .*\n# app\.feed\.test\n192\.0\.2\.10\n# app\.feed\.test\n192\.0\.2\.11\n$/);
    expect(daemon.logs()).toContain('feed: saved state restored');
  });

  it('refuses a --storage.path it cannot write, before listening', () => {
    const file = join(dir, 'egress.yml');
    const result = spawnSync(process.execPath, ['dist/cli.js', '--web.listen-address=127.0.0.1:0', `--config.file=${file}`, `--storage.path=${file}/state`], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^egress-exporter: --storage\.path: cannot use ".*egress\.yml\/state": .*\(ENOTDIR\)\n$/);
    const empty = spawnSync(process.execPath, ['dist/cli.js', '--storage.path='], { encoding: 'utf8' });
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain('egress-exporter: --storage.path: expected a directory, got ""');
  });
});
