// The container image and the Kubernetes manifests, checked without a Docker
// engine or a cluster: what the Dockerfile copies exists, the manifests agree
// with it and with each other, and the production install works on its own.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import bcrypt from 'bcryptjs';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../src/config/load.js';
import { NODE_FLAGS } from '../src/node-flags.js';
import { getPki } from './fixtures/pki.js';
import { spawnDaemon } from './helpers/daemon.js';
import { TSX_IMPORT } from './helpers/monitoring-queries.js';

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const K8S_DIR = join(ROOT, 'deploy/kubernetes');
/** The optional component: the Prometheus Operator's kinds, which a plain cluster lacks. */
const OPERATOR_COMPONENT = 'components/prometheus-operator';
/** The ready overlay: the base plus that component. */
const OPERATOR_OVERLAY = join(ROOT, 'deploy/kubernetes-prometheus-operator');
const OPERATOR_KINDS = ['ServiceMonitor', 'PrometheusRule'];
const GENERATOR = join(K8S_DIR, 'generate-prometheusrule.ts');

// ---------------------------------------------------------------------------
// The Dockerfile, read the way `docker build` reads it (enough of it for these checks)

interface Instruction {
  /** Index of the FROM this instruction belongs to. */
  stage: number;
  keyword: string;
  args: string;
}

interface Copy {
  stage: number;
  from: string | undefined;
  sources: string[];
  dest: string;
  /** The stage's WORKDIR when the COPY runs (a relative dest is relative to it). */
  workdir: string;
}

function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    if (current === '' && /^\s*#/.test(line)) continue;
    if (/\\\s*$/.test(line)) {
      current += `${line.replace(/\\\s*$/, '')} `;
      continue;
    }
    current += line;
    if (current.trim() !== '') logical.push(current.trim());
    current = '';
  }
  let stage = -1;
  return logical.map((line) => {
    const space = line.search(/\s/);
    const keyword = (space < 0 ? line : line.slice(0, space)).toUpperCase();
    if (keyword === 'FROM') stage++;
    return { stage, keyword, args: space < 0 ? '' : line.slice(space + 1).trim() };
  });
}

/** The JSON (exec) form of ENTRYPOINT and CMD. */
function execForm(instruction: Instruction | undefined): string[] {
  expect(instruction, 'instruction present').toBeDefined();
  const value: unknown = JSON.parse(instruction!.args);
  expect(Array.isArray(value), `${instruction!.keyword} in exec form (JSON array)`).toBe(true);
  return value as string[];
}

function copies(instructions: Instruction[]): Copy[] {
  const workdirs = new Map<number, string>();
  const result: Copy[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'WORKDIR') workdirs.set(ins.stage, posix.resolve(workdirs.get(ins.stage) ?? '/', ins.args));
    if (ins.keyword !== 'COPY') continue;
    const words = ins.args.split(/\s+/);
    const flags = words.filter((w) => w.startsWith('--'));
    const paths = words.filter((w) => !w.startsWith('--'));
    const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
    result.push({ stage: ins.stage, from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? '', workdir: workdirs.get(ins.stage) ?? '/' });
  }
  return result;
}

/** Whether a .dockerignore pattern list (no negations) excludes `path`. */
function dockerIgnored(patterns: string[], path: string): boolean {
  const clean = path.replace(/^\.\//, '').replace(/\/$/, '');
  return patterns.some((pattern) => {
    const source = pattern
      .replace(/\/$/, '')
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*\*/g, '\uE000')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')
      .replace(/\uE000/g, '.*');
    // A pattern excludes the path itself and everything under it.
    return new RegExp(`^${source}(/.*)?$`).test(clean);
  });
}

const dockerfile = parseDockerfile(await readFile(join(ROOT, 'Dockerfile'), 'utf8'));
const stages = dockerfile.filter((i) => i.keyword === 'FROM');
const runtimeStage = stages.length - 1;
const runtime = dockerfile.filter((i) => i.stage === runtimeStage);
const allCopies = copies(dockerfile);
const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };

