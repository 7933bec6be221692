// The status page at `/`, as a person sees it: rendered by Debian's Chromium
// (driven by playwright-core) with JavaScript disabled, against an exporter run in
// process whose targets are loopback fixtures: one healthy host, one whose name does
// not exist, one whose port refuses connections.
//
// Chromium touches nothing but 127.0.0.1: every background service is switched off
// by flags, every host name but 127.0.0.1 fails to resolve inside the browser, and no
// proxy is used. Playwright gives each launch a fresh, empty profile directory
// (--user-data-dir=/tmp/playwright_chromiumdev_profile-XXXX). Traced with strace, the
// only socket call not to 127.0.0.1 or a local socket is the UDP connect() Chromium
// uses to learn its IPv6 source address, which sends no packet.
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDnsServer } from './fixtures/dns-server.js';
import type { DnsFixture } from './fixtures/dns-server.js';
import { closedPort } from './fixtures/tcp-peers.js';
import { startTlsServer } from './fixtures/tls-servers.js';
import type { RunningServer } from './fixtures/tls-servers.js';
import { startTestExporter, tempDir, writeTestCa } from './helpers/exporter.js';
import type { TestExporter } from './helpers/exporter.js';

const CHROMIUM = '/usr/bin/chromium';

/** Flags that keep Chromium off the network: only the page under test on 127.0.0.1. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-domain-reliability',
  '--no-pings',
  '--no-proxy-server',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];

describe('the status page in headless Chromium, without JavaScript', () => {
  let dir: string;
  let dns: DnsFixture;
  let tls: RunningServer;
  let exporter: TestExporter;
  let browser: Browser;
  let page: Page;
  let base: string;
  let refusedPort: number;

  // Without the browser every test fails with this message: none is skipped.
  const missing = existsSync(CHROMIUM)
    ? undefined
    : `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y --no-install-recommends chromium, or node scripts/ensure-tools.mjs)`;
  beforeEach(() => {
    if (missing !== undefined) throw new Error(missing);
  });

  beforeAll(async () => {
    if (missing !== undefined) return;
    dir = await tempDir('egress-status-page-');
    await writeTestCa(dir);
    tls = await startTlsServer('full');
    refusedPort = await closedPort();
    dns = await startDnsServer({
      'cgr.dev': { a: ['127.0.0.1'], ttl: 300 },
      'apk.cgr.dev': { rcode: 'NXDOMAIN' },
      'packages.wolfi.dev': { a: ['127.0.0.1'], ttl: 300 },
    });
    exporter = await startTestExporter(
      `catalog: none
interval: 30s
timeout: 2s
dns: { servers: ["${dns.address.name}"] }
tls: { ca_file: ca.pem }
targets:
  - { host: cgr.dev, port: ${tls.port}, checks: [dns, tcp, tls] }
  - { host: apk.cgr.dev, port: ${tls.port}, checks: [dns, tcp, tls] }
  - { host: packages.wolfi.dev, port: ${refusedPort}, checks: [dns, tcp] }
`,
      { dir },
    );
    base = exporter.base;

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 20_000 });
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 720 } });
    page = await context.newPage();
    const response = await page.goto(`${base}/`);
    expect(response?.status()).toBe(200);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await exporter?.stop();
    await dns?.close();
    await tls?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const row = (host: string) => page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: new RegExp(`^${host.replace(/\./g, '\\.')}:`) }) });
  const cellOf = async (host: string, check: string) => {
    const headers = (await page.getByRole('columnheader').allTextContents()).map((t) => t.trim());
    const index = headers.indexOf(check);
    expect(index, `column ${check} in ${headers.join(', ')}`).toBeGreaterThan(0);
    const cell = row(host).getByRole('cell').nth(index - 1);
    expect(await cell.isVisible(), `${host} ${check} is on screen`).toBe(true);
    return cell;
  };
  /** The text a person reads in a cell: rendered text, not markup. */
  const textOf = async (host: string, check: string) => (await (await cellOf(host, check)).innerText()).replace(/\s+/g, ' ').trim();

  it('shows a title, the summary and the links to the endpoints', async () => {
    expect(await page.title()).toBe('egress-exporter');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('egress-exporter');
    const summary = (await page.locator('#summary').innerText()).trim();
    // apk.cgr.dev: dns, tcp and tls; packages.wolfi.dev: tcp.
    expect(summary).toMatch(/^3 targets; 4 checks failing\. Version \S+\.$/);
    expect(await page.locator('script').count(), 'the page carries no script').toBe(0);
    for (const [name, href] of [
      ['Metrics', '/metrics'],
      ['Health', '/-/healthy'],
      ['Readiness', '/-/ready'],
    ] as const) {
      const link = page.getByRole('link', { name, exact: true });
      expect(await link.isVisible(), name).toBe(true);
      expect(await link.getAttribute('href'), name).toBe(href);
    }
  });

  it('shows one row per host, and a column per check', async () => {
    const table = page.getByRole('table');
    expect(await table.count()).toBe(1);
    const headers = (await page.getByRole('columnheader').allTextContents()).map((t) => t.trim());
    expect(headers).toEqual(['Host', 'dns', 'tcp', 'tls', 'http', 'registry', 'Transcript']);
    const hosts = (await page.getByRole('rowheader').allTextContents()).map((t) => t.trim());
    expect(hosts).toHaveLength(3);
    expect(hosts[0]).toMatch(new RegExp(`^cgr\\.dev:${tls.port}`));
    expect(hosts[1]).toMatch(new RegExp(`^apk\\.cgr\\.dev:${tls.port}`));
    expect(hosts[2]).toMatch(new RegExp(`^packages\\.wolfi\\.dev:${refusedPort}`));
  });

  it("shows the healthy host all ok, with each result's path and age", async () => {
    for (const check of ['dns', 'tcp', 'tls']) {
      const text = await textOf('cgr.dev', check);
      expect(text, check).toContain('✓ ok');
      expect(text, check).not.toContain('✗');
      expect(text, check).toMatch(/\d+s ago/);
    }
    expect(await textOf('cgr.dev', 'dns')).toContain(dns.address.name);
    expect(await textOf('cgr.dev', 'tcp')).toContain('direct');
    // The certificate under tls: when it expires, who issued it, what it verified against.
    expect(await textOf('cgr.dev', 'tls')).toMatch(/direct: certificate expires in \d+ days[^;]*; issuer CN=[^;]+; verified \(tls\.ca_file\)/);
    // A check the target does not have says so, rather than looking like a gap.
    expect(await textOf('cgr.dev', 'http')).toBe('not checked');
  });

  it("shows the missing name's failure, and what it meant for the checks after it", async () => {
    const dnsText = await textOf('apk.cgr.dev', 'dns');
    expect(dnsText).toContain('✗ nxdomain');
    expect(dnsText).toMatch(/\d+s ago/);
    // The failure's detail is on the page, not only in a tooltip.
    expect(dnsText).toContain('lookup failed');
    expect(await textOf('apk.cgr.dev', 'tcp')).toContain('✗ no_addresses');
    expect(await textOf('apk.cgr.dev', 'tls')).toContain('✗ no_addresses');
  });

  it('shows the refused port, with the lookup before it ok', async () => {
    expect(await textOf('packages.wolfi.dev', 'dns')).toContain('✓ ok');
    const tcpText = await textOf('packages.wolfi.dev', 'tcp');
    expect(tcpText).toContain('✗ refused');
    expect(tcpText).toContain('none of 1 reachable (127.0.0.1 refused)');
    expect(await textOf('packages.wolfi.dev', 'tls')).toBe('not checked');
  });

  it('takes a screenshot that is a real picture', async () => {
    const png = await page.screenshot({ fullPage: true });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    // STATUS_PAGE_SCREENSHOT=/tmp/status.png keeps the picture (and the HTML beside it) to look at.
    const keep = process.env.STATUS_PAGE_SCREENSHOT;
    if (keep) {
      await writeFile(keep, png);
      await writeFile(`${keep}.html`, await page.content());
    }
  });

  it('follows the Readiness link, and comes back', async () => {
    await page.getByRole('link', { name: 'Readiness', exact: true }).click();
    await page.waitForURL(`${base}/-/ready`);
    expect((await page.locator('body').innerText()).trim()).toBe('Ready');
    await page.goBack();
    await page.waitForURL(`${base}/`);
    expect(await page.getByRole('table').isVisible()).toBe(true);
  });

  it("follows the NXDOMAIN host's debug link to its transcript", async () => {
    const link = row('apk.cgr.dev').getByRole('link', { name: 'debug' });
    // The target's port too: a host on two ports has two transcripts.
    expect(await link.getAttribute('href')).toBe(`/probe?target=apk.cgr.dev:${tls.port}&debug=true`);
    await Promise.all([page.waitForURL(`${base}/probe?target=apk.cgr.dev:${tls.port}&debug=true`), link.click()]);
    const transcript = await page.locator('body').innerText();
    expect(transcript).toContain(`egress-exporter probe of apk.cgr.dev:${tls.port}`);
    expect(transcript).toContain(`resolver ${dns.address.name}: FAILED (nxdomain)`);
    expect(transcript).toContain('tcp: FAILED (no_addresses)');
  });
});
