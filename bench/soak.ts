// npm run soak [-- --minutes N]: the built daemon against every hostile fixture of the
// fault matrix plus healthy hosts (test/fixtures/hostile-matrix.ts), interval 5 s, for
// N minutes (default 10). It prints the daemon's RSS, heap (after a full GC), open file
// descriptors and active handles at the start and every minute, and fails when one of
// them grows past its bound after the warm-up. Loopback only; needs root for the nft
// rule of the SYN-drop fixture, like the fault matrix.
//
// Flags:
//   --minutes N            how long (default 10)
//   --warmup-seconds S     growth is measured from the end of the warm-up (default 60;
//                          half the run when that is shorter than two minutes)
//   --daemon-env K=V       an environment variable for the daemon (repeatable), e.g.
//                          MALLOC_ARENA_MAX=2, to compare allocators' behaviour
//   --node-flag F          a node flag for the daemon (repeatable), e.g. --max-semi-space-size=4
//   --heap-snapshots DIR   write a heap snapshot of the daemon at the end of the warm-up and
//                          at the end, to compare what a growing heap holds
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '../src/commands/flags.js';
import { NODE_FLAGS } from '../src/node-flags.js';
import { startHostileMatrix } from '../test/fixtures/hostile-matrix.js';

/** What may grow after the warm-up before the soak fails. */
export const BOUNDS = {
  rssBytes: 32 * 2 ** 20,
  heapBytes: 8 * 2 ** 20,
  fds: 8,
  handles: 8,
} as const;

const SAMPLE_EVERY_MS = 5000;
const PROBE = fileURLToPath(new URL('./soak-probe.mjs', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

interface Sample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  fds: number;
  handles: number;
  resources: Record<string, number>;
  status: Record<string, number>;
}

const values = parseCommandLine(process.argv.slice(2), {
  minutes: { type: 'string', default: '10' },
  'warmup-seconds': { type: 'string' },
  'daemon-env': { type: 'string', multiple: true, default: [] },
  'node-flag': { type: 'string', multiple: true, default: [] },
  'heap-snapshots': { type: 'string' },
});
const minutes = Number(values.minutes);
if (!Number.isFinite(minutes) || minutes <= 0) throw new Error(`--minutes: expected a positive number, got ${values.minutes}`);
const durationMs = minutes * 60_000;
const warmupMs = values['warmup-seconds'] !== undefined ? Number(values['warmup-seconds']) * 1000 : Math.min(60_000, durationMs / 2);
const daemonEnv: Record<string, string> = {};
for (const pair of values['daemon-env']) {
  const at = pair.indexOf('=');
  if (at <= 0) throw new Error(`--daemon-env: expected KEY=VALUE, got ${pair}`);
  daemonEnv[pair.slice(0, at)] = pair.slice(at + 1);
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

/** Rounds finished, and the checks they ran: a round runs each of its target's checks once. */
function checksRun(exposition: string): { rounds: number; checks: number } {
  const target = (line: string) => `${/[{,]host="([^"]*)"/.exec(line)?.[1]}:${/[{,]port="([^"]*)"/.exec(line)?.[1]}`;
  const rounds = new Map<string, number>();
  for (const line of exposition.split('\n')) if (line.startsWith('egress_exporter_rounds_total{')) rounds.set(target(line), Number(line.split(' ').at(-1)));
  let checks = 0;
  for (const line of exposition.split('\n')) if (line.startsWith('egress_probe_success{')) checks += rounds.get(target(line)) ?? 0;
  return { rounds: [...rounds.values()].reduce((a, b) => a + b, 0), checks };
}

const matrix = await startHostileMatrix();
const configFile = join(matrix.dir, 'egress.yml');
await writeFile(configFile, matrix.yaml({ interval: '5s' }));
const child = spawn(
  process.execPath,
  ['--expose-gc', '--import', PROBE, ...NODE_FLAGS, ...values['node-flag'], CLI, `--config.file=${configFile}`, '--web.listen-address=127.0.0.1:0', '--log.level=info'],
  { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, ...daemonEnv } },
);
let logs = '';
let port: string | undefined;
let listening: () => void = () => {};
const listened = new Promise<void>((resolve) => (listening = resolve));
child.stderr?.on('data', (chunk: Buffer) => {
  logs = (logs + chunk.toString()).slice(-20_000);
  port ??= /"address":"[^"]*:(\d+)"/.exec(logs)?.[1];
  if (port !== undefined) listening();
});
const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

function snapshot(name: string): Promise<void> {
  const dir = values['heap-snapshots'];
  if (dir === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('message', (message) => {
      console.log(`heap snapshot: ${(message as { snapshot: string }).snapshot}`);
      resolve();
    });
    child.send({ snapshot: join(dir, `${name}.heapsnapshot`) });
  });
}

function sample(gc: boolean): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the daemon did not answer a sample within 10 s')), 10_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(message as Sample);
    });
    child.send(gc ? 'sample-gc' : 'sample');
  });
}

interface Minute {
  at: number;
  rss: number;
  heap: number;
  heapTotal: number;
  external: number;
  /** Lowest of the minute's samples: in-flight checks come and go, a leak stays. */
  fds: number;
  handles: number;
  resources: Record<string, number>;
  rssAnon: number;
}

