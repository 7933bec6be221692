// /probe with a real Prometheus (Debian's `prometheus`), configured with the README's own
// scrape config ("/probe with Prometheus": a /metrics job, and a /probe job with
// blackbox_exporter's __param_target relabelling), its addresses swapped for this lab's,
// and the shipped alert rules (alerts/generate.ts, every `for:` 2s). Two targets:
//
//   good  127.0.0.1:PORT of an origin whose certificate names a host only, probed with
//         server_name, its body checked (expect_body)
//   bad   127.0.0.1:PORT where nothing listens: tcp refused
//
// Prometheus must show probe_success per target with `instance` = the target (1 and 0),
// the README's /metrics expression must give the same verdicts, and the fault, seen by
// both jobs, must raise one EgressHostUnreachable, not two.
//
// Network: the exporter, the origin and Prometheus listen on 127.0.0.1, on ports picked
// free at start; Prometheus is given loopback targets only.
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { NAME_ONLY, startHealthOrigin } from './fixtures/health-origin.js';
import type { HealthOrigin } from './fixtures/health-origin.js';
import { refusedPort } from './fixtures/tls-servers.js';
import { memoryLogger, startTestExporter, tempDir, writeTestCa } from './helpers/exporter.js';
import type { TestExporter } from './helpers/exporter.js';
import { ALERTS_CONFIG } from './helpers/monitoring-queries.js';
import { PrometheusApi, describeAlert, freePorts, generateTestRules, requireTool, sleep, startDaemon, until, waitReady } from './helpers/prometheus.js';
import type { Daemon, PromAlert } from './helpers/prometheus.js';
import { PROBE_SECTION, readmeBlock } from './helpers/readme.js';

/** What the README's scrape config names the exporter; the test puts its own address there. */
const README_EXPORTER = 'egress-exporter:9739';

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  scrape_interval?: string;
  scrape_timeout?: string;
  static_configs: Array<{ targets: string[] }>;
  relabel_configs?: Array<Record<string, unknown>>;
}

