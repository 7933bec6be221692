// Debian's prometheus-blackbox-exporter over the same hosts, with its closest modules
// (dns against the bench DNS server, tcp with TLS, http with HTTP/2; the bench CA),
// driven from the bench as Prometheus would: each host once per interval per module,
// spread evenly over the interval. Measured like the exporter: /proc, whole intervals.
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { Agent, get } from 'node:http';
import { join } from 'node:path';
import { formatDuration } from '../src/config/duration.js';
import { freePort, sleepUntil, waitUntilServing } from './clock.js';
import type { DnsChildTotals } from './dns-child.js';
import type { BenchServers } from './bench-servers.js';
import { benchHostName } from './names.js';
import type { OriginChildTotals } from './origin-child.js';
import { cpuSeconds, machineBusyCores, machineTicks, memory } from './proc-stats.js';
import { spawnLogged, withoutProxyEnv } from './processes.js';

export const BLACKBOX = 'prometheus-blackbox-exporter';

/** Installs Debian's blackbox exporter when it is missing (scripts/ensure-tools.mjs says so); false when it cannot. */
export function ensureBlackbox(exporterDir: string): boolean {
  const result = spawnSync(process.execPath, [join(exporterDir, 'scripts/ensure-tools.mjs'), '--bench'], { stdio: 'inherit' });
  return result.status === 0;
}

export function blackboxVersion(): string {
  const out = spawnSync(BLACKBOX, ['--version'], { encoding: 'utf8' });
  return /version (\S+)/.exec(`${out.stdout}${out.stderr}`)?.[1] ?? 'unknown';
}

/** The SNI and name the TLS and HTTP modules verify (the origin's leaf holds *.bench.test). */
const SERVER_NAME = 'origin.bench.test';
export const BLACKBOX_MODULES = ['dns', 'tcp_tls', 'http2'] as const;

function blackboxConfig(servers: BenchServers, hosts: number): string {
  const tls = `      tls_config:\n        ca_file: ${JSON.stringify(servers.caFile)}\n        server_name: ${SERVER_NAME}`;
  const ip = '      preferred_ip_protocol: ip4\n      ip_protocol_fallback: false';
  const lines = [
    '# Written by npm run bench.',
    'modules:',
    '  tcp_tls:',
    '    prober: tcp',
    '    timeout: 5s',
    '    tcp:',
    ip,
    '      tls: true',
    tls,
    '  http2:',
    '    prober: http',
    '    timeout: 5s',
    '    http:',
    ip,
    '      valid_http_versions: ["HTTP/2.0"]',
    '      enable_http2: true',
    tls,
  ];
  // The dns prober asks the target (a DNS server) for the module's query_name: one module a host.
  for (let i = 0; i < hosts; i += 1) {
    lines.push(`  dns_${i}:`, '    prober: dns', '    timeout: 5s', '    dns:', ip, '      transport_protocol: udp', `      query_name: ${benchHostName(i)}`, '      query_type: A', '      valid_rcodes: [NOERROR]');
  }
  return `${lines.join('\n')}\n`;
}

export interface BlackboxRunResult {
  windowSeconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
  probes: number;
  /** Probes that did not report probe_success 1, by module. */
  failures: Record<string, number>;
  origin: OriginChildTotals;
  /** CPU seconds the origin process used in the window. */
  originCpuSeconds: number;
  /** Cores' worth of CPU the whole machine used in the window: everything, other sessions' work included. */
  machineBusyCores: number;
  dnsQueries: number;
}

