import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { getCatalog } from '../catalog/index.js';
import { csvField, runCatalogCommand } from './catalog.js';
import type { CatalogDiff, CatalogEntry } from './catalog.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let outText = '';
  let errText = '';
  out.on('data', (chunk: Buffer) => (outText += chunk.toString('utf8')));
  err.on('data', (chunk: Buffer) => (errText += chunk.toString('utf8')));
  const code = await runCatalogCommand(argv, out, err);
  return { code, out: outText, err: errText };
}

describe('catalog', () => {
  it('lists host:port lines of the chainguard catalog by default', async () => {
    expect(await run()).toEqual({
      code: 0,
      err: '',
      out: [
        'cgr.dev:443',
        'console.chainguard.dev:443',
        'data.chainguard.dev:443',
        'console-api.enforce.dev:443',
        'enforce.dev:443',
        'dl.enforce.dev:443',
        'issuer.enforce.dev:443',
        'apk.cgr.dev:443',
        'virtualapk.cgr.dev:443',
        'packages.cgr.dev:443',
        'packages.wolfi.dev:443',
        '9236a389bd48b984df91adc1bc924620.r2.cloudflarestorage.com:443',
        'support.chainguard.dev:443',
        '',
      ].join('\n'),
    });
  });

  it('lists wildcard entries as they are listed', async () => {
    const { code, out } = await run('--catalog', 'chainguard-2024');
    expect(code).toBe(0);
    expect(out.split('\n')).toContain('*.r2.cloudflarestorage.com:443');
    expect(out.split('\n')).toHaveLength(getCatalog('chainguard-2024').hosts.length + 1);
  });

  it('prints nothing for the empty catalog', async () => {
    expect(await run('--catalog=none')).toEqual({ code: 0, out: '', err: '' });
  });

  it('prints JSON entries', async () => {
    const { code, out } = await run('--format', 'json', '--catalog', 'chainguard-2024');
    expect(code).toBe(0);
    const entries = JSON.parse(out) as CatalogEntry[];
    expect(entries).toHaveLength(13);
    expect(entries[0]).toEqual({ host: 'cgr.dev', port: 443, families: ['v4'], purpose: 'Main image registry', group: 'chainguard', wildcard: false });
    expect(entries.find((e) => e.host.startsWith('*.'))).toEqual({
      host: '*.r2.cloudflarestorage.com',
      port: 443,
      families: ['v4'],
      purpose: 'Blob storage for cgr.dev',
      group: 'third-party',
      wildcard: true,
    });
  });

  it('prints CSV with a header', async () => {
    const { code, out } = await run('--format=csv');
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines.slice(0, 3)).toEqual(['host,port,families,purpose,group', 'cgr.dev,443,v4,Main container image registry,chainguard', 'console.chainguard.dev,443,v4,Chainguard dashboard,chainguard']);
    expect(lines).toContain('packages.wolfi.dev,443,v4 v6,Package repository (Free containers),chainguard');
    expect(lines.at(-1)).toBe('');
  });

  it('quotes CSV fields with commas, quotes and line breaks', () => {
    expect(csvField('plain text')).toBe('plain text');
    expect(csvField('a, b')).toBe('"a, b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(443)).toBe('443');
  });

  it('shows what changed from 2024 to 2025', async () => {
    expect(await run('--diff', 'chainguard-2024')).toEqual({
      code: 0,
      err: '',
      out: [
        '+ console.chainguard.dev',
        '+ data.chainguard.dev',
        '+ apk.cgr.dev',
        '+ virtualapk.cgr.dev',
        '+ support.chainguard.dev',
        '- console.enforce.dev',
        '- ghcr.io',
        '- *.r2.cloudflarestorage.com',
        '- chainguardhelp.zendesk.com',
        '- storage.googleapis.com',
        '~ cgr.dev: purpose "Main image registry" -> "Main container image registry"',
        '~ packages.cgr.dev: purpose "Package repository (Production Images)" -> "Package repository (Extra packages)"',
        '~ packages.wolfi.dev: families v4 -> v4,v6',
        '~ packages.wolfi.dev: purpose "Package repository (Developer Images)" -> "Package repository (Free containers)"',
        '~ 9236a389bd48b984df91adc1bc924620.r2.cloudflarestorage.com: families v4 -> v4,v6',
        '~ 9236a389bd48b984df91adc1bc924620.r2.cloudflarestorage.com: purpose "Blob storage for cgr.dev" -> "Blob storage for *.cgr.dev"',
        '',
      ].join('\n'),
    });
  });

  it('shows the reverse diff the other way round', async () => {
    const { code, out } = await run('--catalog', 'chainguard-2024', '--diff', 'chainguard');
    expect(code).toBe(0);
    expect(out.split('\n').slice(0, 2)).toEqual(['+ console.enforce.dev', '+ ghcr.io']);
    expect(out).toContain('~ cgr.dev: purpose "Main container image registry" -> "Main image registry"\n');
  });

  it('shows no lines for a catalog against itself', async () => {
    expect(await run('--diff', 'chainguard')).toEqual({ code: 0, out: '', err: '' });
  });

  it('prints the diff as JSON', async () => {
    const { code, out } = await run('--diff', 'chainguard-2024', '--format', 'json');
    expect(code).toBe(0);
    const diff = JSON.parse(out) as CatalogDiff;
    expect(Object.keys(diff)).toEqual(['added', 'removed', 'changed']);
    expect(diff.added.map((e) => e.host)).toEqual(['console.chainguard.dev', 'data.chainguard.dev', 'apk.cgr.dev', 'virtualapk.cgr.dev', 'support.chainguard.dev']);
    expect(diff.added[2]).toEqual({ host: 'apk.cgr.dev', port: 443, families: ['v4'], purpose: 'Package repository', group: 'chainguard', wildcard: false });
    expect(diff.removed.map((e) => e.host)).toEqual(['console.enforce.dev', 'ghcr.io', '*.r2.cloudflarestorage.com', 'chainguardhelp.zendesk.com', 'storage.googleapis.com']);
    expect(diff.changed).toEqual([
      { host: 'cgr.dev', changes: [{ field: 'purpose', from: 'Main image registry', to: 'Main container image registry' }] },
      { host: 'packages.cgr.dev', changes: [{ field: 'purpose', from: 'Package repository (Production Images)', to: 'Package repository (Extra packages)' }] },
      {
        host: 'packages.wolfi.dev',
        changes: [
          { field: 'families', from: ['v4'], to: ['v4', 'v6'] },
          { field: 'purpose', from: 'Package repository (Developer Images)', to: 'Package repository (Free containers)' },
        ],
      },
      {
        host: '9236a389bd48b984df91adc1bc924620.r2.cloudflarestorage.com',
        changes: [
          { field: 'families', from: ['v4'], to: ['v4', 'v6'] },
          { field: 'purpose', from: 'Blob storage for cgr.dev', to: 'Blob storage for *.cgr.dev' },
        ],
      },
    ]);
  });

  it('prints its usage with --help', async () => {
    const { code, out, err } = await run('--help');
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(out).toMatch(/^usage: egress-exporter catalog \[--catalog NAME\] \[--format FORMAT\] \[--diff OTHER\]\n/);
  });

  const USAGE_ERRORS: Array<{ argv: string[]; message: string }> = [
    { argv: ['--format', 'xml'], message: '--format: expected one of list, json, csv, got "xml"' },
    { argv: ['--catalog', 'chainguard-2023'], message: '--catalog: expected one of chainguard, chainguard-2024, none, got "chainguard-2023"' },
    { argv: ['--diff', 'aws'], message: '--diff: expected one of chainguard, chainguard-2024, none, got "aws"' },
    { argv: ['--diff', 'chainguard-2024', '--format', 'csv'], message: '--format: with --diff, expected one of list, json, got "csv"' },
    { argv: ['--bogus'], message: "unknown flag '--bogus'" },
    { argv: ['chainguard'], message: "unexpected argument 'chainguard': this command takes only flags" },
  ];

  it.each(USAGE_ERRORS)('exits 2 on $argv', async ({ argv, message }) => {
    const { code, out, err } = await run(...argv);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.split('\n')[0]).toBe(`egress-exporter catalog: ${message}`);
    expect(err).toContain('usage: egress-exporter catalog');
  });
});
