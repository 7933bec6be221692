// A real Prometheus (and Alertmanager) for end-to-end tests: start a Debian daemon on a
// loopback port and wait for it, ask Prometheus's HTTP API, and wait for a condition with
// a failure message that says what was seen last. Shared by test/e2e-prometheus.test.ts
// and test/e2e-probe.test.ts.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ALERTS_CONFIG, runNode } from './monitoring-queries.js';
import type { Server as NetServer } from 'node:net';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Fails (never skips) when a Debian tool is missing, naming the package. */
export function requireTool(command: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0) return;
  throw new Error(`${command} is not installed: the end-to-end test needs the Debian package \`${pkg}\` (apt-get install -y --no-install-recommends ${pkg}, or node scripts/ensure-tools.mjs)`);
}

/** `n` distinct free ports on 127.0.0.1: each bound at once, then all released. */
export async function freePorts(n: number): Promise<number[]> {
  const servers: NetServer[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const server = createNetServer();
      servers.push(server);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            if (address === null || typeof address === 'string') reject(new Error('no port'));
            else resolve(address.port);
          });
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/**
 * Calls `attempt` until it returns something other than undefined, or fails after
 * `timeoutMs` with `what`, the last error and `state()` (what was seen last).
 */
export async function until<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>, state: () => string = () => '', intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const error = lastError === undefined ? '' : `\nlast error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`;
      const seen = state();
      throw new Error(`${what}: not within ${timeoutMs} ms${error}${seen === '' ? '' : `\nlast seen: ${seen}`}`);
    }
    await sleep(intervalMs);
  }
}

/** The environment without proxy variables: Prometheus and Alertmanager talk to 127.0.0.1 only. */
export function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/_proxy$/i.test(key)) env[key] = value;
  return env;
}

// --- Prometheus and Alertmanager processes ------------------------------------------

export interface Daemon {
  name: string;
  child: ChildProcess;
  /** The last 64 KiB of its stdout and stderr. */
  logs: () => string;
  /** SIGTERM, then SIGKILL after 8 s; resolves once it exited (or 2 s after the SIGKILL). */
  stop: () => Promise<void>;
}

export function startDaemon(name: string, command: string, args: readonly string[], cwd: string): Daemon {
  const child = spawn(command, [...args], { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (chunk: Buffer | string) => {
    log = (log + chunk.toString()).slice(-64 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (err) => {
      keep(`spawn failed: ${err.message}\n`);
      resolve();
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null && child.pid !== undefined;
  return {
    name,
    child,
    logs: () => log,
    stop: async () => {
      if (!running()) return;
      child.kill('SIGTERM');
      if (await Promise.race([exited.then(() => true), sleep(8_000).then(() => false)])) return;
      child.kill('SIGKILL');
      await Promise.race([exited, sleep(2_000)]);
    },
  };
}

/** Waits for `url` to answer 200; fails early, with the daemon's logs, when it exits. */
export async function waitReady(daemon: Daemon, url: string, timeoutMs = 20_000): Promise<void> {
  await until(
    `${daemon.name} ready at ${url}`,
    timeoutMs,
    async () => {
      if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) {
        throw new Error(`${daemon.name} exited (${daemon.child.exitCode ?? daemon.child.signalCode}):\n${daemon.logs()}`);
      }
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      return response.ok ? true : undefined;
    },
    () => daemon.logs().slice(-4_000),
  );
}

// --- Prometheus's HTTP API ---------------------------------------------------------------

export interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface QueryOutcome {
  status: string;
  error?: string;
  resultType?: string;
  result: VectorSample[];
}

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  activeAt: string;
  value: string;
}

export interface PromRule {
  name: string;
  type: string;
  health: string;
  lastError?: string;
  lastEvaluation: string;
}

export class PrometheusApi {
  constructor(readonly url: string) {}

  private async get<T>(path: string): Promise<{ status: string; data?: T; errorType?: string; error?: string }> {
    const response = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(5_000) });
    return (await response.json()) as { status: string; data?: T; errorType?: string; error?: string };
  }

  private async data<T>(path: string): Promise<T> {
    const body = await this.get<T>(path);
    if (body.status !== 'success' || body.data === undefined) throw new Error(`${path}: ${body.status}: ${body.errorType ?? ''} ${body.error ?? ''}`);
    return body.data;
  }

  /** An instant query at the latest evaluation time; never throws on a PromQL error. */
  async query(expr: string): Promise<QueryOutcome> {
    const body = await this.get<{ resultType: string; result: VectorSample[] | [number, string] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
    if (body.status !== 'success' || body.data === undefined) return { status: body.status, error: `${body.errorType ?? ''}: ${body.error ?? ''}`, result: [] };
    const { resultType, result } = body.data;
    // A scalar becomes one sample without labels, so every outcome reads the same way.
    const samples = resultType === 'scalar' ? [{ metric: {}, value: result as [number, string] }] : (result as VectorSample[]);
    return { status: body.status, resultType, result: samples };
  }

  async alerts(): Promise<PromAlert[]> {
    return (await this.data<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts;
  }

  async alertingRules(): Promise<PromRule[]> {
    const data = await this.data<{ groups: Array<{ rules: PromRule[] }> }>('/api/v1/rules?type=alert');
    return data.groups.flatMap((g) => g.rules);
  }

  async metricNames(): Promise<string[]> {
    return this.data<string[]>('/api/v1/label/__name__/values');
  }

  async targets(): Promise<Array<{ labels: Record<string, string>; health: string; lastError: string }>> {
    return (await this.data<{ activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }> }>('/api/v1/targets')).activeTargets;
  }

  async alertmanagers(): Promise<string[]> {
    return (await this.data<{ activeAlertmanagers: Array<{ url: string }> }>('/api/v1/alertmanagers')).activeAlertmanagers.map((a) => a.url);
  }
}

/** Series that carry a number: NaN and ±Inf (a quantile of nothing) count as no data. */
export const withData = (outcome: QueryOutcome) => outcome.result.filter((s) => Number.isFinite(Number(s.value[1])));

export const describeAlert = (a: { labels: Record<string, string>; state?: string }) => {
  const { alertname, ...rest } = a.labels;
  return `${alertname ?? '?'}${a.state === undefined ? '' : ` (${a.state})`} ${JSON.stringify(rest)}`;
};

/**
 * The shipped rules for an end-to-end test, written to `dir`: every `for:` shortened to
 * `forDuration`, and the exporter's own stall alert raised to 5 s. The exporter under test
 * runs in the test's own process, whose thread also spawns promtool and reads Prometheus'
 * answers while vitest's other workers load the machine: a 0.2 s stall there says more about
 * the harness than about the exporter (alerts/tests/exporter.yml judges that alert).
 */
export async function generateTestRules(dir: string, forDuration: string): Promise<string> {
  const config = parse(await readFile(ALERTS_CONFIG, 'utf8')) as { alerts: Record<string, Record<string, unknown>> };
  const stall = config.alerts.EgressExporterEventLoopLagHigh;
  if (stall === undefined) throw new Error(`${ALERTS_CONFIG}: no EgressExporterEventLoopLagHigh`);
  stall.threshold_seconds = 5;
  const configFile = join(dir, 'alerts-config.yml');
  await writeFile(configFile, stringify(config));
  const rulesFile = join(dir, 'egress-rules.yml');
  const generated = await runNode(['alerts/generate.ts', '--config', configFile, '--for', forDuration, '--out', rulesFile]);
  if (generated.code !== 0) throw new Error(`alerts/generate.ts failed: ${generated.stderr}`);
  return rulesFile;
}
