// Reload: POST (or PUT) /-/reload and SIGHUP swap in a new config only when it is valid.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer } from './fixtures/dns-server.js';
import type { DnsFixture } from './fixtures/dns-server.js';
import { quietLogger, startTestExporter, tempDir } from './helpers/exporter.js';
import { eventually } from './helpers/timing.js';
import { loadConfigFile } from '../src/config/load.js';
import { startExporter } from '../src/exporter.js';
import { probeDns } from '../src/probes/net/dns.js';
import type { DnsProbeOptions } from '../src/probes/net/dns.js';
import type { Target } from '../src/model/types.js';
import type { TestExporterOnFile } from './helpers/exporter.js';
import { spawnDaemon } from './helpers/daemon.js';
import { scrape, scrapeUntil } from './helpers/scrape.js';

function configText(dnsName: string, hosts: string[]): string {
  return `catalog: none
interval: 1s
timeout: 500ms
dns: { servers: ["${dnsName}"] }
targets:
${hosts.map((h) => `  - { host: ${h}, checks: [dns] }`).join('\n')}
`;
}

describe('reload', () => {
  let dns: DnsFixture;
  let file: string;
  let exporter: TestExporterOnFile;
  let base: string;

  beforeAll(async () => {
    dns = await startDnsServer({ 'a.test': { a: ['127.0.0.1'] }, 'b.test': { a: ['127.0.0.2'] }, 'c.test': { a: ['127.0.0.3'] } });
    exporter = await startTestExporter(configText(dns.address.name, ['a.test', 'b.test']), { dir: await tempDir('egress-reload-') });
    ({ file, base } = exporter);
  });
  afterAll(async () => {
    await exporter.stop();
    await dns.close();
  });

  it('swaps in a valid config: a removed target loses its series, a new one gains them', async () => {
    const before = await scrape(base);
    expect(before.value('egress_probe_success', { host: 'b.test', check: 'dns' })).toBe(1);
    expect(before.value('egress_exporter_config_last_reload_successful')).toBe(1);
    const hashBefore = before.value('egress_exporter_config_hash');
    expect(hashBefore).toBeGreaterThan(0);
    // The same effective config, written another way: a reload leaves the hash as it was.
    await writeFile(file, `# the same, with a comment\n${configText(dns.address.name, ['a.test', 'b.test'])}`);
    expect((await fetch(`${base}/-/reload`, { method: 'POST' })).status).toBe(200);
    expect((await scrape(base)).value('egress_exporter_config_hash')).toBe(hashBefore);

    await writeFile(file, configText(dns.address.name, ['a.test', 'c.test']));
    const response = await fetch(`${base}/-/reload`, { method: 'POST' });
    expect(response.status).toBe(200);
    const m = await scrapeUntil(base, (s) => s.value('egress_probe_success', { host: 'c.test', check: 'dns' }) === 1);
    expect(m.find('egress_probe_success', { host: 'b.test' })).toEqual([]);
    expect(m.find('egress_target_info', { host: 'b.test' })).toEqual([]);
    expect(m.find('egress_dns_ttl_seconds', { host: 'b.test' })).toEqual([]);
    expect(m.value('egress_probe_success', { host: 'a.test', check: 'dns' })).toBe(1);
    expect(m.value('egress_exporter_config_last_reload_successful')).toBe(1);
    expect(Math.abs((m.value('egress_exporter_config_last_reload_success_timestamp_seconds') ?? 0) - Date.now() / 1000)).toBeLessThan(10);
    // Another config, another hash.
    expect(m.value('egress_exporter_config_hash')).not.toBe(hashBefore);
  });

  it('drops the series of a resolver the new config no longer asks', async () => {
    const other = await startDnsServer({ 'a.test': { a: ['127.0.0.1'] }, 'c.test': { a: ['127.0.0.3'] } });
    try {
      await writeFile(file, configText(other.address.name, ['a.test', 'c.test']));
      expect((await fetch(`${base}/-/reload`, { method: 'POST' })).status).toBe(200);
      const m = await scrapeUntil(
        base,
        (s) =>
          // Every target had a round with the new config: each replaced its report.
          ['a.test', 'c.test'].every((host) => s.value('egress_probe_success', { host, check: 'dns', resolver: other.address.name }) === 1),
      );
      expect(m.find('egress_probe_success', { check: 'dns', resolver: dns.address.name })).toEqual([]);
      expect(m.find('egress_dns_ttl_seconds', { resolver: dns.address.name })).toEqual([]);
    } finally {
      await writeFile(file, configText(dns.address.name, ['a.test', 'c.test']));
      await fetch(`${base}/-/reload`, { method: 'POST' });
      await other.close();
    }
  });

  it('reloads on PUT as on POST (as Prometheus does), and answers 405 with Allow to other methods', async () => {
    const put = await fetch(`${base}/-/reload`, { method: 'PUT' });
    expect(put.status).toBe(200);
    expect(await put.text()).toBe('Reloaded\n');
    for (const method of ['GET', 'DELETE', 'PATCH']) {
      const response = await fetch(`${base}/-/reload`, { method });
      expect(response.status, method).toBe(405);
      expect(response.headers.get('allow'), method).toBe('POST, PUT');
      expect(await response.text(), method).toBe(`${method} is not allowed on /-/reload: use POST or PUT\n`);
    }
    // HEAD gets the same status and header, without a body.
    const head = await fetch(`${base}/-/reload`, { method: 'HEAD' });
    expect(head.status).toBe(405);
    expect(head.headers.get('allow')).toBe('POST, PUT');
  });

  it('keeps the running config when the new one is broken, and says why', async () => {
    const running = await scrapeUntil(base, (s) => s.value('egress_probe_success', { host: 'a.test', check: 'dns', resolver: dns.address.name }) === 1);
    await writeFile(file, configText(dns.address.name, ['a.test']).replace('interval: 1s', 'interval: soon'));
    const response = await fetch(`${base}/-/reload`, { method: 'POST' });
    expect(response.status).toBe(500);
    expect(await response.text()).toContain(`${file}: interval: expected a duration like 30s or 1m30s, got "soon"`);
    const runs = (s: Awaited<ReturnType<typeof scrape>>) => s.value('egress_exporter_rounds_total', { host: 'c.test' }) ?? 0;
    const failed = await scrape(base);
    expect(failed.value('egress_exporter_config_last_reload_successful')).toBe(0);
    // The hash is the running config's, not the broken file's.
    expect(failed.value('egress_exporter_config_hash')).toBe(running.value('egress_exporter_config_hash'));
    // c.test is still probed: the old config keeps running.
    await scrapeUntil(base, (s) => runs(s) > runs(failed));
  });
});

