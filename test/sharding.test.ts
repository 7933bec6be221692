// Sharded replicas on loopback, as a cluster runs them: built daemons (dist/cli.js) with
// one config and their own shards, and a real Prometheus (Debian's `prometheus`) that
// scrapes them all and evaluates the shipped rules (every `for:` shortened to 2s).
//
//   egress      3 replicas, shards from pod names (egress-exporter-0..2), as the StatefulSet runs them
//   egress-ha   6 replicas, two of each of 3 shards (--shard=N): HA pairs
//   egress-4    4 replicas: the same targets resharded from 3 to 4
//
// Asserted through Prometheus: every target probed by exactly one replica (two in
// egress-ha), each by the shard rendezvous hashing gives it; 3 -> 4 moves at most about
// a quarter of the targets, all to the new shard; no sharding alert while all live;
// killing a replica raises EgressExporterTargetsUncovered for its job, and killing one
// of an HA pair raises nothing. /probe answers for a target its replica does not own.
//
// Targets: 30 names (target-01.shard.test ...) resolved by the test's DNS server, dns
// check only; their keys (name:443) do not depend on any port picked at run time, so
// the shares and the movement are the same on every run. Everything on 127.0.0.1.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ownerOf, shardKey } from '../src/shard/assignment.js';
import { startDnsServer } from './fixtures/dns-server.js';
import type { DnsFixture } from './fixtures/dns-server.js';
import { spawnDaemon } from './helpers/daemon.js';
import type { RunningDaemon } from './helpers/daemon.js';
import { tempDir } from './helpers/exporter.js';
import { runNode } from './helpers/monitoring-queries.js';
import { freePorts, sleep, until } from './helpers/prometheus.js';
import { scrape } from './helpers/scrape.js';

const HOSTS = Array.from({ length: 30 }, (_, i) => `target-${String(i + 1).padStart(2, '0')}.shard.test`);
const KEYS = new Map(HOSTS.map((host) => [host, shardKey({ host, port: 443 })]));
/** Each name's one address: what the address feed lists for it. */
const ADDRESS = new Map(HOSTS.map((host, i) => [host, `127.0.30.${i + 1}`]));
const FOR = '2s';

interface Replica {
  job: string;
  shard: number;
  total: number;
  daemon: RunningDaemon;
  instance: string;
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
}

