// The README's offline recipe, run as written: its dnsmasq line and its config, on a port
// this test owns instead of 5353, and `check` against them. Every lookup of the catalog,
// A and AAAA, must be answered (a resolver that refuses AAAA fails the two v6 hosts on a
// newcomer's first try); every connect goes to loopback.
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheckCommand } from '../src/commands/check.js';
import { tempDir } from './helpers/exporter.js';

const sh = promisify(execFile);

/** The recipe's lines: its dnsmasq command and its config, from the README's sh block that has them. */
async function recipe(): Promise<{ dnsmasq: string; config: string }> {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  const block = blocks.find((b) => /^\S*dnsmasq /m.test(b)) ?? '';
  const lines = block.split('\n');
  const dnsmasq = lines.find((l) => /^\S*dnsmasq /.test(l));
  const config = lines.find((l) => l.startsWith('printf ') && l.includes('> local.yml'));
  if (dnsmasq === undefined || config === undefined) throw new Error(`the README lost its offline recipe (a dnsmasq line and a printf to local.yml in one sh block):\n${block}`);
  return { dnsmasq, config };
}

/** A port free for both UDP and TCP on 127.0.0.1 (dnsmasq binds both). */
async function freePort(): Promise<number> {
  for (;;) {
    const tcp = createServer();
    const port = await new Promise<number>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve((tcp.address() as { port: number }).port)));
    await new Promise((resolve) => tcp.close(resolve));
    const udp = createSocket('udp4');
    const free = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => (free ? udp.close(() => resolve()) : resolve()));
    if (free) return port;
  }
}

interface CheckJson {
  hosts: Array<{ host: string; dns: Array<{ ok: boolean; reason: string | null; records: Array<{ type: string; ok: boolean; reason: string | null; addresses: string[] }> }> }>;
}

describe("the README's offline recipe (dnsmasq on loopback)", () => {
  let dir: string;
  let port: number;

  beforeAll(async () => {
    dir = await tempDir('egress-offline-recipe-');
    port = await freePort();
    const { dnsmasq, config } = await recipe();
    // As written, but on this test's port; run where the recipe says ($PWD: the pid file).
    const onPort = (line: string) => line.replaceAll('5353', String(port));
    await sh('sh', ['-c', onPort(dnsmasq)], { cwd: dir, env: { ...process.env, PWD: dir } });
    await sh('sh', ['-c', onPort(config)], { cwd: dir });
  });

  afterAll(async () => {
    // The recipe's own last step: its pid file says which dnsmasq is ours.
    const pid = Number((await readFile(join(dir, 'dnsmasq.pid'), 'utf8').catch(() => '')).trim());
    if (pid > 0) process.kill(pid, 'SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  it('answers every catalog lookup, A and AAAA, so check shows no DNS failure', async () => {
    let out = '';
    const stream = { write: (chunk: string) => ((out += chunk), true) } as unknown as NodeJS.WritableStream;
    await runCheckCommand([`--config.file=${join(dir, 'local.yml')}`, '--output=json'], { out: stream, err: stream });
    const json = JSON.parse(out) as CheckJson;
    expect(json.hosts.length).toBeGreaterThan(10);
    const records = json.hosts.flatMap((h) => h.dns.flatMap((d) => d.records.map((r) => ({ host: h.host, ...r }))));
    expect(records.filter((r) => !r.ok)).toEqual([]);
    expect(JSON.stringify(json.hosts.map((h) => h.dns))).not.toContain('refused');
    // The catalog's v6 hosts got their AAAA answer.
    const aaaa = records.filter((r) => r.type === 'AAAA');
    expect(aaaa.length).toBeGreaterThanOrEqual(2);
    for (const r of aaaa) expect(r.addresses).toEqual(['::1']);
  });
});
