// A blackholed address that must stay blocked: an nftables rule drops its SYNs in a
// network namespace the test creates, where the built daemon runs (`ip netns exec`) beside
// the namespace's peer (a TCP server on every address of the namespace), so nothing of this
// machine's own network is touched. A host that must work on the same path tells the drop
// from a dead path. The rule goes (a hole: reachable, one page), comes back (blocked), then
// the host that must work is dropped too: nothing tells a drop from a dead path any more,
// so the verdict is "could not tell", which pages nothing of its own.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startNetns } from './fixtures/netns.js';
import type { Netns } from './fixtures/netns.js';
import { spawnDaemon } from './helpers/daemon.js';
import type { RunningDaemon } from './helpers/daemon.js';
import { tempDir } from './helpers/exporter.js';
import { alertsOnSeriesTest, runPromtool } from './helpers/monitoring-queries.js';
import { Scrape, parseExposition } from './helpers/scrape.js';

const PORT = 8080;
/** Only inside the namespace. */
const WORK = '10.232.0.1';
const DARK = '10.232.0.2';

/** Drops every packet to `addresses` on PORT as it arrives: the SYN leaves, nothing comes back (a firewall's DROP). */
const dropRules = (...addresses: string[]): string =>
  `table ip blackhole {\n  chain in {\n    type filter hook input priority -10; policy accept;\n${addresses.map((a) => `    ip daddr ${a} tcp dport ${PORT} drop\n`).join('')}  }\n}\n`;
const NO_RULES = 'table ip blackhole\ndelete table ip blackhole\n';

describe('a blackholed address that must stay blocked (nft DROP in a namespace of its own)', () => {
  let netns: Netns;
  let daemon: RunningDaemon;

  /** /metrics of the daemon inside the namespace, fetched from inside it (curl). */
  const scrape = (): Promise<Scrape> =>
    new Promise((resolve, reject) => {
      execFile('ip', ['netns', 'exec', netns.name, 'curl', '-sS', '--max-time', '5', `http://127.0.0.1:${daemon.port}/metrics`], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`curl in ${netns.name} failed: ${stderr}`));
        else resolve(new Scrape(parseExposition(stdout), stdout));
      });
    });
  async function scrapeUntil(predicate: (m: Scrape) => boolean, timeoutMs = 20_000): Promise<Scrape> {
    const deadline = Date.now() + timeoutMs;
    let last: Scrape | undefined;
    while (Date.now() < deadline) {
      last = await scrape();
      if (predicate(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`condition not met within ${timeoutMs} ms; last scrape:\n${last?.text ?? '(none)'}\nlogs:\n${daemon.logs()}`);
  }
  const verdictOf = (m: Scrape): string[] => m.labelValues('egress_blocked_verdict', 'verdict', { host: DARK, path: 'direct' });
  const rounds = (m: Scrape, host: string): number => m.value('egress_exporter_rounds_total', { host, port: String(PORT) }) ?? 0;
  /** A verdict the round after `since` (seconds) gave: every round before may predate the change. */
  const after = (since: number) => (m: Scrape) => [WORK, DARK].every((host) => (m.value('egress_exporter_round_finished_timestamp_seconds', { host, port: String(PORT) }) ?? 0) > since);

  async function pages(m: Scrape, expected: Array<{ alert: string; labels: Record<string, string> }>): Promise<string> {
    const file = join(await tempDir('egress-blackhole-promtool-'), 'pages.yml');
    await writeFile(file, stringify(alertsOnSeriesTest(m.samples, expected, { nowSeconds: Date.now() / 1000 }), { lineWidth: 0 }));
    const result = await runPromtool(['test', 'rules', file]);
    return `${result.code} ${result.stdout}${result.stderr}`;
  }

  beforeAll(async () => {
    netns = await startNetns([WORK, DARK], PORT);
    netns.nft(dropRules(DARK));
    const dir = await tempDir('egress-blackhole-');
    const file = join(dir, 'egress.yml');
    await writeFile(
      file,
      `catalog: none
interval: 1s
timeout: 500ms
proxy: none
targets:
  - { host: ${WORK}, port: ${PORT}, checks: [tcp] }
  - { host: ${DARK}, port: ${PORT}, checks: [tcp], expect: blocked }
`,
    );
    daemon = await spawnDaemon([`--config.file=${file}`], 10_000, ['ip', 'netns', 'exec', netns.name]);
  }, 30_000);

  afterAll(async () => {
    await daemon?.stop();
    await netns?.close();
  });

  it('is blocked while its SYNs are dropped and the path reaches the host that must work; no page', async () => {
    // The peer really is dark from inside, and the other address answers.
    expect(await netns.connect(DARK)).toMatchObject({ ok: false, code: 'timeout' });
    expect(await netns.connect(WORK)).toMatchObject({ ok: true });
    const since = Date.now() / 1000;
    const m = await scrapeUntil((s) => after(since)(s) && verdictOf(s).length === 1);
    expect(verdictOf(m)).toEqual(['blocked']);
    expect(m.value('egress_probe_failure_reason', { host: DARK, port: String(PORT), check: 'tcp', path: 'direct', reason: 'timeout' })).toBe(1);
    expect(m.value('egress_probe_success', { host: WORK, port: String(PORT), check: 'tcp', path: 'direct' })).toBe(1);
    expect(await pages(m, [])).toMatch(/^0 .*SUCCESS/s);
  });

  it('is reachable within two rounds of the rule going, and pages once', async () => {
    const before = await scrape();
    netns.nft(NO_RULES);
    const m = await scrapeUntil((s) => verdictOf(s).join() === 'reachable');
    expect(rounds(m, DARK) - rounds(before, DARK), 'rounds until the hole showed').toBeLessThanOrEqual(2);
    expect(await pages(m, [{ alert: 'EgressBlockedHostReachable', labels: { host: DARK, port: String(PORT), path: 'direct', severity: 'critical' } }])).toMatch(/^0 .*SUCCESS/s);
  });

  it('is blocked again once the rule is back', async () => {
    netns.nft(dropRules(DARK));
    const since = Date.now() / 1000;
    const m = await scrapeUntil((s) => after(since)(s) && verdictOf(s).join() === 'blocked');
    expect(await pages(m, [])).toMatch(/^0 .*SUCCESS/s);
  });

  it('cannot tell once nothing on the path answers: the host that must work pages, the one that must stay blocked does not', async () => {
    netns.nft(`${NO_RULES}${dropRules(DARK, WORK)}`);
    const since = Date.now() / 1000;
    const m = await scrapeUntil((s) => after(since)(s) && verdictOf(s).join() === 'unknown');
    expect(m.value('egress_probe_failure_reason', { host: WORK, port: String(PORT), check: 'tcp', path: 'direct', reason: 'timeout' })).toBe(1);
    expect(await pages(m, [{ alert: 'EgressHostUnreachable', labels: { host: WORK, port: String(PORT), path: 'direct', reason: 'timeout', severity: 'critical' } }])).toMatch(/^0 .*SUCCESS/s);
    // The path comes back: the silence reads as blocked again.
    netns.nft(`${NO_RULES}${dropRules(DARK)}`);
    const again = Date.now() / 1000;
    expect(verdictOf(await scrapeUntil((s) => after(again)(s) && verdictOf(s).join() === 'blocked'))).toEqual(['blocked']);
  });
}, 90_000);
