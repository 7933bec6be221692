// npm run bench: the exporter side by side with blackbox_exporter, on loopback only.
// It starts everything itself (a DNS server and a TLS + HTTP/2 origin, each in its own
// process; the exporter as a child process on its own schedule; blackbox_exporter), measures
// each from outside (/proc, /metrics, /-/healthy) over whole intervals, prints a table,
// and stops everything it started, also on an error or Ctrl-C. Prints numbers; asserts nothing.
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatDuration } from '../src/config/duration.js';
import { BLACKBOX, blackboxVersion, ensureBlackbox, runBlackbox } from './blackbox-run.js';
import { topSelfTime } from './cpu-profile.js';
import type { DnsChildReady } from './dns-child.js';
import { effectiveConfig, exporterConfig, runExporter, takesTlsRequirements } from './exporter-run.js';
import type { BenchServers } from './bench-servers.js';
import { UsageError } from '../src/commands/flags.js';
import { NODE_FLAGS } from '../src/node-flags.js';
import { parseBenchFlags, USAGE } from './flags.js';
import type { BenchFlags } from './flags.js';
import { linkChild } from './ipc.js';
import { quietHostNames } from './names.js';
import type { OriginChildReady } from './origin-child.js';
import { machineDescription } from './proc-stats.js';
import { forkModule, stopAll, stopAllOnExit } from './processes.js';
import { renderProfile, renderTable } from './report.js';
import type { ScenarioResult } from './report.js';
import { runShards } from './shard-run.js';

const REPO = resolve(import.meta.dirname, '..');
// The reachability checks: dns, tcp, and http (whose own handshake is the one TLS handshake),
// against blackbox's dns + tcp_tls + http2 (two handshakes); no TLS requirement probes.
const REACHABILITY_CHECKS = ['dns', 'tcp', 'http'];
/** The quiet targets measured alone: a short interval, enough rounds for a p95. */
const ALONE_INTERVAL_MS = 5000;

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** The longest the whole bench may take, from its flags (then it stops everything and fails). */
function timeBoundMs(f: BenchFlags, aloneIntervals: number): number {
  // A run: its warm-up (an interval, or the first rounds at about 20 ms of CPU a target), the window, a minute.
  const firstRounds = Math.max(...f.hosts) * 20;
  const run = (intervals: number): number => (1 + intervals) * f.intervalMs + firstRounds + 60_000;
  const perScenario = run(f.intervals) + 2 * f.intervalMs + (f.shards === undefined ? 0 : run(f.intervals)) + (f.reachability ? run(f.intervals) : 0) + (f.blackbox ? run(f.intervals) : 0) + (f.memory ? 5 * 60_000 : 0);
  return 5 * 60_000 + run(aloneIntervals) + f.hosts.length * perScenario;
}

