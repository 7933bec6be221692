import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { renderNft } from './nft-format.js';
import type { Listing, ListedSighting } from './selection.js';

const seen = (address: string, host: string): ListedSighting => ({
  address,
  family: address.includes(':') ? 'v6' : 'v4',
  host,
  port: 443,
  resolver: 'system',
  firstSeenMs: 0,
  lastSeenMs: 0,
  ttlSeconds: 60,
  expiresAtMs: 60_000,
  held: false,
});

function listing(...entries: Array<[string, string]>): Listing {
  return { addresses: entries.map(([a]) => a), sightings: entries.map(([a, h]) => seen(a, h)), nextExpiryMs: 60_000 };
}

/**
 * Runs the scripts one after another with the real nft in a network namespace of its own
 * (unshare -n: nothing of this machine's rules is touched), then lists the ruleset.
 * `nft` is in scripts/ensure-tools.mjs.
 */
function nftRun(...scripts: string[]): { status: number | null; out: string; err: string } {
  const files = scripts.map((_, i) => `"$${i + 1}"`);
  const shell = `for f in ${files.join(' ')}; do printf '%s' "$f" | nft -f - || echo "nft -f failed" >&2; done; nft list ruleset`;
  const result = spawnSync('unshare', ['-n', 'sh', '-c', shell, 'sh', ...scripts], { encoding: 'utf8' });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, out: result.stdout, err: result.stderr };
}

describe('renderNft', () => {
  const LIST = listing(['104.16.2.1', 'cgr.dev'], ['104.16.10.1', 'apk.cgr.dev'], ['2606:4700::1', 'cgr.dev']);

  it('declares a set per family, flushes it and fills it: one nft -f, one transaction', () => {
    expect(renderNft(LIST, { table: 'filter', set: 'chainguard', families: ['v4', 'v6'] }, null)).toBe(
      [
        'table inet filter {',
        '\tset chainguard_v4 {',
        '\t\ttype ipv4_addr',
        '\t}',
        '\tset chainguard_v6 {',
        '\t\ttype ipv6_addr',
        '\t}',
        '}',
        'flush set inet filter chainguard_v4',
        'add element inet filter chainguard_v4 {',
        '\t104.16.2.1,',
        '\t104.16.10.1',
        '}',
        'flush set inet filter chainguard_v6',
        'add element inet filter chainguard_v6 {',
        '\t2606:4700::1',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('loads into nftables, and a later script replaces the set whole', () => {
    const first = renderNft(LIST, { table: 'fw', set: 'egress', families: ['v4', 'v6'] }, { title: 'list chainguard', generatedAtMs: 0 });
    const later = renderNft(listing(['104.16.10.1', 'apk.cgr.dev']), { table: 'fw', set: 'egress', families: ['v4', 'v6'] }, null);
    const run = nftRun(first, later);
    expect(run.err).toBe('');
    expect(run.out).toMatch(/set egress_v4 \{\n\t\ttype ipv4_addr\n\t\telements = \{ 104\.16\.10\.1 \}\n\t\}/);
    // The v6 set is emptied: an empty list is a flush with nothing added.
    expect(run.out).toMatch(/set egress_v6 \{\n\t\ttype ipv6_addr\n\t\}/);
  });

  it('a script nft refuses changes nothing: the set keeps what the last good one loaded', () => {
    const good = renderNft(LIST, { table: 'fw', set: 'egress', families: ['v4'] }, null);
    const bad = good.replace('104.16.10.1', '104.16.10.300');
    const run = nftRun(good, bad);
    expect(run.err).toContain('nft -f failed');
    expect(run.out).toContain('elements = { 104.16.2.1, 104.16.10.1 }');
  });

  it('with comments: a header and the hosts above each element, which nft ignores', () => {
    const text = renderNft(LIST, { table: 'fw', set: 'egress', families: ['v4'] }, { title: 'list chainguard', generatedAtMs: 0 });
    expect(text).toContain('# egress-exporter address feed: list chainguard: 3 addresses at 1970-01-01T00:00:00.000Z\n');
    expect(text).toContain('\t# apk.cgr.dev\n\t104.16.10.1\n');
    expect(text).not.toContain('_v6');
    expect(nftRun(text).out).toContain('elements = { 104.16.2.1, 104.16.10.1 }');
  });
});
