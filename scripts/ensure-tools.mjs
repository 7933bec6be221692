#!/usr/bin/env node
// Installs the Debian tools the test suite runs (openssl judges our TLS verdicts),
// or with `--bench` those `npm run bench` runs, when they are missing. Says what it
// installs; fails loudly when it cannot.
import { spawnSync } from 'node:child_process';

// command on PATH -> Debian package that provides it
const TEST_TOOLS = [
  { command: 'openssl', pkg: 'openssl', why: 'judges the TLS requirement verdicts' },
  { command: 'python3', pkg: 'python3', why: 'plays a TCP peer that never completes the handshake' },
  { command: 'curl', pkg: 'curl', why: 'judges the negotiated HTTP version independently' },
  { command: 'promtool', pkg: 'prometheus', why: 'checks and unit-tests the alert rules and dashboard queries' },
  { command: 'prometheus', pkg: 'prometheus', why: 'scrapes the exporter and evaluates the alert rules in the end-to-end test' },
  { command: 'prometheus-alertmanager', pkg: 'prometheus-alertmanager', why: 'delivers the alerts of the end-to-end test to its webhook receiver' },
  { command: 'unshare', pkg: 'util-linux', why: 'runs the no-config daemon test in an empty network namespace' },
  { command: 'ip', pkg: 'iproute2', why: 'brings up loopback in that namespace, and makes the address feed test\'s namespace (ip netns)' },
  { command: 'nft', pkg: 'nftables', why: 'drops SYNs to a loopback address the fault matrix owns, and is the firewall the address feed fills' },
  { command: 'chromium', pkg: 'chromium', why: 'renders the status page in the browser test' },
  // The tests run their own `docker-registry serve` on loopback; the package's service is not used.
  { command: 'docker-registry', pkg: 'docker-registry', why: 'is the independent registry (CNCF distribution) of the registry check tests' },
];
const BENCH_TOOLS = [
  { command: 'openssl', pkg: 'openssl', why: 'makes the certificates of the bench origin' },
  { command: 'prometheus-blackbox-exporter', pkg: 'prometheus-blackbox-exporter', why: 'the reference prober the bench compares with' },
];
const bench = process.argv.includes('--bench');
const TOOLS = bench ? BENCH_TOOLS : TEST_TOOLS;
const needers = bench ? 'the bench needs' : 'the tests need';

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

const missing = TOOLS.filter((tool) => !has(tool.command));
if (missing.length === 0) process.exit(0);

for (const tool of missing) console.log(`ensure-tools: ${tool.command} is missing (${tool.why}); installing Debian package ${tool.pkg}`);
if (!has('apt-get')) {
  console.error(`ensure-tools: apt-get not found; install ${missing.map((t) => t.pkg).join(' ')} yourself`);
  process.exit(1);
}
const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
const run = (args) => spawnSync(sudo[0] ?? args[0], sudo.length ? args : args.slice(1), { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
let result = run(['apt-get', 'update', '-qq']);
if (result.status === 0) result = run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...new Set(missing.map((t) => t.pkg))]);
const still = missing.filter((tool) => !has(tool.command));
if (still.length > 0) {
  console.error(`ensure-tools: could not install ${still.map((t) => t.pkg).join(' ')}; ${needers} them`);
  process.exit(1);
}
