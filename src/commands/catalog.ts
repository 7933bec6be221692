// `egress-exporter catalog`: prints a built-in catalog's hosts for firewall and
// proxy allowlists, or what changed between two catalogs.
//
//   catalog [--catalog NAME] [--format list|json|csv] [--diff OTHER]
//
// Exit codes: 0 printed, 2 usage error (unknown flag, format or catalog).
import { oneOf, parseCommandLine, UsageError } from './flags.js';
import { CATALOG_NAMES, getCatalog } from '../catalog/index.js';
import { hostPort } from '../host-port.js';
import type { CatalogHost, CatalogName } from '../catalog/index.js';

export const CATALOG_FORMATS = ['list', 'json', 'csv'] as const;
export type CatalogFormat = (typeof CATALOG_FORMATS)[number];

const USAGE = `usage: egress-exporter catalog [--catalog NAME] [--format FORMAT] [--diff OTHER]

Prints the hosts of a built-in catalog, for firewall and proxy allowlists, or
what changed from catalog OTHER to catalog NAME.

Flags:
  --catalog=NAME    ${CATALOG_NAMES.join(', ')} (default "chainguard")
  --format=FORMAT   list (one host:port a line), json, or csv (default "list");
                    with --diff: list or json
  --diff=OTHER      show the hosts added, removed and changed since catalog OTHER
  -h, --help        print this help and exit
`;

/** One host as printed by --format json. */
export interface CatalogEntry {
  host: string;
  port: number;
  families: string[];
  purpose: string;
  group: string;
  wildcard: boolean;
}

/** A field of a host that differs between two catalogs. */
export interface CatalogChange {
  field: 'port' | 'families' | 'purpose' | 'group';
  from: string | number | string[];
  to: string | number | string[];
}

export interface CatalogDiff {
  /** In NAME, not in OTHER (in NAME's order). */
  added: CatalogEntry[];
  /** In OTHER, not in NAME (in OTHER's order). */
  removed: CatalogEntry[];
  /** In both, with different fields (in NAME's order). */
  changed: Array<{ host: string; changes: CatalogChange[] }>;
}

export function toEntry(host: CatalogHost): CatalogEntry {
  return { host: host.host, port: host.port, families: [...host.families], purpose: host.purpose, group: host.group, wildcard: host.wildcard === true };
}

/** A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function formatHosts(hosts: readonly CatalogHost[], format: CatalogFormat): string {
  switch (format) {
    case 'list':
      return hosts.map((h) => `${hostPort(h.host, h.port)}\n`).join('');
    case 'json':
      return `${JSON.stringify(hosts.map(toEntry), null, 2)}\n`;
    case 'csv':
      return ['host,port,families,purpose,group', ...hosts.map((h) => [h.host, h.port, h.families.join(' '), h.purpose, h.group].map(csvField).join(','))]
        .map((line) => `${line}\n`)
        .join('');
  }
}

/** What changed from `from` to `to`, hosts matched by name. */
export function diffCatalogs(from: readonly CatalogHost[], to: readonly CatalogHost[]): CatalogDiff {
  const before = new Map(from.map((h) => [h.host, h]));
  const after = new Map(to.map((h) => [h.host, h]));
  const changed: CatalogDiff['changed'] = [];
  for (const host of to) {
    const old = before.get(host.host);
    if (old === undefined) continue;
    const changes: CatalogChange[] = [];
    if (old.port !== host.port) changes.push({ field: 'port', from: old.port, to: host.port });
    if (old.families.join(',') !== host.families.join(',')) changes.push({ field: 'families', from: [...old.families], to: [...host.families] });
    if (old.purpose !== host.purpose) changes.push({ field: 'purpose', from: old.purpose, to: host.purpose });
    if (old.group !== host.group) changes.push({ field: 'group', from: old.group, to: host.group });
    if (changes.length > 0) changed.push({ host: host.host, changes });
  }
  return {
    added: to.filter((h) => !before.has(h.host)).map(toEntry),
    removed: from.filter((h) => !after.has(h.host)).map(toEntry),
    changed,
  };
}

function showValue(field: CatalogChange['field'], value: CatalogChange['from']): string {
  if (Array.isArray(value)) return value.join(',');
  return field === 'purpose' ? JSON.stringify(value) : String(value);
}

/** `+ host`, `- host`, then `~ host: field a -> b`, one line per changed field. */
export function formatDiff(diff: CatalogDiff, format: 'list' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(diff, null, 2)}\n`;
  const lines = [
    ...diff.added.map((h) => `+ ${h.host}`),
    ...diff.removed.map((h) => `- ${h.host}`),
    ...diff.changed.flatMap(({ host, changes }) => changes.map((c) => `~ ${host}: ${c.field} ${showValue(c.field, c.from)} -> ${showValue(c.field, c.to)}`)),
  ];
  return lines.map((line) => `${line}\n`).join('');
}

export async function runCatalogCommand(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  let name: CatalogName;
  let format: CatalogFormat;
  let other: CatalogName | undefined;
  try {
    const values = parseCommandLine(argv, {
      catalog: { type: 'string', default: 'chainguard' },
      format: { type: 'string', default: 'list' },
      diff: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    });
    if (values.help) {
      await write(out, USAGE);
      return 0;
    }
    name = oneOf('catalog', values.catalog, CATALOG_NAMES);
    format = oneOf('format', values.format, CATALOG_FORMATS);
    other = values.diff === undefined ? undefined : oneOf('diff', values.diff, CATALOG_NAMES);
    if (other !== undefined && format === 'csv') throw new UsageError('--format: with --diff, expected one of list, json, got "csv"');
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    await write(err, `egress-exporter catalog: ${error.message}\n\n${USAGE}`);
    return 2;
  }

  const hosts = getCatalog(name).hosts;
  if (other === undefined) await write(out, formatHosts(hosts, format));
  else await write(out, formatDiff(diffCatalogs(getCatalog(other).hosts, hosts), format === 'json' ? 'json' : 'list'));
  return 0;
}

/** Writes and waits for the stream to take it, so a caller may exit right after. */
function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((done, fail) => {
    stream.write(text, (error?: Error | null) => (error ? fail(error) : done()));
  });
}