async function main(): Promise<number> {
  let flags: BenchFlags;
  try {
    flags = parseBenchFlags(process.argv.slice(2), REPO);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  stopAllOnExit();
  const aloneIntervals = Math.min(12, Math.max(4, Math.ceil(50 / flags.quiet)));
  const boundMs = timeBoundMs(flags, aloneIntervals);
  const watchdog = setTimeout(() => {
    log(`bench: still running after ${formatDuration(boundMs)}, its bound for these flags: stopping everything`);
    void stopAll().finally(() => process.exit(1));
  }, boundMs);

  const machine = machineDescription();
  const loadAtStart = machine.load;
  log(`egress-exporter bench: node ${process.version}, ${machine.cores} cores (${machine.cpuModel}), load ${machine.load}; loopback only`);
  log(`scenarios: ${flags.hosts.join(', ')} hosts; interval ${formatDuration(flags.intervalMs)}, ${flags.intervals} measured after 1 of warm-up; at most ${formatDuration(boundMs)}`);

  if (flags.build) {
    log(`building ${flags.exporterDir} (npm run build)`);
    const built = spawnSync('npm', ['run', '--silent', 'build'], { cwd: flags.exporterDir, stdio: 'inherit' });
    if (built.status !== 0) throw new Error(`npm run build failed in ${flags.exporterDir}`);
  }
  let blackboxMissing: string | undefined;
  if (flags.blackbox && !ensureBlackbox(REPO)) blackboxMissing = `n/a (${BLACKBOX} could not be installed)`;
  if (!flags.blackbox) blackboxMissing = 'n/a (--no-blackbox)';

  const dir = await mkdtemp(join(tmpdir(), 'egress-bench-'));
  log(`run directory (configs, logs, profiles): ${dir}`);
  const quietHosts = quietHostNames(flags.quiet);
  const maxHosts = Math.max(...flags.hosts);
  const dnsChild = forkModule('dns server', join(import.meta.dirname, 'dns-child.ts'), [String(maxHosts), quietHosts.join(',')], join(dir, 'dns.log'));
  const originChild = forkModule('origin', join(import.meta.dirname, 'origin-child.ts'), [], join(dir, 'origin.log'));
  const dns = await linkChild<DnsChildReady>(dnsChild);
  const origin = await linkChild<OriginChildReady>(originChild);
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, origin.ready.rootCaPem);
  const servers: BenchServers = {
    dir,
    exporterDir: flags.exporterDir,
    dnsPort: dns.ready.dnsPort,
    originPort: origin.ready.port,
    quietPort: dns.ready.quietPort,
    caFile,
    dns,
    origin,
    originPid: originChild.pid,
    listsTlsRequirements: await takesTlsRequirements(flags.exporterDir, dir),
  };
  log(`dns 127.0.0.1:${servers.dnsPort} (pid ${dnsChild.pid}), origin 127.0.0.1:${servers.originPort} (pid ${originChild.pid}), quiet listener 127.0.0.1:${servers.quietPort}`);

  const base = { quietHosts, scrapeSamples: 0, cpuProfile: false, pinger: false, nodeFlags: flags.nodeFlags, log };
  log(`the quiet targets alone: ${quietHosts.length} targets, interval ${formatDuration(ALONE_INTERVAL_MS)}, ${aloneIntervals} intervals`);
  const alone = await runExporter(servers, {
    ...base,
    name: 'alone',
    hosts: 0,
    intervalMs: ALONE_INTERVAL_MS,
    intervals: aloneIntervals,
    scrapeEveryMs: ALONE_INTERVAL_MS / 2,
  });

  const scenarios: ScenarioResult[] = [];
  for (const hosts of flags.hosts) {
    const common = { ...base, hosts, intervalMs: flags.intervalMs, intervals: flags.intervals, scrapeEveryMs: flags.scrapeEveryMs };
    log(`${hosts} hosts: the exporter, default checks`);
    // Under the profiler, no extra scrapes: the profile then shows rounds and 15 s scrapes, as in the window.
    const scrapeSamples = flags.cpuProfile ? 0 : flags.scrapeSamples;
    const full = await runExporter(servers, {
      ...common,
      name: `${hosts}-all`,
      pinger: true,
      scrapeSamples,
      cpuProfile: flags.cpuProfile,
      ...(flags.memory === undefined ? {} : { memory: flags.memory }),
    });

    // The same config split between replicas: what sharding costs beside the single process.
    let sharded: ScenarioResult['sharded'];
    if (flags.shards !== undefined) {
      log(`${hosts} hosts: ${flags.shards} replicas, --shard i --total-shards ${flags.shards}, default checks`);
      sharded = await runShards(servers, { ...common, name: `${hosts}-shards`, shards: flags.shards });
    }

    // The reachability subset runs only when this build makes it differ from the default.
    let reachability: ScenarioResult['reachability'];
    const reachOptions = { ...common, name: `${hosts}-reachability`, checks: REACHABILITY_CHECKS, extraYaml: flags.reachabilityYaml };
    const fullFile = join(dir, `${hosts}-all.yml`);
    const reachFile = join(dir, `${hosts}-reachability.yml`);
    await writeFile(reachFile, exporterConfig(servers, reachOptions));
    if (!flags.reachability) {
      reachability = 'n/a (--no-reachability)';
    } else if ((await effectiveConfig(flags.exporterDir, fullFile)) === (await effectiveConfig(flags.exporterDir, reachFile))) {
      reachability = `n/a: checks [${REACHABILITY_CHECKS.join(', ')}] are this build's default set (the tls check runs every requirement)`;
      log(`${hosts} hosts: no reachability-only run (${reachability.slice(5)})`);
    } else {
      log(`${hosts} hosts: the exporter, checks [${REACHABILITY_CHECKS.join(', ')}]${flags.reachabilityYaml === undefined ? '' : ` and ${flags.reachabilityYaml}`}`);
      reachability = await runExporter(servers, reachOptions);
    }

    let blackbox: ScenarioResult['blackbox'] = blackboxMissing ?? '';
    if (blackboxMissing === undefined) {
      log(`${hosts} hosts: ${BLACKBOX} ${blackboxVersion()}, modules dns, tcp_tls, http2`);
      blackbox = await runBlackbox(servers, { hosts, intervalMs: flags.intervalMs, intervals: flags.intervals, log });
    }
    const scenario: ScenarioResult = { hosts, quiet: quietHosts.length, intervals: flags.intervals, full, reachability, blackbox };
    if (sharded !== undefined) scenario.sharded = sharded;
    if (full.profile !== undefined) scenario.profile = await topSelfTime(full.profile, 15, flags.exporterDir);
    scenarios.push(scenario);
  }

  clearTimeout(watchdog);
  const out = [
    '',
    `node ${process.version}, ${machine.cores} cores, ${machine.cpuModel}, ${machine.memTotal}; load average ${loadAtStart} at the start, ${machineDescription().load} at the end`,
    `interval ${formatDuration(flags.intervalMs)}, ${flags.intervals} whole interval(s) measured after one of warm-up (at least, and until every first round is done), scraped every ${formatDuration(flags.scrapeEveryMs)}; concurrency 32; ${quietHosts.length} quiet targets`,
    `exporter's node flags: ${[...NODE_FLAGS, ...flags.nodeFlags].join(' ')}`,
    ...(flags.shards === undefined ? [] : [`sharded run: ${flags.shards} replicas on loopback, each --shard i --total-shards ${flags.shards}, the same config, window and scrape interval as the single process`]),
    '',
    renderTable(scenarios, alone.quietConnects),
    '',
    ...scenarios.map(renderProfile).filter((p) => p !== ''),
    `Configs, logs and profiles: ${dir}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  log(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  await stopAll();
}
process.exit(code);
