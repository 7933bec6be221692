// The registry pull path in the daemon, scraped: through a proxy that allows the
// registry, the pull works; through one that denies the blob host, the scrape
// says the pull fails at blob_redirect and names the blob host, while the
// registry's own checks pass.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy } from './fixtures/proxies.js';
import type { RunningProxy } from './fixtures/proxies.js';
import { BLOB_HOST_NAME, REPOSITORY, startRegistryFixture } from './fixtures/registry-server.js';
import type { RegistryFixture } from './fixtures/registry-server.js';
import { startTestExporter, tempDir, writeTestCa } from './helpers/exporter.js';
import type { TestExporterOnFile } from './helpers/exporter.js';
import type { Scrape } from './helpers/scrape.js';

describe('the registry pull path, scraped', () => {
  let registry: RegistryFixture;
  let open: RunningProxy;
  let denying: RunningProxy;
  let exporter: TestExporterOnFile;
  let m: Scrape;

  beforeAll(async () => {
    const dir = await tempDir('egress-registry-');
    await writeTestCa(dir);
    registry = await startRegistryFixture();
    open = await startProxy({ mode: 'tunnel', map: registry.ports });
    denying = await startProxy({ mode: 'tunnel', map: registry.ports, denySuffixes: ['.registry.test'] });
    exporter = await startTestExporter(
      `catalog: none
interval: 30s
timeout: 5s
tls: { ca_file: ca.pem }
proxies:
  - { name: open, url: "${open.url}" }
  - { name: corp, url: "${denying.url}" }
registries:
  - { host: cgr.dev, port: ${registry.registryPort}, repository: ${REPOSITORY} }
`,
      { dir },
    );
    m = await exporter.scrape();
  }, 30_000);

  afterAll(async () => {
    await exporter?.stop();
    await open?.close();
    await denying?.close();
    await registry?.close();
  });

  const at = (path: string) => ({ host: 'cgr.dev', port: String(registry.registryPort), path });

  it('pulls through the open proxy: every step, the blob host named', () => {
    expect(m.value('egress_probe_success', { ...at('open'), check: 'registry' })).toBe(1);
    for (const step of ['ping', 'token', 'manifest', 'blob_redirect', 'blob_first_byte']) {
      expect(m.value('egress_registry_step_duration_seconds', { ...at('open'), step }), step).toBeGreaterThan(0);
    }
    expect(m.value('egress_registry_blob_host_info', { ...at('open'), blob_host: BLOB_HOST_NAME })).toBe(1);
    expect(m.find('egress_registry_failure_reason', at('open'))).toEqual([]);
  });

  it('through the proxy that denies the blob host: fails at blob_redirect, naming it, while the registry answers', () => {
    expect(m.value('egress_probe_success', { ...at('corp'), check: 'registry' })).toBe(0);
    expect(m.value('egress_registry_failure_reason', { ...at('corp'), step: 'blob_redirect', reason: 'proxy_denied' })).toBe(1);
    expect(m.value('egress_registry_blob_host_info', { ...at('corp'), blob_host: BLOB_HOST_NAME })).toBe(1);
    for (const step of ['ping', 'token', 'manifest']) expect(m.value('egress_registry_step_duration_seconds', { ...at('corp'), step }), step).toBeGreaterThan(0);
    expect(m.find('egress_registry_step_duration_seconds', { ...at('corp'), step: 'blob_first_byte' })).toEqual([]);
    // A registry nobody listed as a target is one, with only the pull to check.
    expect(m.value('egress_target_info', { host: 'cgr.dev', port: String(registry.registryPort), purpose: 'OCI registry pull path' })).toBe(1);
    expect(m.find('egress_probe_success', { ...at('corp'), check: 'tls' })).toEqual([]);
  });

  it('gives the check command a pull row per registry and path', async () => {
    // The built CLI, as a user runs it; exit 1: one pull fails.
    const out = await new Promise<string>((resolve) => {
      execFile(process.execPath, ['dist/cli.js', 'check', `--config.file=${exporter.file}`], { env: { ...process.env, NO_COLOR: '1' } }, (_error, stdout) => resolve(stdout));
    });
    expect(out).toMatch(new RegExp(`cgr\\.dev:${registry.registryPort} +open +ok +${BLOB_HOST_NAME.replace(/\./g, '\\.')}`));
    expect(out).toMatch(new RegExp(`cgr\\.dev:${registry.registryPort} +corp +FAIL proxy_denied at blob_redirect +${BLOB_HOST_NAME.replace(/\./g, '\\.')}`));
  });

  it('shows every step, the redirect and the blob host in the /probe transcript', async () => {
    const text = await (await fetch(`${exporter.base}/probe?target=cgr.dev:${registry.registryPort}&debug=true`)).text();
    expect(text).toContain('registry');
    expect(text).toContain(BLOB_HOST_NAME);
    expect(text).toMatch(/blob_redirect/);
    expect(text).not.toMatch(/Bearer [A-Za-z0-9._-]{20,}/);
  });
});
