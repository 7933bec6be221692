// /addresses and /addresses/<list>: the address feed for IP-based firewalls.
//
//   /addresses?host=H&host=H2&label=team:platform&family=v4   a list of your own
//   /addresses/<name>                                        a list of feed.lists
//   ...&format=text|json|nft  &comments=true  &table=T&set=S (nft)
//
// Answers: 200 with the list; 400 naming the parameter that is wrong; 404 for a list
// that is not configured; 503 with the reason while the list could be served empty or
// short (the first round is not in, and no saved state is fresh enough), or when a
// firewall format would exceed feed.max_addresses or feed.max_bytes (never cut short).
import type express from 'express';
import type { FeedAnswer, FeedRequest } from '../feed/address-feed.js';
import { renderJson } from '../feed/json-format.js';
import { NFT_NAME_RE, renderNft } from '../feed/nft-format.js';
import { renderText } from '../feed/text-format.js';
import { normaliseHost } from '../host-port.js';
import { FAMILIES } from '../model/types.js';
import type { Family } from '../model/types.js';

export interface AddressesRouteDeps {
  answer(request: FeedRequest): FeedAnswer;
}

const FORMATS = ['text', 'json', 'nft'] as const;
type Format = (typeof FORMATS)[number];

const EVERY_LIST = ['format', 'comments', 'table', 'set'];
const QUERY_ONLY = ['host', 'label', 'family'];
/** A firewall that finds the list not ready tries again this much later. */
const RETRY_AFTER_SECONDS = 10;
const DEFAULT_TABLE = 'egress';
const DEFAULT_SET = 'egress';

class BadParameter extends Error {}

/** A parameter's values as given, in order (a repeated one has several). */
function valuesOf(query: unknown, name: string): string[] {
  const value = (query as Record<string, unknown>)[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => (typeof v === 'string' ? v : String(v)));
}

function once(query: unknown, name: string): string | undefined {
  const values = valuesOf(query, name);
  if (values.length > 1) throw new BadParameter(`${name}: given ${values.length} times, expected once`);
  return values[0];
}

function enumeration<T extends string>(name: string, text: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(text)) return text as T;
  const wanted = allowed.length === 2 ? `${allowed[0]} or ${allowed[1]}` : `${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}`;
  throw new BadParameter(`${name}: expected ${wanted}, got ${JSON.stringify(text)}`);
}

interface Parsed {
  request: FeedRequest;
  format: Format;
  comments: boolean;
  table: string;
  set: string;
  /** Shown in comments: the list's name, or the query. */
  title: string;
}

function parse(req: express.Request): Parsed {
  const list = typeof req.params.list === 'string' ? req.params.list : undefined;
  const allowed = list === undefined ? [...QUERY_ONLY, ...EVERY_LIST] : EVERY_LIST;
  for (const name of Object.keys(req.query)) {
    if (allowed.includes(name)) continue;
    if (list !== undefined && QUERY_ONLY.includes(name)) {
      throw new BadParameter(`${name}: not with a named list, whose targets come from feed.lists in the config; /addresses?${name}=... makes a list of your own`);
    }
    throw new BadParameter(`unknown parameter ${JSON.stringify(name)}: ${list === undefined ? '/addresses' : '/addresses/<list>'} takes ${allowed.join(', ')}`);
  }
  const format = enumeration('format', once(req.query, 'format') ?? 'text', FORMATS);
  const commentsText = once(req.query, 'comments');
  const comments = commentsText === undefined ? false : enumeration('comments', commentsText, ['true', 'false'] as const) === 'true';
  const nftName = (name: 'table' | 'set', fallback: string): string => {
    const text = once(req.query, name);
    if (text === undefined) return fallback;
    if (format !== 'nft') throw new BadParameter(`${name}: only with format=nft`);
    if (!NFT_NAME_RE.test(text)) throw new BadParameter(`${name}: expected a name of up to 64 letters, digits, '_' or '-', starting with a letter, got ${JSON.stringify(text)}`);
    return text;
  };
  const table = nftName('table', DEFAULT_TABLE);
  const set = nftName('set', list ?? DEFAULT_SET);
  if (list !== undefined) return { request: { list }, format, comments, table, set, title: `list ${list}` };

  const hosts = valuesOf(req.query, 'host').map((text) => {
    const host = normaliseHost(text);
    if (host === null) throw new BadParameter(`host: expected a host name or IP address, got ${JSON.stringify(text)}`);
    return host;
  });
  const labels: Record<string, string> = {};
  for (const text of valuesOf(req.query, 'label')) {
    const colon = text.indexOf(':');
    if (colon <= 0) throw new BadParameter(`label: expected name:value, got ${JSON.stringify(text)}`);
    const name = text.slice(0, colon);
    if (Object.hasOwn(labels, name)) throw new BadParameter(`label: ${name} given twice (a target has one value of each label)`);
    labels[name] = text.slice(colon + 1);
  }
  const familyValues = valuesOf(req.query, 'family').map((text) => enumeration('family', text, FAMILIES));
  const families: Family[] | null = familyValues.length === 0 ? null : FAMILIES.filter((f) => familyValues.includes(f));
  const shown = new URLSearchParams([
    ...hosts.map((h): [string, string] => ['host', h]),
    ...Object.entries(labels).map(([n, v]): [string, string] => ['label', `${n}:${v}`]),
    ...familyValues.map((f): [string, string] => ['family', f]),
  ]);
  const title = shown.size === 0 ? 'every target' : shown.toString();
  return { request: { hosts: hosts.length === 0 ? null : hosts, labels, families }, format, comments, table, set, title };
}

export function addressesRoute(deps: AddressesRouteDeps): express.RequestHandler {
  return (req, res) => {
    // A firewall's copy must be this moment's list, never a cache's.
    res.set('Cache-Control', 'no-store');
    let parsed: Parsed;
    try {
      parsed = parse(req);
    } catch (error) {
      if (!(error instanceof BadParameter)) throw error;
      res.status(400).type('text/plain').send(`${error.message}\n`);
      return;
    }
    const answer = deps.answer(parsed.request);
    switch (answer.kind) {
      case 'bad-request':
        res.status(400).type('text/plain').send(`${answer.parameter}: ${answer.message}\n`);
        return;
      case 'no-such-list':
        res.status(404).type('text/plain').send(`${answer.message}\n`);
        return;
      case 'not-ready':
        res.status(503).set('Retry-After', String(RETRY_AFTER_SECONDS)).type('text/plain').send(`${answer.message}\n`);
        return;
      case 'listing':
        break;
    }
    const comments = parsed.comments ? { title: parsed.title, generatedAtMs: answer.generatedAtMs } : null;
    if (parsed.format === 'json') {
      const { list, size, limits, overLimit, generatedAtMs } = answer;
      res.type('application/json').send(renderJson(answer.listing, { list, generatedAtMs, size, limits, overLimit }));
      return;
    }
    // A firewall format over a limit is refused whole: the firewall keeps the list it has.
    if (answer.overLimit !== null) {
      res
        .status(503)
        .type('text/plain')
        .send(`refused: ${answer.overLimit}; a firewall list is never cut short, so the firewall keeps the list it has (format=json shows this one)\n`);
      return;
    }
    if (parsed.format === 'nft') res.type('text/plain').send(renderNft(answer.listing, { table: parsed.table, set: parsed.set, families: answer.families }, comments));
    else res.type('text/plain').send(renderText(answer.listing, comments));
  };
}
