// The address feed end to end: a DNS server the test controls rotates a host's address
// with a short TTL; the exporter resolves it every second and publishes /addresses; an
// nftables set in a network namespace the test creates is loaded from the feed
// (`nft -f` of format=nft), with a rule that drops every connection to an address not
// in the set; a client in the namespace connects to TCP servers on the addresses.
// The new address works after the next refresh; the old one works until its retention
// ends (last seen + TTL + firewall refresh + grace) and is dropped after; a restart in
// the middle serves the list from disk at once, never empty, never 503.
//
// Scaled down: interval 1s, TTL 2s, firewall refresh 1s, grace 2s: an address stays
// listed 5 s after the exporter last saw it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../src/config/load.js';
import { startExporter } from '../src/exporter.js';
import type { Exporter } from '../src/exporter.js';
import { StateStorage } from '../src/feed/state-storage.js';
import { startDnsServer } from './fixtures/dns-server.js';
import type { DnsFixture } from './fixtures/dns-server.js';
import { startNetns } from './fixtures/netns.js';
import type { Netns } from './fixtures/netns.js';
import { quietLogger } from './helpers/exporter.js';

const HOST = 'app.feed.test';
const PORT = 8080;
/** Only inside the namespace. */
const FIRST = '10.231.0.1';
const SECOND = '10.231.0.2';
const NEVER_SERVED = '10.231.0.9';
const TTL_SECONDS = 2;
const RETENTION_MS = (TTL_SECONDS + 1 + 2) * 1000;

/** The firewall: a set the feed fills, and a rule that drops what is not in it. */
const FIREWALL = `table inet fw {
  set app_v4 {
    type ipv4_addr
  }
  chain out {
    type filter hook output priority 0; policy accept;
    ip daddr 10.231.0.0/16 tcp dport ${PORT} ip daddr != @app_v4 drop
  }
}
`;

interface Pull {
  status: number;
  body: string;
  atMs: number;
}

async function pull(exporter: Exporter, path: string): Promise<Pull> {
  const response = await fetch(`http://127.0.0.1:${exporter.address.port}${path}`);
  return { status: response.status, body: await response.text(), atMs: Date.now() };
}

async function waitFor<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await attempt();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const listed = (text: string): string[] => text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));