describe('two reloads in quick succession', () => {
  it('a reload asked for while one runs runs again after it: the file as last written wins', async () => {
    const dns = await startDnsServer({ 'a.test': { a: ['127.0.0.1'] }, 'b.test': { a: ['127.0.0.2'] }, 'c.test': { a: ['127.0.0.3'] } });
    // slow.test's dns check takes 300 ms to give up after its abort, so a reload
    // (which stops the running rounds) is still running when the second one is asked for.
    let started = false;
    let aborted = false;
    const probes = {
      dns: async (target: Target, options: DnsProbeOptions, signal: AbortSignal) => {
        if (target.host !== 'slow.test') return probeDns(target, options, signal);
        started = true;
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        aborted = true;
        await new Promise((resolve) => setTimeout(resolve, 300));
        return { ok: false, reason: 'timeout' as const, durationSeconds: 0, resolver: 'x', records: [], cnameChain: [] };
      },
    };
    const text = (hosts: string[]) => configText(dns.address.name, hosts).replace('timeout: 500ms', 'timeout: 1900ms').replace('interval: 1s', 'interval: 2s');
    const dir = await tempDir('egress-reload-twice-');
    const file = join(dir, 'egress.yml');
    await writeFile(file, text(['a.test', 'slow.test']));
    const exporter = await startExporter({ config: await loadConfigFile(file), configFile: file, listen: { host: '127.0.0.1', port: 0 }, logger: quietLogger(), probes });
    try {
      // Within the first second (the spread of a 2 s interval), long before its 1.9 s deadline.
      expect(await eventually(() => started, 1500)).toBe(true);
      await writeFile(file, text(['b.test', 'slow.test']));
      const first = exporter.reload();
      // The first reload has read the file and waits for slow.test's round to stop.
      expect(await eventually(() => aborted)).toBe(true);
      await writeFile(file, text(['c.test']));
      const second = exporter.reload();
      expect(await first).toEqual({ ok: true });
      expect(await second).toEqual({ ok: true });
      expect(exporter.targets.map((t) => t.host)).toEqual(['c.test']);
      const m = await scrapeUntil(`http://127.0.0.1:${exporter.address.port}`, (s) => s.value('egress_probe_success', { host: 'c.test', check: 'dns' }) === 1);
      expect(m.labelValues('egress_target_info', 'host')).toEqual(['c.test']);
    } finally {
      await exporter.stop();
      await dns.close();
    }
  });
});

describe('SIGHUP', () => {
  it('reloads the config file of the running daemon', async () => {
    const dns = await startDnsServer({ 'a.test': { a: ['127.0.0.1'] }, 'b.test': { a: ['127.0.0.2'] } });
    const dir = await tempDir('egress-hup-');
    const file = join(dir, 'egress.yml');
    await writeFile(file, configText(dns.address.name, ['a.test']));
    const daemon = await spawnDaemon([`--config.file=${file}`, '--log.level=info']);
    try {
      const base = `http://127.0.0.1:${daemon.port}`;
      await scrapeUntil(base, (s) => s.value('egress_probe_success', { host: 'a.test', check: 'dns' }) === 1);
      await writeFile(file, configText(dns.address.name, ['b.test']));
      daemon.child.kill('SIGHUP');
      const m = await scrapeUntil(base, (s) => s.value('egress_probe_success', { host: 'b.test', check: 'dns' }) === 1);
      expect(m.find('egress_probe_success', { host: 'a.test' })).toEqual([]);
      expect(daemon.logs()).toContain('config reloaded');
    } finally {
      await daemon.stop();
      await dns.close();
    }
  });
});
