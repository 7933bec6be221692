// The optional Probe component (deploy/kubernetes/components/prometheus-operator-probe):
// rendered by `kubectl kustomize` beside the ServiceMonitor's component, on the
// Deployment and on the sharded StatefulSet, valid against the Prometheus Operator's
// schema, pointed at the Service's /probe, asking only for targets the ConfigMap's
// config has, with a scrape timeout that leaves the round its whole `timeout`, a job the
// EgressExporterDown rule does not take for the exporter's, and series that merge with
// the ServiceMonitor's under the rules' replica_labels (so one fault pages once).
//
// What the Operator gives each series, from its generator (pkg/prometheus/promcfg.go):
// a ServiceMonitor endpoint's (endpoints role) carry namespace, service, pod, container,
// endpoint (the port's name), job (the Service's name) and instance, plus its
// targetLabels copied from the Service; a Probe's static targets carry namespace, job
// (jobName, else probe/<namespace>/<name>), instance (the target) and staticConfig.labels.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import * as monitoring from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { parseConfig } from '../src/config/load.js';
import { parseDuration } from '../src/config/duration.js';
import { resolveTargets } from '../src/config/targets.js';
import { lookupProbeTarget } from '../src/server/probe-target.js';
import { SCRAPE_TIMEOUT_MARGIN_MS } from '../src/server/probe-deadline.js';
import { ALERTS_CONFIG } from './helpers/monitoring-queries.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BASE = join(ROOT, 'deploy/kubernetes');
const OPERATOR = join(BASE, 'components/prometheus-operator');
const PROBE = join(BASE, 'components/prometheus-operator-probe');
const STATEFULSET = join(BASE, 'components/statefulset');

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument */
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: any };

let dir: string;
/** Overlay name -> what kubectl kustomize renders. */
const rendered = new Map<string, K8sObject[]>();

function kustomize(overlay: string): K8sObject[] {
  const out = spawnSync('kubectl', ['kustomize', overlay], { encoding: 'utf8', timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  if (out.error !== undefined) throw new Error('kubectl is not installed: the manifest tests need it (node scripts/ensure-tools.mjs installs it)');
  if (out.status !== 0) throw new Error(`kubectl kustomize ${overlay}: ${out.stderr}`);
  return parseAllDocuments(out.stdout).map((doc) => doc.toJS() as K8sObject);
}

const one = (objects: K8sObject[], kind: string, name = 'egress-exporter'): K8sObject => {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  expect(found, `one ${kind} ${name}`).toHaveLength(1);
  return found[0]!;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'egress-k8s-probe-'));
  for (const [name, components] of [
    ['deployment', [OPERATOR, PROBE]],
    ['sharded', [STATEFULSET, OPERATOR, PROBE]],
  ] as const) {
    const overlay = join(dir, name);
    await mkdir(overlay);
    await writeFile(join(overlay, 'kustomization.yaml'), `resources: [${relative(overlay, BASE)}]\ncomponents: [${components.map((c) => relative(overlay, c)).join(', ')}]\n`);
    rendered.set(name, kustomize(overlay));
  }
}, 120_000);

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('the prometheus-operator-probe component', () => {
  it('is a Component listing every file beside it: one Probe, valid against the Operator schema', async () => {
    const component = parse(await readFile(join(PROBE, 'kustomization.yaml'), 'utf8'));
    expect(component).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1alpha1', kind: 'Component', resources: ['probe.yaml'] });
    for (const resource of component.resources as string[]) expect(existsSync(join(PROBE, resource)), resource).toBe(true);
    for (const [name, objects] of rendered) {
      const probes = objects.filter((o) => o.kind === 'Probe');
      expect(probes.map((p) => p.metadata.name), name).toEqual(['egress-exporter']);
      expect(() => new monitoring.Probe(probes[0] as any).validate(), name).not.toThrow();
      // Beside the ServiceMonitor, not in its place.
      expect(objects.filter((o) => o.kind === 'ServiceMonitor'), name).toHaveLength(1);
    }
  });

  it("points at the Service's /probe, for targets of the ConfigMap's config, leaving the round its whole timeout", () => {
    const objects = rendered.get('deployment')!;
    const probe = one(objects, 'Probe');
    const service = one(objects, 'Service');
    const port = (service.spec.ports as any[]).find((p) => p.name === 'http-metrics');
    expect(probe.spec.prober).toMatchObject({ url: `${service.metadata.name}:${port.port}`, path: '/probe' });
    expect(probe.spec.module).toBeUndefined();

    const config = parseConfig(one(objects, 'ConfigMap').data['egress.yml'], 'configmap egress.yml');
    const targets = resolveTargets(config);
    const asked: string[] = probe.spec.targets.staticConfig.static;
    expect(asked.length).toBeGreaterThan(0);
    for (const target of asked) expect(lookupProbeTarget(target, targets, config.web.allowAnyTarget), target).toMatchObject({ ok: true });

    const scrapeTimeoutMs = parseDuration(probe.spec.scrapeTimeout)!;
    expect(scrapeTimeoutMs - SCRAPE_TIMEOUT_MARGIN_MS).toBeGreaterThanOrEqual(config.timeoutMs);
    expect(parseDuration(probe.spec.interval)!).toBeGreaterThanOrEqual(scrapeTimeoutMs);
  });

  it("gives its series the ServiceMonitor's labels but for replica_labels, on the Deployment and on the shards, so a fault both show pages once", async () => {
    const alerts = parse(await readFile(ALERTS_CONFIG, 'utf8')) as { replica_labels: string[]; exporter_job_regex: string };
    const withoutReplicas = (labels: Record<string, string>) => Object.fromEntries(Object.entries(labels).filter(([name]) => !alerts.replica_labels.includes(name)));
    for (const [name, objects] of rendered) {
      const monitor = one(objects, 'ServiceMonitor');
      const probe = one(objects, 'Probe');
      // The Service the ServiceMonitor selects (the sharded overlay's headless one has no metrics port).
      const service = objects.find(
        (o) =>
          o.kind === 'Service' &&
          Object.entries(monitor.spec.selector.matchLabels as Record<string, string>).every(([k, v]) => o.metadata.labels?.[k] === v) &&
          (o.spec.ports as any[]).some((p) => p.name === monitor.spec.endpoints[0].port),
      )!;
      const workload = objects.find((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')!;
      const namespace = 'monitoring';
      const fromMetrics: Record<string, string> = {
        namespace,
        service: service.metadata.name,
        pod: `${workload.metadata.name}-0`,
        container: workload.spec.template.spec.containers[0].name,
        endpoint: monitor.spec.endpoints[0].port,
        job: service.metadata.name,
        instance: '10.0.0.7:9739',
        ...Object.fromEntries((monitor.spec.targetLabels as string[]).map((label) => [label, service.metadata.labels?.[label] ?? ''])),
      };
      const fromProbe: Record<string, string> = { namespace, job: probe.spec.jobName, instance: 'cgr.dev', ...probe.spec.targets.staticConfig.labels };
      expect(withoutReplicas(fromProbe), name).toEqual(withoutReplicas(fromMetrics));
      // And its job is not taken for the exporter's by EgressExporterDown.
      expect(new RegExp(`^(?:${alerts.exporter_job_regex})$`).test(probe.spec.jobName), name).toBe(false);
      expect(new RegExp(`^(?:${alerts.exporter_job_regex})$`).test(fromMetrics.job!), name).toBe(true);
    }
  });
});