class Prometheus {
  constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly logs: () => string,
  ) {}

  async query(expr: string): Promise<Sample[]> {
    const response = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await response.json()) as { status: string; error?: string; data?: { result: Sample[] } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? body.status}`);
    return body.data!.result;
  }

  async alerts(name: string): Promise<Alert[]> {
    const response = await fetch(`${this.url}/api/v1/alerts`, { signal: AbortSignal.timeout(5_000) });
    return ((await response.json()) as { data: { alerts: Alert[] } }).data.alerts.filter((a) => a.labels.alertname === name);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await Promise.race([exited, sleep(8_000).then(() => this.child.kill('SIGKILL'))]);
  }
}

/** job -> host -> how many replicas of the job report rounds of it. */
async function probers(prom: Prometheus): Promise<Map<string, Map<string, number>>> {
  const byJob = new Map<string, Map<string, number>>();
  for (const s of await prom.query('count by (job, host) (egress_exporter_round_finished_timestamp_seconds)')) {
    const hosts = byJob.get(s.metric.job!) ?? new Map<string, number>();
    hosts.set(s.metric.host!, Number(s.value[1]));
    byJob.set(s.metric.job!, hosts);
  }
  return byJob;
}

/** job -> host -> the shard label of the replicas that report rounds of it. */
async function owners(prom: Prometheus): Promise<Map<string, Map<string, number>>> {
  const byJob = new Map<string, Map<string, number>>();
  const expr =
    'count by (job, host, shard) (egress_exporter_round_finished_timestamp_seconds * on (job, instance) group_left (shard) (egress_exporter_shard_ordinal * 0 + 1))';
  for (const s of await prom.query(expr)) {
    const hosts = byJob.get(s.metric.job!) ?? new Map<string, number>();
    hosts.set(s.metric.host!, Number(s.metric.shard));
    byJob.set(s.metric.job!, hosts);
  }
  return byJob;
}

describe('sharded replicas on loopback, scraped by a real Prometheus with the shipped rules', () => {
  let dir: string;
  let dns: DnsFixture;
  let prom: Prometheus;
  const replicas: Replica[] = [];
  const seen = () => `prometheus log:\n${prom?.logs().slice(-2_000) ?? ''}\nreplica logs:\n${replicas.map((r) => `${r.job}/${r.shard}: ${r.daemon.logs().slice(-400)}`).join('\n')}`;

  beforeAll(async () => {
    if (spawnSync('sh', ['-c', 'command -v prometheus'], { stdio: 'ignore' }).status !== 0) {
      throw new Error('prometheus is not installed: this test needs the Debian package `prometheus` (node scripts/ensure-tools.mjs installs it)');
    }
    dir = await tempDir('egress-shard-');
    dns = await startDnsServer(Object.fromEntries(HOSTS.map((host) => [host, { a: [ADDRESS.get(host)!], ttl: 600 }])));
    const config = join(dir, 'egress.yml');
    await writeFile(
      config,
      stringify({
        catalog: 'none',
        interval: '1s',
        timeout: '800ms',
        // Loopback answers are this lab's public addresses (never connected to: dns check only).
        dns: { servers: [dns.address.name], sinkhole_cidrs: ['0.0.0.0/8'] },
        feed: { lists: [{ name: 'all' }] },
        targets: HOSTS.map((host) => ({ host, families: ['v4'], checks: ['dns'] })),
      }),
    );

    // The replicas, all at once: the StatefulSet's way (pod names), HA pairs, and 4 shards.
    const start = async (job: string, total: number, flags: string[], shard: number): Promise<Replica> => {
      // Thirteen node processes starting at once on two cores: give each time.
      const daemon = await spawnDaemon([`--config.file=${config}`, `--total-shards=${total}`, ...flags], 60_000);
      return { job, shard, total, daemon, instance: `127.0.0.1:${daemon.port}` };
    };
    const starting: Array<Promise<Replica>> = [];
    for (let k = 0; k < 3; k++) starting.push(start('egress', 3, [`--shard.from-pod-name=egress-exporter-${k}`], k));
    for (let k = 0; k < 6; k++) starting.push(start('egress-ha', 3, [`--shard=${k % 3}`], k % 3));
    for (let k = 0; k < 4; k++) starting.push(start('egress-4', 4, [`--shard.from-pod-name=egress-exporter-${k}`], k));
    const settled = await Promise.allSettled(starting);
    for (const s of settled) if (s.status === 'fulfilled') replicas.push(s.value);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;

    const rules = join(dir, 'egress-rules.yml');
    const generated = await runNode(['alerts/generate.ts', '--for', FOR, '--out', rules]);
    if (generated.code !== 0) throw new Error(`alerts/generate.ts failed: ${generated.stderr}`);
    const jobs = [...new Set(replicas.map((r) => r.job))];
    await writeFile(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        rule_files: [rules],
        scrape_configs: jobs.map((job) => ({ job_name: job, static_configs: [{ targets: replicas.filter((r) => r.job === job).map((r) => r.instance) }] })),
      }),
    );
    const [port] = await freePorts(1);
    // Prometheus talks to 127.0.0.1 only: no proxy from the environment.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/_proxy$/i.test(key)));
    const child = spawn(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`],
      { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    const keep = (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-32_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    prom = new Prometheus(child, `http://127.0.0.1:${port}`, () => log);

    // Settled: every replica scraped, each job reporting rounds of all 30 targets.
    await until(
      'every job reports rounds of every target',
      40_000,
      async () => {
        const up = await prom.query('up == 1');
        const byJob = await probers(prom);
        return up.length === replicas.length && ['egress', 'egress-ha', 'egress-4'].every((job) => byJob.get(job)?.size === HOSTS.length) ? true : undefined;
      },
      seen,
    );
  }, 150_000);

  afterAll(async () => {
    await prom?.stop();
    await Promise.all(replicas.map((r) => r.daemon.stop()));
    await dns?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('probes every target with exactly one replica of each sharded job, and two in the HA job', async () => {
    const byJob = await probers(prom);
    const all = (count: number) => new Map(HOSTS.map((host) => [host, count]));
    expect(byJob.get('egress')).toEqual(all(1));
    expect(byJob.get('egress-4')).toEqual(all(1));
    expect(byJob.get('egress-ha')).toEqual(all(2));
    // Every name was really looked up: the DNS server saw each.
    expect(new Set(dns.queries.map((q) => q.name))).toEqual(new Set(HOSTS));
    // What the replicas say they own adds up to the catalog, each shard once.
    for (const job of ['egress', 'egress-ha', 'egress-4']) {
      const [owned] = await prom.query(`sum(max by (shard) (egress_exporter_targets_owned{job="${job}"}))`);
      const [configured] = await prom.query(`max(egress_exporter_targets_configured{job="${job}"})`);
      expect([job, Number(owned?.value[1]), Number(configured?.value[1])]).toEqual([job, HOSTS.length, HOSTS.length]);
    }
  });

  it('gives each target the shard rendezvous hashing names; 3 -> 4 shards moves at most about a quarter, all to the new shard', async () => {
    const byJob = await owners(prom);
    const three = byJob.get('egress')!;
    const four = byJob.get('egress-4')!;
    expect(three).toEqual(new Map(HOSTS.map((host) => [host, ownerOf(KEYS.get(host)!, 3)])));
    expect(four).toEqual(new Map(HOSTS.map((host) => [host, ownerOf(KEYS.get(host)!, 4)])));
    const moved = HOSTS.filter((host) => three.get(host) !== four.get(host));
    // 7 of these 30 (23%); over 10,000 synthetic targets 25% (src/shard/assignment.test.ts).
    expect(moved.length / HOSTS.length).toBeLessThanOrEqual(0.25 + 0.05);
    expect(moved.map((host) => four.get(host))).toEqual(moved.map(() => 3));
  });

  it('raises no sharding alert while every shard has a live replica', async () => {
    // Long enough for a `for: 2s` alert to go pending and fire, were its condition true.
    await sleep(4_000);
    expect(await prom.alerts('EgressExporterTargetsUncovered')).toEqual([]);
    expect(await prom.alerts('EgressExporterShardingMismatch')).toEqual([]);
  }, 15_000);

  it('answers /probe for a target the replica does not own, without taking it into its schedule', async () => {
    const replica = replicas.find((r) => r.job === 'egress' && r.shard === 0)!;
    const foreign = HOSTS.find((host) => ownerOf(KEYS.get(host)!, 3) !== 0)!;
    const response = await fetch(`http://${replica.instance}/probe?target=${foreign}`, { signal: AbortSignal.timeout(5_000) });
    const body = await response.text();
    expect(response.status, body).toBe(200);
    expect(body).toMatch(new RegExp(`^egress_probe_success\\{[^}]*host="${foreign.replace(/\./g, '\\.')}"[^}]*check="dns"[^}]*\\} 1$`, 'm'));
    const m = await scrape(`http://${replica.instance}`);
    expect(m.find('egress_exporter_round_finished_timestamp_seconds', { host: foreign })).toEqual([]);
    expect(m.value('egress_exporter_targets_owned', { shard: '0' })).toBe(HOSTS.filter((host) => ownerOf(KEYS.get(host)!, 3) === 0).length);
  });

  it("serves on each replica the address feed of its own shard's targets: ready, and together the whole list", async () => {
    const shards = replicas.filter((r) => r.job === 'egress').sort((a, b) => a.shard - b.shard);
    const listed: string[] = [];
    for (const replica of shards) {
      const own = HOSTS.filter((host) => ownerOf(KEYS.get(host)!, 3) === replica.shard);
      const text = await until(`shard ${replica.shard}'s /addresses/all`, 10_000, async () => {
        const response = await fetch(`http://${replica.instance}/addresses/all`, { signal: AbortSignal.timeout(5_000) });
        return response.status === 200 ? response.text() : undefined;
      });
      const addresses = text.split('\n').filter((line) => line !== '');
      expect(new Set(addresses), `shard ${replica.shard}`).toEqual(new Set(own.map((host) => ADDRESS.get(host)!)));
      listed.push(...addresses);
      // A host of another shard is not this replica's to list, and the answer says why.
      const foreign = HOSTS.find((host) => ownerOf(KEYS.get(host)!, 3) !== replica.shard)!;
      const asked = await fetch(`http://${replica.instance}/addresses?host=${foreign}`, { signal: AbortSignal.timeout(5_000) });
      expect(asked.status).toBe(400);
      expect(await asked.text()).toContain(`is not the host of any target of this replica (shard ${replica.shard} of 3: it lists only its shard's targets)`);
    }
    expect(listed.sort()).toEqual([...ADDRESS.values()].sort());
  });

  it('raises EgressExporterTargetsUncovered when a shard loses its only replica, and nothing when one of an HA pair dies', async () => {
    const lost = replicas.find((r) => r.job === 'egress' && r.shard === 1)!;
    const halfOfPair = replicas.find((r) => r.job === 'egress-ha' && r.shard === 1)!;
    for (const replica of [lost, halfOfPair]) replica.daemon.child.kill('SIGKILL');
    const lostTargets = HOSTS.filter((host) => ownerOf(KEYS.get(host)!, 3) === 1).length;

    const firing = await until(
      'EgressExporterTargetsUncovered fires for job egress',
      20_000,
      async () => {
        const alerts = (await prom.alerts('EgressExporterTargetsUncovered')).filter((a) => a.state === 'firing');
        return alerts.length > 0 ? alerts : undefined;
      },
      seen,
    );
    expect(firing.map((a) => a.labels)).toEqual([{ alertname: 'EgressExporterTargetsUncovered', job: 'egress', severity: 'critical' }]);
    expect(firing[0]!.annotations.description).toBe(
      `The live replicas of job egress own ${HOSTS.length - lostTargets} of the ${HOSTS.length} configured targets, on 2 of 3 shards: the targets of a shard with no live replica are not probed.`,
    );
    // The HA job lost one replica of shard 1 and still covers every target, once per shard.
    expect((await probers(prom)).get('egress-ha')?.size).toBe(HOSTS.length);
    expect((await prom.alerts('EgressExporterTargetsUncovered')).filter((a) => a.labels.job !== 'egress')).toEqual([]);
    expect(await prom.alerts('EgressExporterShardingMismatch')).toEqual([]);
  }, 30_000);
});
