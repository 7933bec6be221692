// node --import tsx bench/tls-connection.ts [CONNECTIONS [ROUNDS]]: the client CPU of one
// http check connection, its TLS observed (WireTap: every byte through a JS stream) or
// native (tls.connect over the dialled socket). Each connection is what the http check
// makes: TCP, TLS offering h2 and http/1.1, one HTTP/2 GET through undici on that socket,
// the body read, everything closed. The origin is the bench's (bench/origin-child.ts, in
// its own process: its CPU is not counted). Rounds alternate the two ways, so a drift of
// the machine falls on both. Prints numbers; asserts nothing.
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { rootCertificates } from 'node:tls';
import { directDial } from '../src/probes/net/dial.js';
import { clientOnOwnSockets, closeClient, requestBefore } from '../src/probes/http/socket-client.js';
import { dialTls, trustedContext } from '../src/probes/tls/tls-client.js';
import { linkChild } from './ipc.js';
import type { OriginChildReady } from './origin-child.js';
import { forkModule, stopAll, stopAllOnExit } from './processes.js';

const CONNECTIONS = Number(process.argv[2] ?? 300);
const ROUNDS = Number(process.argv[3] ?? 6);
const WARM_UP = 100;
const MODES = ['observed', 'native'] as const;
type Mode = (typeof MODES)[number];

async function connection(port: number, ca: readonly string[], mode: Mode): Promise<void> {
  const signal = AbortSignal.timeout(5000);
  const tls = await dialTls(directDial('127.0.0.1', port), { servername: 'localhost', secureContext: trustedContext(rootCertificates, ca), alpn: ['h2', 'http/1.1'], observeWire: mode === 'observed', signal });
  if (!tls.ok) throw new Error(`${mode}: ${tls.message}`);
  if (tls.alpn !== 'h2') throw new Error(`${mode}: ALPN ${tls.alpn}, not h2`);
  const client = clientOnOwnSockets(`https://localhost:${port}`, { first: tls.socket });
  try {
    const response = await requestBefore(client, { method: 'GET', path: '/', headers: { 'user-agent': 'bench', accept: '*/*' } }, signal);
    await response.body.text();
  } finally {
    await closeClient(client);
    tls.socket.destroy();
    tls.transport.destroy();
  }
}

/** CPU milliseconds of this process a connection, over `n` connections one after another. */
async function measure(port: number, ca: readonly string[], mode: Mode, n: number): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) await connection(port, ca, mode);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / n;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function main(): Promise<void> {
  stopAllOnExit();
  const child = forkModule('origin', join(import.meta.dirname, 'origin-child.ts'), [], join(tmpdir(), `tls-connection-origin-${process.pid}.log`));
  try {
    const origin = await linkChild<OriginChildReady>(child);
    const ca = [origin.ready.rootCaPem];
    for (const mode of MODES) await measure(origin.ready.port, ca, mode, WARM_UP);
    const perMode: Record<Mode, number[]> = { observed: [], native: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? MODES : [...MODES].reverse();
      for (const mode of order) perMode[mode].push(await measure(origin.ready.port, ca, mode, CONNECTIONS));
    }
    process.stdout.write(`${ROUNDS} rounds of ${CONNECTIONS} connections each way (TLS 1.3, ECDSA P-256, one HTTP/2 GET), client CPU ms a connection:\n`);
    for (const mode of MODES) {
      const xs = perMode[mode];
      process.stdout.write(`  ${mode.padEnd(9)} median ${median(xs).toFixed(3)}  min ${Math.min(...xs).toFixed(3)}  max ${Math.max(...xs).toFixed(3)}\n`);
    }
    // Each round's two measurements were made next to each other: their difference cancels a drift of the machine.
    const saved = median(perMode.observed.map((o, i) => o - perMode.native[i]!));
    process.stdout.write(`  native saves ${saved.toFixed(3)} ms a connection (median of the rounds' differences; ${((saved / median(perMode.observed)) * 100).toFixed(1)} %)\n`);
  } finally {
    await stopAll();
  }
}

await main();
