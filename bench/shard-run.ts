// The sharded run: N replicas of the exporter on the same config, each with
// `--shard i --total-shards N` and its own port, against the same DNS server and origin,
// measured over the same window rules as the single run (window.ts). Together they must
// do what the single process does: every target owned once, every round done once.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NODE_FLAGS } from '../src/node-flags.js';
import { exporterConfig } from './exporter-run.js';
import type { BenchServers } from './bench-servers.js';
import type { ExporterRunOptions } from './exporter-run.js';
import { ExporterProcess } from './exporter-process.js';
import type { ProcessWindow } from './exporter-process.js';
import { measureWindow } from './window.js';
import type { SharedWindow } from './window.js';

export type ShardRunOptions = Pick<ExporterRunOptions, 'name' | 'hosts' | 'quietHosts' | 'intervalMs' | 'intervals' | 'scrapeEveryMs' | 'nodeFlags' | 'log'> & {
  shards: number;
};

export interface ShardRunResult extends SharedWindow {
  shards: number;
  /** One per replica, in shard order. */
  replicas: ProcessWindow[];
}

export async function runShards(servers: BenchServers, o: ShardRunOptions): Promise<ShardRunResult> {
  const configFile = join(servers.dir, `${o.name}.yml`);
  await writeFile(configFile, exporterConfig(servers, o));
  const replicas: ExporterProcess[] = [];
  try {
    // Started side by side, as a StatefulSet's pods would be: the schedule of the last one to serve is the window's.
    const started = await Promise.allSettled(
      Array.from({ length: o.shards }, (_, i) =>
        ExporterProcess.start({
          name: `${o.name}-${i}-of-${o.shards}`,
          dir: servers.dir,
          exporterDir: servers.exporterDir,
          configFile,
          nodeFlags: [...NODE_FLAGS, ...(o.nodeFlags ?? [])],
          args: ['--shard', String(i), '--total-shards', String(o.shards)],
          quietHosts: o.quietHosts,
          scrapeEveryMs: o.scrapeEveryMs,
        }),
      ),
    );
    for (const s of started) if (s.status === 'fulfilled') replicas.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const { shared, processes } = await measureWindow(servers, replicas, o);
    return { ...shared, shards: o.shards, replicas: processes };
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
  }
}

/** The replicas added up, as the table shows them beside the single process. */
export interface ShardTotals {
  cpuSeconds: number;
  /** Summed VmHWM, and the largest replica's. */
  peakRssSumBytes: number;
  peakRssMaxBytes: number;
  /** Summed rounds in the window; undefined when a replica does not export them. */
  rounds: number | undefined;
  /** Summed egress_exporter_targets_owned; undefined when a replica does not export it. */
  owned: number | undefined;
  /** Each replica's owned targets, in shard order (`?` when not exported). */
  ownedEach: string[];
  /** Why the replicas do not cover the targets exactly once; undefined when they do. */
  mismatch: string | undefined;
}

/** `targets`: the config's targets (hosts and quiet ones), every one of which one replica must own. */
export function shardTotals(run: Pick<ShardRunResult, 'replicas'>, targets: number): ShardTotals {
  const sum = (values: Array<number | undefined>): number | undefined => (values.some((v) => v === undefined) ? undefined : values.reduce<number>((a, v) => a + (v ?? 0), 0));
  const owned = sum(run.replicas.map((r) => r.targetsOwned));
  const problems: string[] = [];
  if (owned === undefined) problems.push(`a replica does not export egress_exporter_targets_owned`);
  else if (owned !== targets) problems.push(`the replicas own ${owned} targets together, the config has ${targets}`);
  const configured = run.replicas.map((r) => r.targetsConfigured).filter((c) => c !== undefined && c !== targets);
  if (configured.length > 0) problems.push(`a replica counts ${configured[0]} configured targets, not ${targets}`);
  return {
    cpuSeconds: run.replicas.reduce((a, r) => a + r.cpuSeconds, 0),
    peakRssSumBytes: run.replicas.reduce((a, r) => a + r.peakRssBytes, 0),
    peakRssMaxBytes: Math.max(...run.replicas.map((r) => r.peakRssBytes)),
    rounds: sum(run.replicas.map((r) => r.rounds)),
    owned,
    ownedEach: run.replicas.map((r) => (r.targetsOwned === undefined ? '?' : String(r.targetsOwned))),
    mismatch: problems.length === 0 ? undefined : problems.join('; '),
  };
}