describe('the address feed feeding an nftables set', () => {
  let dir: string;
  let dns: DnsFixture;
  let netns: Netns;
  let exporter: Exporter | undefined;
  /** Every address any pull of the list held: each must be one the DNS served. */
  const everListed = new Set<string>();

  async function start(): Promise<Exporter> {
    const config = await loadConfigFile(join(dir, 'egress.yml'));
    return startExporter({ config, listen: { host: '127.0.0.1', port: 0 }, logger: quietLogger(), storage: await StateStorage.open(join(dir, 'state')) });
  }

  /** The firewall's refresh: pull the nft format and load it in the namespace. */
  async function refreshFirewall(running: Exporter): Promise<string[]> {
    const nft = await pull(running, '/addresses/app?format=nft&table=fw');
    expect(nft.status, nft.body).toBe(200);
    netns.nft(nft.body);
    const text = await pull(running, '/addresses/app');
    for (const address of listed(text.body)) everListed.add(address);
    const inSet = /elements = \{ ([^}]*) \}/.exec(netns.ruleset())?.[1]?.split(', ').map((a) => a.trim()) ?? [];
    for (const address of inSet) everListed.add(address);
    return inSet;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'egress-feed-e2e-'));
    dns = await startDnsServer({ [HOST]: { a: [FIRST], ttl: TTL_SECONDS } });
    await writeFile(
      join(dir, 'egress.yml'),
      `catalog: none
interval: 1s
timeout: 500ms
dns:
  servers: ["${dns.address.name}"]
  firewall_refresh_interval: 1s
targets:
  - { host: ${HOST}, port: ${PORT}, checks: [dns] }
feed:
  grace: 2s
  lists:
    - { name: app, hosts: [${HOST}], families: [v4] }
`,
    );
    netns = await startNetns([FIRST, SECOND, NEVER_SERVED], PORT);
    netns.nft(FIREWALL);
  });

  afterAll(async () => {
    await exporter?.stop();
    await netns?.close();
    await dns?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('opens the new address after the next refresh, keeps the old one through its retention, survives a restart, then drops the old one', async () => {
    // Before the firewall has loaded anything, the rule drops everything.
    expect(await netns.connect(FIRST)).toEqual({ address: FIRST, ok: false, code: 'timeout' });

    exporter = await start();
    await waitFor('the first list', async () => ((await pull(exporter!, '/addresses/app')).status === 200 ? true : undefined));
    expect(await refreshFirewall(exporter)).toEqual([FIRST]);
    expect(await netns.connect(FIRST)).toMatchObject({ ok: true });
    expect(await netns.connect(SECOND)).toMatchObject({ ok: false, code: 'timeout' });
    expect(await netns.connect(NEVER_SERVED)).toMatchObject({ ok: false, code: 'timeout' });

    // The DNS rotates: the new address is listed after the exporter's next round.
    dns.set(HOST, { a: [SECOND], ttl: TTL_SECONDS });
    await waitFor('the second address in the list', async () => (listed((await pull(exporter!, '/addresses/app')).body).includes(SECOND) ? true : undefined));
    // Clients may still hold the first for its TTL: it stays.
    expect(await refreshFirewall(exporter)).toEqual([FIRST, SECOND]);
    expect(await netns.connect(SECOND)).toMatchObject({ ok: true });
    expect(await netns.connect(FIRST)).toMatchObject({ ok: true });

    // A restart in the middle, with the DNS silent: the list comes from disk at once.
    await exporter.stop();
    dns.silentAll = true;
    exporter = await start();
    const target = exporter.targets[0]!;
    const restarted = await pull(exporter, '/addresses/app');
    expect(exporter.results.get(target)?.report, 'no round finished yet: the list came from disk').toBeUndefined();
    expect(restarted.status, restarted.body).toBe(200);
    expect(listed(restarted.body)).toContain(SECOND);
    // Every pull while the DNS stays silent (the first rounds time out): served, never empty.
    for (let i = 0; i < 8; i += 1) {
      const again = await pull(exporter, '/addresses/app');
      expect(again.status, again.body).toBe(200);
      expect(listed(again.body)).toContain(SECOND);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(await refreshFirewall(exporter)).toContain(SECOND);
    expect(await netns.connect(SECOND)).toMatchObject({ ok: true });

    // The DNS answers again, without the first address: it leaves once its retention ends, not before.
    dns.silentAll = false;
    const json = JSON.parse((await pull(exporter, '/addresses/app?format=json')).body) as { entries: Array<{ address: string; expiresAt: string | null; lastSeen: string }> };
    const firstEntry = json.entries.find((e) => e.address === FIRST);
    expect(firstEntry, 'the first address is still listed').toBeDefined();
    let expiresAtMs = Number.POSITIVE_INFINITY;
    const gone = await waitFor('the first address to leave the list', async () => {
      const now = await pull(exporter!, '/addresses/app?format=json');
      const body = JSON.parse(now.body) as { addresses: string[]; entries: Array<{ address: string; expiresAt: string | null }> };
      for (const address of body.addresses) everListed.add(address);
      const entry = body.entries.find((e) => e.address === FIRST);
      if (entry !== undefined) {
        // Held while the DNS was silent (no expiry), then aging from the last round that held it.
        if (entry.expiresAt !== null) expiresAtMs = Date.parse(entry.expiresAt);
        return undefined;
      }
      return now.atMs;
    });
    expect(gone, 'left no earlier than its retention').toBeGreaterThanOrEqual(expiresAtMs);
    expect(expiresAtMs - Date.parse(firstEntry!.lastSeen)).toBeGreaterThanOrEqual(RETENTION_MS);
    expect(await refreshFirewall(exporter)).toEqual([SECOND]);
    expect(await netns.connect(FIRST)).toMatchObject({ ok: false, code: 'timeout' });
    expect(await netns.connect(SECOND)).toMatchObject({ ok: true });

    // Nothing the DNS never served was ever listed.
    expect([...everListed].sort()).toEqual([FIRST, SECOND]);
  }, 60_000);
});
