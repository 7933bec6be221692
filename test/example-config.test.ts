// egress.example.yml "shows every key with comments", and the README's Configuration
// section names every key: held to the schema itself, as metric-coverage holds the README
// to the metrics. The keys are the ones the parser asks for (reader.ts `Fields.at`): it asks
// for every key a mapping may have whether or not the file sets it, so parsing the example
// lists them all, provided the example has an entry of every list.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../src/config/load.js';
import { Fields } from '../src/config/reader.js';

const EXAMPLE = 'egress.example.yml';

/** Keys the example shows commented out only: they exclude or override another key the example sets. */
const COMMENTED: Readonly<Record<string, string>> = {
  schedule: 'cannot be set together with interval',
  'dns.sinkhole_cidrs': 'replaces the built-in sinkhole policy',
  'dns.required': 'forces what is otherwise worked out per target',
  'registries[].docker_config': 'names a file that must exist (--config.check warns otherwise)',
};

/** Every key path the parser reads while parsing `text`: `targets[].http.method`. */
function keysAskedFor(text: string): Set<string> {
  const asked = new Set<string>();
  // The original, called with the instance the spy receives.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const at = Fields.prototype.at;
  vi.spyOn(Fields.prototype, 'at').mockImplementation(function (this: Fields, key: string) {
    asked.add([...this.value.path, key].map((part) => (typeof part === 'number' ? '[]' : `.${part}`)).join('').slice(1));
    return at.call(this, key);
  });
  parseConfig(text, EXAMPLE);
  return asked;
}

/** The values at `path` in a parsed YAML document, through every entry of its lists. */
function valuesAt(doc: unknown, path: string): unknown[] {
  let values: unknown[] = [doc];
  for (const part of path.split('.')) {
    const list = part.endsWith('[]');
    const key = list ? part.slice(0, -2) : part;
    values = values.flatMap((v) => (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.hasOwn(v, key) ? [(v as Record<string, unknown>)[key]] : []));
    if (list) values = values.flatMap((v): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []));
  }
  return values;
}

describe('egress.example.yml', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const text = readFileSync(EXAMPLE, 'utf8');
  const doc: unknown = parse(text);

  it('is a valid config', () => {
    expect(() => parseConfig(text, EXAMPLE)).not.toThrow();
  });

  it('sets every key of the schema, but for the few shown commented out', () => {
    const keys = [...keysAskedFor(text)].sort();
    // The parser must have gone into every list: an empty one hides its entries' keys.
    for (const list of keys.filter((k) => /\[\]\./.test(k)).map((k) => k.slice(0, k.indexOf('[]') + 2))) {
      expect(valuesAt(doc, list).length, `${list}: the example has an entry, so its keys are shown`).toBeGreaterThan(0);
    }
    const missing = keys.filter((key) => !(key in COMMENTED) && valuesAt(doc, key).length === 0);
    expect(missing, 'keys the example does not set').toEqual([]);
    for (const key of Object.keys(COMMENTED)) {
      const leaf = key.split('.').at(-1)!;
      expect(keys, `${key} is still a key`).toContain(key);
      expect(text, `${key} shown commented out`).toMatch(new RegExp(`^\\s*#\\s*${leaf}:`, 'm'));
    }
    // Sanity: the parse saw the whole tree (a failing spy would leave this small).
    expect(keys.length).toBeGreaterThan(50);
  });
});

describe("the README's Configuration section", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('\n## Configuration\n'), readme.indexOf('\n## ', readme.indexOf('\n## Configuration\n') + 5));
  const rows = new Set([...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!));

  it('has a row for every key outside a list, and names every key of a list entry', () => {
    const keys = [...keysAskedFor(readFileSync(EXAMPLE, 'utf8'))];
    const sections = new Set(keys.filter((k) => keys.some((other) => other.startsWith(`${k}.`) && !other.startsWith(`${k}[]`))));
    const plain = keys.filter((k) => !k.includes('[]') && !sections.has(k));
    expect(plain.filter((k) => !rows.has(k)), 'keys without a row').toEqual([]);
    const inLists = keys.filter((k) => k.includes('[]'));
    expect(inLists.filter((k) => !section.includes(`\`${k.split(/[.\]]/).at(-1)!}\``)), 'list entry keys the section never names').toEqual([]);
    // And no row for a key that does not exist.
    expect([...rows].filter((row) => !keys.includes(row)), 'rows of no key').toEqual([]);
  });
});