describe('/probe scraped by a real Prometheus with the README config, beside /metrics', () => {
  let origin: HealthOrigin | undefined;
  let exporter: TestExporter | undefined;
  let prometheus: Daemon | undefined;
  let dir: string;
  let prom: PrometheusApi;
  let instance: string;
  let good: string;
  let bad: string;
  let badPort: number;
  let metricsJob: ScrapeConfig;
  let probeJob: ScrapeConfig;
  let rulesFile: string;
  let promReadyAt: number;
  const log = memoryLogger('warn');
  const context = () => `exporter log:\n${log.tail(20)}\nprometheus log:\n${prometheus?.logs().slice(-3_000) ?? ''}`;

  beforeAll(async () => {
    requireTool('prometheus', 'prometheus');
    dir = await tempDir('egress-e2e-probe-');
    await writeTestCa(dir);
    origin = await startHealthOrigin('h2');
    badPort = await refusedPort();
    good = `127.0.0.1:${origin.port}`;
    bad = `127.0.0.1:${badPort}`;
    exporter = await startTestExporter(
      `catalog: none
interval: 1s
timeout: 800ms
proxy: none
tls: { ca_file: ca.pem }
targets:
  - { host: 127.0.0.1, port: ${origin.port}, server_name: ${NAME_ONLY}, checks: [tcp, tls, http], http: { path: /health, expect_body: '"status":"UP"' } }
  - { host: 127.0.0.1, port: ${badPort}, checks: [tcp, tls, http] }
`,
      { dir, logger: log.logger },
    );
    instance = new URL(exporter.base).host;

    rulesFile = await generateTestRules(dir, '2s');

    // The README's scrape config, as written, then this lab's addresses.
    const shipped = parse(readmeBlock(PROBE_SECTION, 'yaml')) as { scrape_configs: ScrapeConfig[] };
    expect(shipped.scrape_configs).toHaveLength(2);
    metricsJob = shipped.scrape_configs.find((job) => job.metrics_path === undefined)!;
    probeJob = shipped.scrape_configs.find((job) => job.metrics_path === '/probe')!;
    expect(metricsJob.static_configs).toEqual([{ targets: [README_EXPORTER] }]);
    expect(probeJob.relabel_configs?.at(-1)).toEqual({ target_label: '__address__', replacement: README_EXPORTER });
    metricsJob.static_configs = [{ targets: [instance] }];
    probeJob.static_configs = [{ targets: [good, bad] }];
    probeJob.relabel_configs!.at(-1)!.replacement = instance;
    // Quicker than the README's minute, and long enough for the round's 800 ms.
    probeJob.scrape_interval = '2s';
    probeJob.scrape_timeout = '2s';

    const [promPort] = await freePorts(1);
    await writeFile(
      join(dir, 'prometheus.yml'),
      stringify({ global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' }, rule_files: [rulesFile], scrape_configs: shipped.scrape_configs }),
    );
    prometheus = startDaemon('prometheus', 'prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      `--web.external-url=http://127.0.0.1:${promPort}/`,
    ], dir);
    await waitReady(prometheus, `http://127.0.0.1:${promPort}/-/ready`);
    promReadyAt = Date.now();
    prom = new PrometheusApi(`http://127.0.0.1:${promPort}`);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop().catch(() => {});
    await exporter?.stop().catch(() => {});
    await origin?.close().catch(() => {});
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  /** Each series' value by the label `by`, once `expr` has `n` series. */
  const valuesBy = (expr: string, by: (metric: Record<string, string>) => string, n: number): Promise<Record<string, number>> => {
    let seen = '';
    return until(
      `${n} series of ${expr}`,
      20_000,
      async () => {
        const outcome = await prom.query(expr);
        seen = JSON.stringify(outcome.result);
        if (outcome.status !== 'success') throw new Error(outcome.error);
        if (outcome.result.length !== n) return undefined;
        return Object.fromEntries(outcome.result.map((s) => [by(s.metric), Number(s.value[1])]));
      },
      () => `${seen}\n${context()}`,
    );
  };

  it('scrapes /probe once a target: probe_success and probe_duration_seconds per target, with instance the target', async () => {
    const job = probeJob.job_name;
    expect(await valuesBy(`probe_success{job="${job}"}`, (m) => m.instance ?? '', 2)).toEqual({ [good]: 1, [bad]: 0 });
    const durations = await valuesBy(`probe_duration_seconds{job="${job}"}`, (m) => m.instance ?? '', 2);
    expect(Object.keys(durations).sort()).toEqual([bad, good].sort());
    for (const seconds of Object.values(durations)) expect(seconds).toBeGreaterThan(0);
    // A failing target is data, not a failed scrape.
    expect(await valuesBy(`up{job="${job}"}`, (m) => m.instance ?? '', 2)).toEqual({ [good]: 1, [bad]: 1 });
    const targets = (await prom.targets()).filter((t) => t.labels.job === job);
    expect(targets.map((t) => t.labels.instance).sort()).toEqual([bad, good].sort());
    // The exporter's own job is left to what EgressExporterDown watches; the /probe job is not.
    const alertConfig = parse(readFileSync(ALERTS_CONFIG, 'utf8')) as { exporter_job_regex: string };
    const exporterJob = new RegExp(`^(?:${alertConfig.exporter_job_regex})$`);
    expect([exporterJob.test(metricsJob.job_name), exporterJob.test(job)]).toEqual([true, false]);
  }, 30_000);

  it("gives the same verdict per target from /metrics, with the README's expression", async () => {
    const expr = readmeBlock(PROBE_SECTION, 'promql');
    const fromMetrics = await valuesBy(`(${expr}) and on (job) up{job="${metricsJob.job_name}"}`, (m) => `${m.host ?? ''}:${m.port ?? '443'}`, 2);
    const fromProbe = await valuesBy(`probe_success{job="${probeJob.job_name}"}`, (m) => m.instance ?? '', 2);
    expect(fromMetrics).toEqual(fromProbe);
  }, 30_000);

  it('pages once for a fault that both jobs show: one EgressHostUnreachable, without instance or job', async () => {
    // The fault's series, twice: once a job.
    const copies = await valuesBy(`count by (job) (egress_probe_failure_reason{port="${badPort}", check="tcp", reason="refused"} == 1)`, (m) => m.job ?? '', 2);
    expect(copies).toEqual({ [metricsJob.job_name]: 1, [probeJob.job_name]: 1 });

    // Alerts about targets (with a host label); the exporter's own health (a loaded
    // machine's event-loop lag) is reported, not judged here.
    const aboutTargets = (alerts: PromAlert[]) => alerts.filter((a) => a.labels.host !== undefined);
    let last: PromAlert[] = [];
    await until(
      'EgressHostUnreachable firing',
      30_000,
      async () => {
        last = await prom.alerts();
        return last.some((a) => a.labels.alertname === 'EgressHostUnreachable' && a.state === 'firing') ? true : undefined;
      },
      () => `${last.map((a) => describeAlert(a)).join('; ')}\n${context()}`,
    );
    const others = new Set<string>();
    const watchUntil = Date.now() + 4_000;
    while (Date.now() < watchUntil) {
      last = await prom.alerts();
      const firing = aboutTargets(last).filter((a) => a.state === 'firing');
      expect(firing.map((a) => describeAlert(a))).toEqual([describeAlert({ labels: { alertname: 'EgressHostUnreachable', host: '127.0.0.1', path: 'direct', port: String(badPort), reason: 'refused', severity: 'critical' }, state: 'firing' })]);
      expect(Object.keys(firing[0]!.labels).sort()).toEqual(['alertname', 'host', 'path', 'port', 'reason', 'severity']);
      for (const a of last.filter((alert) => alert.labels.host === undefined)) others.add(describeAlert(a));
      await sleep(500);
    }
    if (others.size > 0) console.log(`e2e-probe: alerts about the exporter itself (not the targets): ${[...others].join('; ')}`);
    // Never more than one at any evaluation, and never one about the good target.
    const window = Math.ceil((Date.now() - promReadyAt) / 1000) + 2;
    const most = await prom.query(`max_over_time(count(ALERTS{alertname="EgressHostUnreachable", alertstate="firing"})[${window}s:1s])`);
    expect(most.result.map((s) => Number(s.value[1]))).toEqual([1]);
    const onGood = await prom.query(`max_over_time(ALERTS{port="${origin?.port ?? 0}"}[${window}s])`);
    expect(onGood.result.map((s) => describeAlert({ labels: s.metric }))).toEqual([]);
  }, 60_000);
});
