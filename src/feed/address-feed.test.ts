import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DnsRecordJudgement, RoundReport } from '../checks/report.js';
import { parseConfig } from '../config/load.js';
import { resolveTargets } from '../config/targets.js';
import type { Config } from '../config/types.js';
import { createLogger } from '../logging/logger.js';
import type { Target } from '../model/types.js';
import type { DnsRecordResult, DnsResult } from '../probes/net/dns.js';
import type { FailureReason } from '../probes/reasons.js';
import { ResultStore } from '../state/result-store.js';
import { AddressFeed } from './address-feed.js';
import type { FeedAnswer, FeedRequest } from './address-feed.js';
import { STATE_FILE_NAME, StateStorage } from './state-storage.js';

const s = 1000;
const quiet = createLogger('error', 'json', new Writable({ write: (_c, _e, done) => done() }));
const R1 = '127.0.0.1:5301';
const R2 = '127.0.0.1:5302';

const CONFIG = `catalog: none
interval: 30s
dns:
  servers: ["${R1}", "${R2}"]
  firewall_refresh_interval: 60s
targets:
  - { host: cgr.dev, families: [v4, v6], labels: { team: platform } }
  - { host: apk.cgr.dev, labels: { team: platform } }
  - { host: other.example }
  - { host: 192.0.2.50, port: 8443 }
feed:
  grace: 30s
  max_addresses: 3
  lists:
    - { name: chainguard, hosts: [cgr.dev, apk.cgr.dev] }
    - { name: v6-only, hosts: [cgr.dev], families: [v6] }
`;

type RecordSpec = { addresses: string[]; ttl?: number } | { reason: FailureReason; addresses?: string[] };

function record(family: 'v4' | 'v6', spec: RecordSpec): DnsRecordResult {
  const type = family === 'v4' ? 'A' : 'AAAA';
  if ('reason' in spec) return { type, family, ok: false, reason: spec.reason, addresses: spec.addresses ?? [], ttl: spec.addresses ? 60 : null, durationSeconds: 0 };
  return { type, family, ok: true, addresses: spec.addresses, ttl: spec.ttl ?? 60, durationSeconds: 0 };
}

function answer(resolver: string, v4: RecordSpec, v6?: RecordSpec): DnsResult {
  const records = [record('v4', v4), ...(v6 === undefined ? [] : [record('v6', v6)])];
  const failed = records.find((r) => !r.ok);
  return { ok: failed === undefined, ...(failed?.reason !== undefined && { reason: failed.reason }), resolver, records, cnameChain: [], durationSeconds: 0 };
}

function report(target: Target, atMs: number, dns: DnsResult[], judgements: DnsRecordJudgement[] = []): RoundReport {
  return { target, startedAtMs: atMs, finishedAtMs: atMs, durationSeconds: 0, addresses: {}, dns, dnsJudgements: judgements, paths: [] };
}

interface Harness {
  feed: AddressFeed;
  store: ResultStore;
  target(host: string): Target;
  /** A round of `host` at the clock's time. */
  put(host: string, ...dns: DnsResult[]): void;
  text(request: FeedRequest): string;
}

async function harness(options: { config?: Config; storage?: StateStorage | null; now: () => number }): Promise<Harness> {
  const config = options.config ?? parseConfig(CONFIG, 'egress.yml');
  const targets = resolveTargets(config);
  const store = new ResultStore();
  store.setTargets(targets);
  const feed = await AddressFeed.open({ config, targets, storage: options.storage ?? null, logger: quiet, now: options.now });
  store.listen(feed);
  const target = (host: string): Target => {
    const found = targets.find((t) => t.host === host);
    if (found === undefined) throw new Error(`no target ${host}`);
    return found;
  };
  return {
    feed,
    store,
    target,
    put: (host, ...dns) => void store.put(report(target(host), options.now(), dns)),
    text: (request) => addressesOf(feed.answer(request)).join(' '),
  };
}

function addressesOf(answer: FeedAnswer): string[] {
  if (answer.kind !== 'listing') throw new Error(`expected a listing, got ${answer.kind}: ${answer.message}`);
  return answer.listing.addresses;
}

const ALL: FeedRequest = { hosts: null, labels: {}, families: null };

