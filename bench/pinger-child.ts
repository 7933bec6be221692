// Child process of the bench: sends GET /-/healthy to the exporter every ~100 ms, one
// at a time, and keeps how long each waited. A stalled event loop shows as a long
// wait. It runs in its own process so that the bench's own work (reading scrapes)
// never delays it. Usage (forked by bench/run.ts): pinger-child.ts URL
import { Agent, get } from 'node:http';
import { serveBench } from './ipc.js';

export interface PingerSamples {
  /** Wait of each request, in milliseconds. */
  waitsMs: number[];
  /** Requests that failed or got no answer within 30 s (their wait is counted as 30 s). */
  failures: number;
}

const url = process.argv[2] ?? '';
const PERIOD_MS = 100;
const TIMEOUT_MS = 30_000;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

let samples: PingerSamples = { waitsMs: [], failures: 0 };
let running = false;
let loop: Promise<void> | undefined;

function ping(): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get(url, { agent, timeout: TIMEOUT_MS }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode === 200));
      response.once('error', () => resolve(false));
    });
    request.once('timeout', () => request.destroy(new Error('timeout')));
    request.once('error', () => resolve(false));
  });
}

async function run(): Promise<void> {
  while (running) {
    const start = process.hrtime.bigint();
    const ok = await ping();
    const waitMs = Number(process.hrtime.bigint() - start) / 1e6;
    samples.waitsMs.push(waitMs);
    if (!ok) samples.failures += 1;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, PERIOD_MS - waitMs)));
  }
}

serveBench(
  {},
  {
    start: () => {
      samples = { waitsMs: [], failures: 0 };
      running = true;
      loop ??= run();
      return true;
    },
    stop: async (): Promise<PingerSamples> => {
      running = false;
      await loop;
      loop = undefined;
      return samples;
    },
  },
  async () => {
    running = false;
    await loop;
    agent.destroy();
  },
);