function cmdConfigPath(): string {
  const flag = execForm(runtime.find((i) => i.keyword === 'CMD')).find((arg) => arg.startsWith('--config.file='));
  expect(flag, 'CMD passes --config.file=').toBeDefined();
  return flag!.slice('--config.file='.length);
}

/** The repository file a path in the runtime image comes from (via COPY), or undefined. */
function runtimeSource(imagePath: string): { context: boolean; repoPath: string } | undefined {
  for (const copy of allCopies.filter((c) => c.stage === runtimeStage)) {
    const dest = posix.resolve(copy.workdir, copy.dest);
    for (const source of copy.sources) {
      const isDir = copy.dest.endsWith('/') && source.endsWith('/');
      const target = isDir ? `${dest}/` : dest;
      if (imagePath !== dest && !(isDir && imagePath.startsWith(target))) continue;
      const rest = imagePath === dest ? '' : imagePath.slice(target.length);
      if (copy.from === undefined) return { context: true, repoPath: posix.join(source, rest) };
      // From the build stage: its WORKDIR is the repository root, built.
      const buildStage = stages.findIndex((s) => new RegExp(`\\bAS\\s+${copy.from}$`, 'i').test(s.args));
      const buildWorkdir = allCopies.find((c) => c.stage === buildStage)?.workdir ?? '/';
      return { context: false, repoPath: posix.join(posix.relative(buildWorkdir, source), rest) };
    }
  }
  return undefined;
}

describe('npm start', () => {
  it('starts the built daemon with its node flags', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`npm run --silent build && node ${NODE_FLAGS.join(' ')} dist/cli.js`);
  });
});

describe('Dockerfile', () => {
  it('builds and runs on one Node image, pinned by version (or digest), never :latest', () => {
    expect(stages).toHaveLength(2);
    const images = stages.map((s) => s.args.split(/\s+/)[0]!);
    for (const image of images) {
      // name:MAJOR.MINOR.PATCH[-variant], or name[:tag]@sha256:<64 hex>.
      expect(image, image).toMatch(/^[\w./-]+(?::\d+\.\d+\.\d+(?:-[\w.-]+)?|(?::[\w.-]+)?@sha256:[0-9a-f]{64})$/);
      expect(image, image).not.toMatch(/:latest(?:-dev)?$/);
    }
    expect(stages[0]!.args).toMatch(/\s+AS\s+build$/i);
    expect(images[1]).toBe(images[0]);
    // The major version of Node the tests run on (engines: Node 20).
    expect(images[0]).toContain(`:${process.versions.node.split('.')[0]}.`);
    const base = runtime.find((i) => i.keyword === 'LABEL' && i.args.includes('org.opencontainers.image.base.name='));
    expect(base?.args).toContain(`org.opencontainers.image.base.name="docker.io/library/${images[1]}"`);
  });

  it('copies only files that exist (after npm run build) and that .dockerignore keeps', async () => {
    expect(existsSync(join(ROOT, 'dist/cli.js')), 'dist/cli.js is missing: run `npm run build` before this test (npm test does)').toBe(true);
    const ignore = (await readFile(join(ROOT, '.dockerignore'), 'utf8'))
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(ignore.some((line) => line.startsWith('!')), 'the .dockerignore check here does not handle negations').toBe(false);
    expect(allCopies.length).toBeGreaterThan(0);
    for (const copy of allCopies) {
      for (const source of copy.sources) {
        if (copy.from === undefined) {
          expect(existsSync(join(ROOT, source)), `COPY ${source}: missing from the build context`).toBe(true);
          expect(dockerIgnored(ignore, source), `COPY ${source}: excluded by .dockerignore`).toBe(false);
        } else {
          const found = runtimeSource(posix.resolve(copy.workdir, copy.dest));
          expect(found, `COPY --from=${copy.from} ${source}`).toBeDefined();
          expect(existsSync(join(ROOT, found!.repoPath)), `COPY --from=${copy.from} ${source}: ${found!.repoPath} is missing after the build`).toBe(true);
        }
      }
    }
    // What the build stage needs to compile is in the context, and the outputs are not.
    for (const path of ['src/cli.ts', 'tsconfig.build.json', 'package-lock.json']) expect(dockerIgnored(ignore, path), path).toBe(false);
    for (const path of ['node_modules', 'dist/cli.js', '.git']) expect(dockerIgnored(ignore, path), path).toBe(true);
  });

  it('runs the built entry point, non-root, on the default port, with the default config path', async () => {
    const entrypoint = execForm(runtime.find((i) => i.keyword === 'ENTRYPOINT'));
    expect(entrypoint[0]).toBe('node');
    // The daemon's node flags, as npm start and the bench pass them.
    expect(entrypoint.slice(1, 1 + NODE_FLAGS.length)).toEqual(NODE_FLAGS);
    const script = entrypoint[1 + NODE_FLAGS.length]!;
    // The README quotes it as it is.
    expect(await readFile(join(ROOT, 'README.md'), 'utf8')).toContain(`\`ENTRYPOINT [${entrypoint.map((a) => JSON.stringify(a)).join(', ')}]\``);
    const entry = runtimeSource(script);
    expect(entry, `${script} is copied into the image`).toEqual({ context: false, repoPath: 'dist/cli.js' });
    expect(existsSync(join(ROOT, entry!.repoPath)), `${entry!.repoPath} exists after the build`).toBe(true);

    const configPath = cmdConfigPath();
    expect(configPath).toBe('/etc/egress-exporter/egress.yml');
    const config = runtimeSource(configPath);
    expect(config?.context, `${configPath} is copied from the build context`).toBe(true);
    const text = await readFile(join(ROOT, config!.repoPath), 'utf8');
    expect(() => parseConfig(text, config!.repoPath)).not.toThrow();

    expect(runtime.find((i) => i.keyword === 'EXPOSE')?.args).toBe('9739');
    expect(runtime.find((i) => i.keyword === 'USER')?.args).toBe('65532:65532');
  });

  it('labels the image the OCI way, with the package version', () => {
    const labels = runtime.filter((i) => i.keyword === 'LABEL').map((i) => i.args).join(' ');
    for (const key of ['title', 'description', 'source', 'licenses', 'version', 'revision']) expect(labels).toContain(`org.opencontainers.image.${key}=`);
    expect(runtime.find((i) => i.keyword === 'ARG' && i.args.startsWith('VERSION='))?.args).toBe(`VERSION=${pkg.version}`);
  });
});

