// Runs inside an empty network namespace (unshare -n): only loopback exists, so
// the daemon's queries to the system resolver fail at once and reach no one.
// Starts the built daemon with the given flags, waits for /-/ready, prints a
// JSON report with /metrics, then sends SIGTERM and times the exit.
import { spawn } from 'node:child_process';

const [listen, ...flags] = process.argv.slice(2);
const base = `http://${listen}`;
const child = spawn(process.execPath, ['dist/cli.js', `--web.listen-address=${listen}`, ...flags], { stdio: ['ignore', 'ignore', 'pipe'] });
let logs = '';
child.stderr.on('data', (chunk) => (logs += chunk));
const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));

async function get(path) {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: await response.text() };
}

const report = { startedMs: Date.now() };
try {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ready = await get('/-/ready').catch(() => ({ status: 0 }));
    if (ready.status === 200) break;
    if (Date.now() > deadline) throw new Error('not ready within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  report.readyAfterMs = Date.now() - report.startedMs;
  report.metrics = (await get('/metrics')).body;
  report.landing = (await get('/')).body;
  report.healthy = (await get('/-/healthy')).status;
} catch (error) {
  report.error = String(error);
}
const stopAt = Date.now();
child.kill('SIGTERM');
const exit = await exited;
report.exit = { ...exit, afterMs: Date.now() - stopAt };
report.logs = logs;
process.stdout.write(JSON.stringify(report));