const minutesSeen: Minute[] = [];
const started = Date.now();
const row = (m: Minute, label: string): void => {
  const top = Object.entries(m.resources)
    .sort(([, a], [, b]) => b - a)
    .slice(0, 4)
    .map(([type, n]) => `${type} ${n}`)
    .join(', ');
  console.log(
    `${label.padEnd(9)} rss ${mib(m.rss).padStart(6)} MiB (anon ${mib(m.rssAnon).padStart(6)})  heap ${mib(m.heap).padStart(5)} MiB of ${mib(m.heapTotal).padStart(5)}  external ${mib(m.external).padStart(5)} MiB  fds ${String(m.fds).padStart(4)}  handles ${String(m.handles).padStart(4)}  (${top})`,
  );
};

let failed: string | undefined;
try {
  await Promise.race([listened, exited.then(() => Promise.reject(new Error(`the daemon exited before listening:\n${logs}`)))]);
  console.log(`soak: ${matrix.targets.length} targets x ${matrix.paths.length} paths, interval 5 s, timeout ${matrix.timeoutSeconds} s, ${minutes} min, warm-up ${warmupMs / 1000} s`);
  const first = await sample(true);
  const firstRow: Minute = { at: 0, rss: first.rss, heap: first.heapUsed, heapTotal: first.heapTotal, external: first.external, fds: first.fds, handles: first.handles, resources: first.resources, rssAnon: first.status.RssAnon ?? 0 };
  row(firstRow, 'start');
  // Minute marks, plus the end of the warm-up: the baseline, whose fds and handles are the
  // lowest of its second half (the first rounds are still ramping up before that).
  const marks = [...new Set([warmupMs / 2, warmupMs, ...Array.from({ length: Math.floor(durationMs / 60_000) }, (_, i) => (i + 1) * 60_000), durationMs])].filter((t) => t <= durationMs).sort((a, b) => a - b);
  let lows = { fds: Infinity, handles: Infinity };
  for (const mark of marks) {
    while (Date.now() - started < mark - SAMPLE_EVERY_MS) {
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
      if (child.exitCode !== null) throw new Error(`the daemon exited (${child.exitCode}):\n${logs}`);
      const s = await sample(false);
      lows = { fds: Math.min(lows.fds, s.fds), handles: Math.min(lows.handles, s.handles) };
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, mark - (Date.now() - started))));
    const s = await sample(true);
    const m: Minute = {
      at: mark,
      rss: s.rss,
      heap: s.heapUsed,
      heapTotal: s.heapTotal,
      external: s.external,
      fds: Math.min(lows.fds, s.fds),
      handles: Math.min(lows.handles, s.handles),
      resources: s.resources,
      rssAnon: s.status.RssAnon ?? 0,
    };
    lows = { fds: Infinity, handles: Infinity };
    minutesSeen.push(m);
    row(m, mark % 60_000 !== 0 ? `${mark / 1000} s` : `${Math.round(mark / 60_000)} min`);
    if (mark === warmupMs) await snapshot('warm');
    if (mark === durationMs) await snapshot('end');
  }
  const baseline = minutesSeen.find((m) => m.at === warmupMs)!;
  const later = minutesSeen.filter((m) => m.at > baseline.at);
  const grew = (pick: (m: Minute) => number) => Math.max(0, ...later.map((m) => pick(m) - pick(baseline)));
  const growth = { rssBytes: grew((m) => m.rss), heapBytes: grew((m) => m.heap), fds: grew((m) => m.fds), handles: grew((m) => m.handles) };
  console.log(
    `growth after warm-up: rss +${mib(growth.rssBytes)} MiB (bound ${mib(BOUNDS.rssBytes)}), heap +${mib(growth.heapBytes)} MiB (bound ${mib(BOUNDS.heapBytes)}), ` +
      `fds +${growth.fds} (bound ${BOUNDS.fds}), handles +${growth.handles} (bound ${BOUNDS.handles})`,
  );
  if (port !== undefined) {
    const checks = checksRun(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    console.log(`rounds finished: ${checks.rounds}, checks run: ${checks.checks}`);
  }
  const over = (Object.keys(BOUNDS) as Array<keyof typeof BOUNDS>).filter((k) => growth[k] > BOUNDS[k]);
  if (later.length === 0) failed = 'no sample after the warm-up: make the run longer than the warm-up';
  else if (over.length > 0) failed = `grew past its bound: ${over.join(', ')}`;
} catch (error) {
  failed = error instanceof Error ? error.message : String(error);
} finally {
  child.kill('SIGTERM');
  const exit = await exited;
  if (failed === undefined && (exit.code !== 0 || exit.signal !== null)) failed = `the daemon exited with ${JSON.stringify(exit)} on SIGTERM`;
  if (/this is a bug|MaxListenersExceededWarning/.test(logs)) failed ??= `the daemon logged a bug:\n${logs}`;
  await matrix.close();
}
console.log(failed === undefined ? 'soak: OK' : `soak: FAILED: ${failed}`);
process.exit(failed === undefined ? 0 : 1);