// ---------------------------------------------------------------------------
// Kubernetes

interface Manifest {
  /** Relative to deploy/kubernetes. */
  file: string;
  doc: { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; labels?: Record<string, string> }; [key: string]: unknown };
}

let manifests: Manifest[] = [];

async function yamlDocs(dir: string): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort()) {
    const docs = parseAllDocuments(await readFile(join(dir, file), 'utf8'));
    for (const doc of docs) {
      expect(doc.errors, `${file} parses`).toEqual([]);
      out.push({ file: posix.join(posix.relative(K8S_DIR, dir), file), doc: doc.toJS() as Manifest['doc'] });
    }
  }
  return out;
}

beforeAll(async () => {
  manifests = [...(await yamlDocs(K8S_DIR)), ...(await yamlDocs(join(K8S_DIR, OPERATOR_COMPONENT)))];
});

const isKustomize = (m: Manifest): boolean => m.doc.kind === 'Kustomization' || m.doc.kind === 'Component';

function manifest(kind: string): Manifest['doc'] {
  const found = manifests.filter((m) => m.doc.kind === kind);
  expect(found, `one ${kind}`).toHaveLength(1);
  return found[0]!.doc;
}

/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return */
describe('deploy/kubernetes', () => {
  it('has Deployment, Service, ConfigMap, ServiceMonitor, PrometheusRule and Kustomization, each with apiVersion, kind and metadata.name', () => {
    for (const { file, doc } of manifests.filter((m) => !isKustomize(m))) {
      expect(typeof doc.apiVersion, `${file}: apiVersion`).toBe('string');
      expect(typeof doc.kind, `${file}: kind`).toBe('string');
      expect(typeof doc.metadata?.name, `${file}: metadata.name`).toBe('string');
    }
    const kinds = manifests.map((m) => m.doc.kind);
    for (const kind of ['Deployment', 'Service', 'ConfigMap', 'ServiceMonitor', 'PrometheusRule', 'Kustomization', 'Component']) expect(kinds).toContain(kind);
    expect(manifest('ServiceMonitor').apiVersion).toBe('monitoring.coreos.com/v1');
  });

  it('lists every manifest in kustomization.yaml, and only files that exist', () => {
    const kustomization = manifest('Kustomization') as any;
    const resources = kustomization.resources as string[];
    for (const resource of resources) expect(existsSync(join(K8S_DIR, resource)), resource).toBe(true);
    const files = [...new Set(manifests.filter((m) => !m.file.includes('/')).map((m) => m.file))].filter((f) => f !== 'kustomization.yaml');
    expect([...resources].sort()).toEqual(files.sort());
    // The image tag follows the package version.
    const deployment = manifest('Deployment') as any;
    const image = kustomization.images[0];
    expect(deployment.spec.template.spec.containers[0].image.split(':')[0]).toBe(image.name);
    expect(image.newTag).toBe(pkg.version);
  });

  it("applies on a cluster without the Prometheus Operator: its kinds are in an optional component", async () => {
    // The base: no Operator kind.
    const base = manifests.filter((m) => !m.file.includes('/') && !isKustomize(m));
    expect(base.map((m) => m.doc.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Service']);
    // The component: exactly the Operator's kinds, every file listed.
    const component = manifests.find((m) => m.file === `${OPERATOR_COMPONENT}/kustomization.yaml`)?.doc as any;
    expect(component).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1alpha1', kind: 'Component' });
    const inComponent = manifests.filter((m) => m.file.startsWith(`${OPERATOR_COMPONENT}/`) && !isKustomize(m));
    expect(inComponent.map((m) => m.doc.kind).sort()).toEqual([...OPERATOR_KINDS].sort());
    expect([...(component.resources as string[])].sort()).toEqual(inComponent.map((m) => posix.basename(m.file)).sort());
    // The ready overlay: the base plus the component, at paths that exist, outside the base's
    // directory (kustomize refuses an overlay inside its base).
    const overlay = parse(await readFile(join(OPERATOR_OVERLAY, 'kustomization.yaml'), 'utf8'));
    expect(overlay.kind).toBe('Kustomization');
    expect(overlay.resources.map((r: string) => join(OPERATOR_OVERLAY, r))).toEqual([K8S_DIR]);
    expect(overlay.components.map((c: string) => join(OPERATOR_OVERLAY, c))).toEqual([join(K8S_DIR, OPERATOR_COMPONENT)]);
  });

  it('runs the Deployment non-root, read-only, without capabilities, probing /-/healthy and /-/ready', () => {
    const deployment = manifest('Deployment') as any;
    expect(deployment.spec.replicas).toBe(1);
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    // The Dockerfile's USER, numeric so that runAsNonRoot can be verified.
    expect(`${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`).toBe(runtime.find((i) => i.keyword === 'USER')?.args);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    // Above the largest RSS seen (~220 MiB; 77-98 MiB over a minute of the built-in catalog),
    // with headroom to the limit: a request below the RSS gets the pod evicted first.
    const mebibytes = (quantity: string): number => {
      const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
      expect(m, `memory quantity ${quantity} in Mi or Gi`).not.toBeNull();
      return Number(m![1]) * (m![2] === 'Gi' ? 1024 : 1);
    };
    expect(mebibytes(container.resources.requests.memory)).toBeGreaterThanOrEqual(220);
    expect(mebibytes(container.resources.limits.memory)).toBeGreaterThanOrEqual(1.5 * mebibytes(container.resources.requests.memory));
    expect(container.ports).toEqual([{ name: 'http-metrics', containerPort: 9739, protocol: 'TCP' }]);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/-/healthy', port: 'http-metrics' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/-/ready', port: 'http-metrics' });
  });

  // What the kubelet does with the Deployment's probes: a GET of the path without
  // credentials, over the probe's scheme (HTTPS without verifying the certificate).
  for (const tls of [false, true]) {
    it(`passes its liveness and readiness probes with basic auth${tls ? ' and TLS' : ''} on`, async () => {
      const container = (manifest('Deployment') as any).spec.template.spec.containers[0];
      const dir = await mkdtemp(join(tmpdir(), 'egress-k8s-auth-'));
      const pki = await getPki();
      await writeFile(join(dir, 'egress.yml'), 'catalog: none\n');
      let web = `basic_auth_users:\n  prometheus: ${bcrypt.hashSync('scrape-secret', 4)}\n`;
      if (tls) {
        await writeFile(join(dir, 'tls.crt'), pki.ecdsa.chain);
        await writeFile(join(dir, 'tls.key'), pki.ecdsa.key);
        web += 'tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n';
      }
      await writeFile(join(dir, 'web.yml'), web);
      const daemon = await spawnDaemon([`--config.file=${join(dir, 'egress.yml')}`, `--web.config.file=${join(dir, 'web.yml')}`]);
      const kubeletGet = (probe: any): Promise<number> =>
        new Promise((resolve, reject) => {
          // The manifest's probes are HTTP; with TLS on, the README and the manifest say to add scheme: HTTPS.
          const scheme: string = tls ? 'HTTPS' : (probe.httpGet.scheme ?? 'HTTP');
          expect(probe.httpGet.port).toBe('http-metrics');
          const options = { host: '127.0.0.1', port: daemon.port, path: probe.httpGet.path as string, agent: false, rejectUnauthorized: false };
          const req = (scheme === 'HTTPS' ? https : http).get(options, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
        });
      try {
        expect(await kubeletGet(container.livenessProbe)).toBe(200);
        expect(await kubeletGet(container.readinessProbe)).toBe(200);
        // Auth really is on for everything else.
        expect(await kubeletGet({ httpGet: { path: '/metrics', port: 'http-metrics' } })).toBe(401);
      } finally {
        await daemon.stop();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('reads the config the Dockerfile CMD names, from the ConfigMap, and that config is valid', () => {
    const deployment = manifest('Deployment') as any;
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    const configPath = cmdConfigPath();
    expect(container.args).toContain(`--config.file=${configPath}`);
    const mount = container.volumeMounts.find((m: any) => m.mountPath === dirname(configPath));
    expect(mount, `a volume mounted at ${dirname(configPath)}`).toBeDefined();
    const volume = pod.volumes.find((v: any) => v.name === mount.name);
    const configMap = manifest('ConfigMap') as any;
    expect(volume.configMap.name).toBe(configMap.metadata.name);
    const text = configMap.data[basename(configPath)];
    expect(typeof text, `ConfigMap key ${basename(configPath)}`).toBe('string');
    expect(() => parseConfig(text, `configmap.yaml: data.${basename(configPath)}`)).not.toThrow();
  });

  it('exposes the Deployment through the Service to the ServiceMonitor on port http-metrics', () => {
    const podLabels = (manifest('Deployment') as any).spec.template.metadata.labels;
    const service = manifest('Service') as any;
    for (const [key, value] of Object.entries(service.spec.selector)) expect(podLabels[key], `pod label ${key}`).toBe(value);
    expect(service.spec.ports).toEqual([{ name: 'http-metrics', port: 9739, targetPort: 'http-metrics', protocol: 'TCP' }]);
    const monitor = manifest('ServiceMonitor') as any;
    for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels)) expect(service.metadata.labels[key], `service label ${key}`).toBe(value);
    expect(monitor.spec.endpoints.map((e: any) => e.port)).toEqual(['http-metrics']);
    for (const label of monitor.spec.targetLabels ?? []) expect(service.metadata.labels[label], `targetLabels ${label} is a Service label`).toBeDefined();
  });
});
/* eslint-enable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return */

// ---------------------------------------------------------------------------
// The PrometheusRule generator

describe('generate-prometheusrule.ts', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'egress-promrule-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function generate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await execFileAsync(process.execPath, ['--import', TSX_IMPORT, GENERATOR, ...args], { cwd: dir, timeout: 20_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: unknown; stdout?: string; stderr?: string };
      if (typeof e.code !== 'number') throw err;
      return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }
  it('keeps the committed PrometheusRule (in the Operator component) in step with alerts/egress-rules.yml', async () => {
    const result = await generate('--check');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });


  it('fails clearly when the rule file is missing', async () => {
    const rules = join(dir, 'absent.yml');
    const result = await generate('--rules', rules, '--out', join(dir, 'out.yaml'));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`generate-prometheusrule: cannot read the rule file ${rules}: no such file or directory (ENOENT)\n`);
    expect(existsSync(join(dir, 'out.yaml'))).toBe(false);
  });

  it('refuses a file without rule groups', async () => {
    await writeFile(join(dir, 'empty.yml'), 'groups: []\n');
    const result = await generate('--rules', join(dir, 'empty.yml'), '--out', join(dir, 'out.yaml'));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`generate-prometheusrule: ${join(dir, 'empty.yml')}: expected a Prometheus rule file with a non-empty "groups" list\n`);
  });

  it('writes a PrometheusRule whose groups are the rule file groups, and --check tells when it is stale', async () => {
    const groups = [
      {
        name: 'egress',
        rules: [
          {
            alert: 'EgressProbeFailing',
            expr: 'egress_probe_success == 0\n',
            for: '5m',
            labels: { severity: 'warning' },
            annotations: { summary: 'A probe fails.', description: '{{ $labels.host }} fails its {{ $labels.check }} check, and this line is longer than eighty characters.' },
          },
        ],
      },
    ];
    const rules = join(dir, 'rules.yml');
    const out = join(dir, 'prometheusrule.yaml');
    await writeFile(rules, JSON.stringify({ groups }));
    expect((await generate('--rules', rules, '--out', out, '--check')).code).toBe(1);
    expect((await generate('--rules', rules, '--out', out)).code).toBe(0);
    const written = parse(await readFile(out, 'utf8')) as Record<string, unknown>;
    expect(written).toEqual({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: 'egress-exporter', labels: { 'app.kubernetes.io/name': 'egress-exporter', 'app.kubernetes.io/component': 'alerting-rules' } },
      spec: { groups },
    });
    expect(await generate('--rules', rules, '--out', out, '--check')).toEqual({ code: 0, stdout: '', stderr: '' });
    await writeFile(rules, JSON.stringify({ groups: [{ ...groups[0], name: 'renamed' }] }));
    const stale = await generate('--rules', rules, '--out', out, '--check');
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('is out of date');
  });
});