export async function runBlackbox(
  servers: BenchServers,
  o: { hosts: number; intervalMs: number; intervals: number; log: (line: string) => void },
): Promise<BlackboxRunResult> {
  const configFile = join(servers.dir, `blackbox-${o.hosts}.yml`);
  await writeFile(configFile, blackboxConfig(servers, o.hosts));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const blackbox = spawnLogged(
    `blackbox (${o.hosts})`,
    BLACKBOX,
    ['--config.file', configFile, '--web.listen-address', `127.0.0.1:${port}`, '--log.level', 'warn'],
    join(servers.dir, `blackbox-${o.hosts}.log`),
    withoutProxyEnv(),
  );
  let exitedHow: string | undefined;
  void blackbox.exited.then((how) => (exitedHow = how));
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  try {
    await waitUntilServing(`${base}/-/healthy`, 30_000, () => (exitedHow === undefined ? undefined : `blackbox ended (${exitedHow})`));
    const targets: Array<{ module: string; kind: string; target: string }> = [];
    for (let i = 0; i < o.hosts; i += 1) {
      targets.push({ module: `dns_${i}`, kind: 'dns', target: `127.0.0.1:${servers.dnsPort}` });
      targets.push({ module: 'tcp_tls', kind: 'tcp_tls', target: `127.0.0.1:${servers.originPort}` });
      targets.push({ module: 'http2', kind: 'http2', target: `https://127.0.0.1:${servers.originPort}/` });
    }
    const failures: Record<string, number> = Object.fromEntries(BLACKBOX_MODULES.map((m) => [m, 0]));
    let counting = false;
    let probes = 0;
    const inflight = new Set<Promise<void>>();
    const probe = (t: (typeof targets)[number]): Promise<void> =>
      new Promise((resolve) => {
        const url = `${base}/probe?module=${encodeURIComponent(t.module)}&target=${encodeURIComponent(t.target)}`;
        const counted = counting;
        if (counted) probes += 1;
        const fail = (): void => {
          if (counted) failures[t.kind] = (failures[t.kind] ?? 0) + 1;
          resolve();
        };
        const request = get(url, { agent, timeout: 10_000 }, (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.once('error', fail);
          response.once('end', () => (/^probe_success 1$/m.test(body) ? resolve() : fail()));
        });
        request.once('timeout', () => request.destroy(new Error('timeout')));
        request.once('error', fail);
      });

    // Probe k of each interval goes at k/n of it: every host once per interval per module.
    const start = Date.now();
    const windowStart = start + o.intervalMs;
    const windowEnd = windowStart + o.intervals * o.intervalMs;
    const gapMs = o.intervalMs / targets.length;
    let cpuStart = 0;
    let originCpuStart = 0;
    let machineStart = machineTicks();
    let clockStart = 0n;
    let originStart: OriginChildTotals | undefined;
    let dnsStart: DnsChildTotals | undefined;
    for (let k = 0; ; k += 1) {
      const at = start + k * gapMs;
      if (at >= windowEnd) break;
      if (!counting && at >= windowStart) {
        await sleepUntil(windowStart);
        cpuStart = cpuSeconds(blackbox.pid);
        originCpuStart = cpuSeconds(servers.originPid);
        machineStart = machineTicks();
        clockStart = process.hrtime.bigint();
        originStart = await servers.origin.ask<OriginChildTotals>('totals');
        dnsStart = await servers.dns.ask<DnsChildTotals>('totals');
        counting = true;
        o.log(`  blackbox ${o.hosts}: measuring ${o.intervals} whole interval(s) of ${formatDuration(o.intervalMs)}`);
      }
      await sleepUntil(at);
      if (exitedHow !== undefined) throw new Error(`blackbox ended (${exitedHow}); see its log in ${servers.dir}`);
      const work = probe(targets[k % targets.length]!);
      inflight.add(work);
      void work.then(() => inflight.delete(work));
    }
    await sleepUntil(windowEnd);
    const cpuEnd = cpuSeconds(blackbox.pid);
    const originCpuEnd = cpuSeconds(servers.originPid);
    const machineBusy = machineBusyCores(machineStart, machineTicks());
    const windowSeconds = Number(process.hrtime.bigint() - clockStart) / 1e9;
    const { peakRssBytes } = memory(blackbox.pid);
    const originEnd = await servers.origin.ask<OriginChildTotals>('totals');
    const dnsEnd = await servers.dns.ask<DnsChildTotals>('totals');
    await Promise.all(inflight);
    return {
      windowSeconds,
      cpuSeconds: cpuEnd - cpuStart,
      peakRssBytes,
      probes,
      failures,
      origin: {
        accepted: originEnd.accepted - (originStart?.accepted ?? 0),
        handshakes: originEnd.handshakes - (originStart?.handshakes ?? 0),
        requests: originEnd.requests - (originStart?.requests ?? 0),
      },
      originCpuSeconds: originCpuEnd - originCpuStart,
      machineBusyCores: machineBusy,
      dnsQueries: dnsEnd.queries - (dnsStart?.queries ?? 0),
    };
  } finally {
    agent.destroy();
    await blackbox.stop();
  }
}