describe('AddressFeed', () => {
  let clock = 1_000_000 * s;
  const now = (): number => clock;
  beforeEach(() => {
    clock = 1_000_000 * s;
  });

  it('serves nothing before the first round of every target of the list: never an empty list by accident', async () => {
    const h = await harness({ now });
    const first = h.feed.answer({ list: 'chainguard' });
    expect(first).toEqual({
      kind: 'not-ready',
      message:
        'not ready: waiting for the first round of 2 of the 2 targets of this list (cgr.dev:443, apk.cgr.dev:443); the feed is kept in memory only (no --storage.path), so it starts empty after a restart',
    });
    h.put('cgr.dev', answer(R1, { addresses: ['104.16.2.1'] }, { addresses: ['2606:4700::1'] }));
    expect(h.feed.answer({ list: 'chainguard' })).toMatchObject({ kind: 'not-ready', message: expect.stringContaining('1 of the 2 targets of this list (apk.cgr.dev:443)') as unknown });
    // A list of cgr.dev alone is ready.
    expect(h.text({ list: 'v6-only' })).toBe('2606:4700::1');
    h.put('apk.cgr.dev', answer(R1, { reason: 'nxdomain' }));
    expect(h.text({ list: 'chainguard' })).toBe('104.16.2.1 2606:4700::1');
  });

  it('never lists a sinkholed answer; a resolver that does not answer holds what it answered before', async () => {
    const h = await harness({ now });
    h.put('cgr.dev', answer(R1, { addresses: ['104.16.2.1'] }), answer(R2, { reason: 'sinkholed', addresses: ['0.0.0.0'] }));
    expect(h.text({ hosts: ['cgr.dev'], labels: {}, families: null })).toBe('104.16.2.1');
    clock += 30 * s;
    h.put('cgr.dev', answer(R1, { reason: 'timeout' }), answer(R2, { reason: 'sinkholed', addresses: ['0.0.0.0'] }));
    // Long past last seen + TTL + refresh + grace (150 s): held, since R1 has not answered since.
    clock += 3600 * s;
    h.put('cgr.dev', answer(R1, { reason: 'servfail' }), answer(R2, { reason: 'sinkholed', addresses: ['0.0.0.0'] }));
    expect(h.text({ hosts: ['cgr.dev'], labels: {}, families: ['v4'] })).toBe('104.16.2.1');
    // A check past its deadline comes back without records: held too.
    clock += 30 * s;
    h.put('cgr.dev', { ok: false, reason: 'timeout', resolver: R1, records: [], cnameChain: [], durationSeconds: 10 });
    expect(h.text({ hosts: ['cgr.dev'], labels: {}, families: ['v4'] })).toBe('104.16.2.1');
    // R1 answers again, with another address: the old one ages from the last round that held it.
    clock += 30 * s;
    const heldAt = clock - 30 * s;
    h.put('cgr.dev', answer(R1, { addresses: ['104.16.9.9'] }));
    expect(h.text({ hosts: ['cgr.dev'], labels: {}, families: ['v4'] })).toBe('104.16.2.1 104.16.9.9');
    clock = heldAt + (60 + 60 + 30) * s;
    expect(h.text({ hosts: ['cgr.dev'], labels: {}, families: ['v4'] })).toBe('104.16.9.9');
  });

  it('keeps an address for the TTL a caching resolver was configured with, not the countdown it answered', async () => {
    const h = await harness({ now });
    const judgement: DnsRecordJudgement = { resolver: R1, type: 'A', family: 'v4', ttlMax: 300, ttlChanged: false, addressesChanged: false };
    h.store.put(report(h.target('apk.cgr.dev'), clock, [answer(R1, { addresses: ['104.16.2.1'], ttl: 5 })], [judgement]));
    const listing = h.feed.answer({ hosts: ['apk.cgr.dev'], labels: {}, families: null });
    expect(listing.kind === 'listing' && listing.listing.sightings[0]).toMatchObject({ ttlSeconds: 300, expiresAtMs: clock + (300 + 60 + 30) * s });
  });

  it('lists only the resolvers chosen for the feed, after a reload too', async () => {
    const h = await harness({ now });
    h.put('apk.cgr.dev', answer(R1, { addresses: ['104.16.2.1'] }), answer(R2, { addresses: ['198.51.100.7'] }));
    expect(h.text({ hosts: ['apk.cgr.dev'], labels: {}, families: null })).toBe('104.16.2.1 198.51.100.7');
    h.feed.configure(parseConfig(CONFIG.replace('feed:\n', `feed:\n  resolvers: ["${R2}"]\n`), 'egress.yml'));
    expect(h.text({ hosts: ['apk.cgr.dev'], labels: {}, families: null })).toBe('198.51.100.7');
  });

  it('chooses targets by host and label, and says which parameter names nothing', async () => {
    const h = await harness({ now });
    h.put('cgr.dev', answer(R1, { addresses: ['104.16.2.1'] }, { addresses: ['2606:4700::1'] }));
    h.put('apk.cgr.dev', answer(R1, { addresses: ['104.16.3.1'] }));
    h.put('other.example', answer(R1, { addresses: ['198.51.100.1'] }));
    expect(h.text({ hosts: null, labels: { team: 'platform' }, families: ['v4'] })).toBe('104.16.2.1 104.16.3.1');
    // A target that is an IP address is listed as it is.
    expect(h.text(ALL)).toBe('104.16.2.1 104.16.3.1 192.0.2.50 198.51.100.1 2606:4700::1');
    expect(h.feed.answer({ hosts: ['nope.example'], labels: {}, families: null })).toEqual({ kind: 'bad-request', parameter: 'host', message: '"nope.example" is not the host of any target' });
    expect(h.feed.answer({ hosts: null, labels: { team: 'platfrom' }, families: null })).toEqual({ kind: 'bad-request', parameter: 'label', message: 'no target has team:platfrom' });
    expect(h.feed.answer({ hosts: ['other.example'], labels: { team: 'platform' }, families: null })).toEqual({
      kind: 'bad-request',
      parameter: 'label',
      message: 'no target of the hosts given has team:platform',
    });
    expect(h.feed.answer({ list: 'nope' })).toEqual({ kind: 'no-such-list', message: 'no list named "nope": feed.lists has chainguard, v6-only' });
  });

  it('says when a list is over feed.max_addresses, and still gives it (the route refuses it whole)', async () => {
    const h = await harness({ now });
    h.put('cgr.dev', answer(R1, { addresses: ['104.16.2.1', '104.16.2.2'] }, { addresses: ['2606:4700::1', '2606:4700::2'] }));
    h.put('apk.cgr.dev', answer(R1, { addresses: ['104.16.3.1'] }));
    const over = h.feed.answer({ list: 'chainguard' });
    expect(over).toMatchObject({ kind: 'listing', size: { addresses: 5 }, overLimit: 'the list would hold 5 addresses, more than feed.max_addresses (3)' });
  });

  it('forgets a target that leaves the config', async () => {
    const h = await harness({ now });
    h.put('cgr.dev', answer(R1, { reason: 'nxdomain' }, { reason: 'nxdomain' }));
    h.put('apk.cgr.dev', answer(R1, { reason: 'nxdomain' }));
    h.put('other.example', answer(R1, { addresses: ['198.51.100.1'] }));
    expect(h.text(ALL)).toBe('192.0.2.50 198.51.100.1');
    h.store.setTargets(resolveTargets(parseConfig(CONFIG, 'egress.yml')).filter((t) => t.host !== 'other.example'));
    expect(h.text(ALL)).toBe('192.0.2.50');
  });

  describe('series of the named lists', () => {
    beforeEach(() => {
      vi.useFakeTimers({ now: 1_000_000 * s });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('follow the list as rounds come in and at each expiry: size, over the limit, last change', async () => {
      const h = await harness({ now: Date.now });
      const start = Date.now();
      expect(h.feed.statistics().lists).toEqual([
        { name: 'chainguard', addresses: 0, bytes: 0, lastChangeMs: start, overLimit: false },
        { name: 'v6-only', addresses: 0, bytes: 0, lastChangeMs: start, overLimit: false },
      ]);
      await vi.advanceTimersByTimeAsync(10 * s);
      const seen = Date.now();
      h.put('cgr.dev', answer(R1, { addresses: ['104.16.2.1', '104.16.2.2'] }, { addresses: ['2606:4700::1'] }));
      h.put('apk.cgr.dev', answer(R1, { addresses: ['104.16.3.1'] }));
      expect(h.feed.statistics().lists).toEqual([
        { name: 'chainguard', addresses: 4, bytes: 11 + 11 + 11 + 13, lastChangeMs: seen, overLimit: true },
        { name: 'v6-only', addresses: 1, bytes: 13, lastChangeMs: seen, overLimit: false },
      ]);
      // The same answers again: no change. An address another target also brings: no change either.
      await vi.advanceTimersByTimeAsync(30 * s);
      h.put('apk.cgr.dev', answer(R1, { addresses: ['104.16.3.1', '104.16.2.1'] }));
      expect(h.feed.statistics().lists[0]).toMatchObject({ addresses: 4, lastChangeMs: seen });
      // cgr.dev's answers expire at its round + 60 + 60 + 30 s; apk.cgr.dev still brings 104.16.2.1.
      await vi.advanceTimersByTimeAsync(seen + 150 * s - Date.now());
      expect(h.feed.statistics().lists).toEqual([
        { name: 'chainguard', addresses: 2, bytes: 22, lastChangeMs: seen + 150 * s, overLimit: false },
        { name: 'v6-only', addresses: 0, bytes: 0, lastChangeMs: seen + 150 * s, overLimit: false },
      ]);
      // A reload that changes nothing of a list keeps its last change.
      h.feed.configure(parseConfig(CONFIG.replace('max_addresses: 3', 'max_addresses: 1'), 'egress.yml'));
      expect(h.feed.statistics().lists[0]).toEqual({ name: 'chainguard', addresses: 2, bytes: 22, lastChangeMs: seen + 150 * s, overLimit: true });
      await h.feed.close();
    });
  });

  describe('across a restart', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'egress-feed-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    async function firstRun(): Promise<void> {
      const h = await harness({ now, storage: await StateStorage.open(dir) });
      h.put('cgr.dev', answer(R1, { addresses: ['104.16.2.1'] }, { addresses: ['2606:4700::1'] }));
      h.put('apk.cgr.dev', answer(R1, { addresses: ['104.16.3.1'] }));
      await h.feed.close();
      expect(h.feed.statistics().savedAtMs).toBe(clock);
    }

    it('serves the saved list at once, before any round, while it is within its retention', async () => {
      await firstRun();
      clock += 100 * s;
      const h = await harness({ now, storage: await StateStorage.open(dir) });
      expect(h.text({ list: 'chainguard' })).toBe('104.16.2.1 104.16.3.1 2606:4700::1');
      expect(h.feed.statistics().savedAtMs).toBe(clock - 100 * s);
    });

    it('drops what is past its retention on load, and waits for the first round of a target left with nothing', async () => {
      await firstRun();
      const h0 = await harness({ now, storage: await StateStorage.open(dir) });
      // A round of apk.cgr.dev alone, later: its address is newer than cgr.dev's.
      clock += 100 * s;
      h0.put('apk.cgr.dev', answer(R1, { addresses: ['104.16.3.1'] }));
      await h0.feed.close();
      clock += 100 * s;
      const h = await harness({ now, storage: await StateStorage.open(dir) });
      const answerNow = h.feed.answer({ list: 'chainguard' });
      expect(answerNow.kind).toBe('not-ready');
      expect(answerNow.kind === 'not-ready' && answerNow.message).toMatch(
        /^not ready: waiting for the first round of 1 of the 2 targets of this list \(cgr\.dev:443\); the saved state \(saved .*\) holds no address within its retention for them$/,
      );
      expect(h.text({ hosts: ['apk.cgr.dev'], labels: {}, families: null })).toBe('104.16.3.1');
    });

    it('a state file that is not whole is refused, and the feed waits for its first rounds', async () => {
      await firstRun();
      await writeFile(join(dir, STATE_FILE_NAME), '{"format":"egress-exporter-feed","version":1,"savedAtMs":1,"targets":[{"key":"cgr.d');
      const h = await harness({ now, storage: await StateStorage.open(dir) });
      const answerNow = h.feed.answer({ list: 'chainguard' });
      expect(answerNow.kind === 'not-ready' && answerNow.message).toContain(`the saved state in ${join(dir, STATE_FILE_NAME)} is unusable (not JSON (`);
    });

    it('drops the saved addresses of a target no longer configured', async () => {
      await firstRun();
      const config = parseConfig(CONFIG.replace('  - { host: apk.cgr.dev, labels: { team: platform } }\n', '').replace('hosts: [cgr.dev, apk.cgr.dev]', 'hosts: [cgr.dev]'), 'egress.yml');
      const h = await harness({ now, config, storage: await StateStorage.open(dir) });
      expect(h.text({ hosts: ['cgr.dev', '192.0.2.50'], labels: {}, families: null })).toBe('104.16.2.1 192.0.2.50 2606:4700::1');
      expect(h.feed.answer({ hosts: ['apk.cgr.dev'], labels: {}, families: null })).toMatchObject({ kind: 'bad-request', parameter: 'host' });
    });
  });
});