// ---------------------------------------------------------------------------
// The production install, as the image's build stage makes it

describe('production install', () => {
  let dir: string;
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('installs without dev dependencies in a clean directory and checks the configs', { timeout: 300_000 }, async () => {
    expect(existsSync(join(ROOT, 'dist/cli.js')), 'dist/cli.js is missing: run `npm run build` before this test (npm test does)').toBe(true);
    dir = await mkdtemp(join(tmpdir(), 'egress-prod-install-'));
    await cp(join(ROOT, 'package.json'), join(dir, 'package.json'));
    await cp(join(ROOT, 'package-lock.json'), join(dir, 'package-lock.json'));
    await cp(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });

    // Uses the npm registry (or npm's cache).
    await execFileAsync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, timeout: 280_000, maxBuffer: 16 * 1024 * 1024 });
    expect(existsSync(join(dir, 'node_modules/vitest')), 'dev dependencies left out').toBe(false);
    expect(existsSync(join(dir, 'node_modules/prom-client')), 'production dependencies installed').toBe(true);

    for (const config of [join(ROOT, 'egress.example.yml'), join(ROOT, 'deploy/docker/egress.yml')]) {
      const { stderr } = await execFileAsync(process.execPath, ['dist/cli.js', `--config.file=${config}`, '--config.check'], {
        cwd: dir,
        timeout: 30_000,
        // No git checkout here: the revision comes from the environment, as in the image.
        env: { ...process.env, EGRESS_EXPORTER_REVISION: 'test' },
      });
      expect(stderr).toMatch(/^config OK: /);
    }
  });
});
