// One exporter in process with a shard: it schedules, stores and exports only its
// shard's targets, says so in its shard series, keeps every target for /probe, and
// takes its new share on reload. Unsharded it is shard 0 of 1 and owns everything.
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ownedTargets } from '../src/shard/assignment.js';
import { startDnsServer } from './fixtures/dns-server.js';
import type { DnsFixture } from './fixtures/dns-server.js';
import { startTestExporter } from './helpers/exporter.js';
import type { TestExporterOnFile, TestExporterOptions } from './helpers/exporter.js';

const names = (n: number) => Array.from({ length: n }, (_, i) => `node-${i}.shard.test`);

describe('an exporter with a shard', () => {
  let dns: DnsFixture;
  const running: TestExporterOnFile[] = [];
  const config = (hosts: string[]) =>
    stringify({
      catalog: 'none',
      // Short: the first round is spread over at most half of it.
      interval: '2s',
      timeout: '1s',
      dns: { servers: [dns.address.name] },
      targets: hosts.map((host) => ({ host, families: ['v4'], checks: ['dns'] })),
    });
  const start = async (yaml: string, options?: TestExporterOptions) => {
    const started = await startTestExporter(yaml, options);
    running.push(started);
    return started;
  };

  beforeAll(async () => {
    dns = await startDnsServer(Object.fromEntries(names(20).map((host) => [host, { a: ['127.0.0.1'], ttl: 600 }])));
  });
  afterAll(async () => {
    for (const r of running) await r.stop();
    await dns?.close();
  });

  it('is shard 0 of 1 and owns every target without shard flags', async () => {
    const one = await start(config(names(12)));
    const m = await one.scrape();
    expect(m.value('egress_exporter_shard_ordinal', { shard: '0' })).toBe(0);
    expect(m.value('egress_exporter_total_shards')).toBe(1);
    expect(m.value('egress_exporter_targets_owned', { shard: '0' })).toBe(12);
    expect(m.value('egress_exporter_targets_configured')).toBe(12);
    expect(m.find('egress_exporter_round_finished_timestamp_seconds').map((s) => s.labels.host).sort()).toEqual(names(12).sort());
  });

  it("schedules and exports only its shard's targets, keeps all of them for /probe, and takes its new share on reload", async () => {
    const shard = { ordinal: 1, total: 3 };
    const sharded = await start(config(names(12)), { shard });
    const { exporter, file } = sharded;
    const share = (hosts: string[]) => ownedTargets(hosts.map((host) => ({ host, port: 443 })), shard).map((t) => t.host);
    expect(share(names(12)).length).toBeGreaterThan(0);
    expect(share(names(12)).length).toBeLessThan(12);

    let m = await sharded.scrape();
    expect(m.value('egress_exporter_shard_ordinal', { shard: '1' })).toBe(1);
    expect(m.value('egress_exporter_total_shards')).toBe(3);
    expect(m.value('egress_exporter_targets_owned', { shard: '1' })).toBe(share(names(12)).length);
    expect(m.value('egress_exporter_targets_configured')).toBe(12);
    expect(m.find('egress_exporter_round_finished_timestamp_seconds').map((s) => s.labels.host).sort()).toEqual(share(names(12)).sort());
    expect(exporter.results.all().map((s) => s.target.host).sort()).toEqual(share(names(12)).sort());
    // /probe looks targets up among all of the config, whichever shard owns them.
    expect(exporter.targets.map((t) => t.host)).toEqual(names(12));

    await writeFile(file, config(names(20)));
    expect(await exporter.reload()).toEqual({ ok: true });
    await exporter.scheduler.firstRound;
    m = await sharded.scrape();
    expect(m.value('egress_exporter_targets_owned', { shard: '1' })).toBe(share(names(20)).length);
    expect(m.value('egress_exporter_targets_configured')).toBe(20);
    expect(m.find('egress_exporter_round_finished_timestamp_seconds').map((s) => s.labels.host).sort()).toEqual(share(names(20)).sort());
  });
});
