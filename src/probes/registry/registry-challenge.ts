// WWW-Authenticate challenges (RFC 9110 11.6.1), as registries send them:
//   Bearer realm="https://cgr.dev/token",service="cgr.dev",scope="repository:x:pull"
//   Basic realm="Registry Realm"
// Several challenges may share one header, separated by commas, and a response may
// carry several headers. Scheme and parameter names are case-insensitive; they come
// back lower-cased. Unparsable rest is dropped: the caller only looks for bearer
// and basic.

export interface AuthChallenge {
  /** Lower-cased, e.g. 'bearer'. */
  scheme: string;
  /** Lower-cased names; values unquoted. */
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
const MAX_HEADER_CHARS = 8192;

export function parseWwwAuthenticate(header: string | readonly string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  if (typeof header !== 'string') return header.flatMap((h) => parseWwwAuthenticate(h));
  const text = header.slice(0, MAX_HEADER_CHARS);
  const out: AuthChallenge[] = [];
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < text.length && chars.test(text[i]!)) i++;
  };
  const token = (): string => {
    const from = i;
    while (i < text.length && TOKEN_CHAR.test(text[i]!)) i++;
    return text.slice(from, i);
  };
  /** An unquoted value: a token by the RFC, but servers send URLs unquoted too. */
  const bare = (): string => {
    const from = i;
    while (i < text.length && !/[\s,]/.test(text[i]!)) i++;
    return text.slice(from, i);
  };
  const quoted = (): string => {
    // at the opening quote
    i++;
    let value = '';
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\' && i + 1 < text.length) i++;
      value += text[i];
      i++;
    }
    i++; // closing quote
    return value;
  };
  /** At a `name = value` pair (not the start of the next challenge)? */
  const atParam = (): boolean => {
    const save = i;
    const name = token();
    skip(/[ \t]/);
    const isParam = name !== '' && text[i] === '=';
    i = save;
    return isParam;
  };

  while (i < text.length) {
    skip(/[\s,]/);
    const scheme = token();
    if (scheme === '') break;
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    skip(/[ \t]/);
    while (i < text.length && atParam()) {
      const name = token().toLowerCase();
      skip(/[ \t]/);
      i++; // '='
      skip(/[ \t]/);
      const value = text[i] === '"' ? quoted() : bare();
      if (!(name in challenge.params)) challenge.params[name] = value;
      skip(/[ \t]/);
      if (text[i] !== ',') {
        // Junk after a value: drop it, up to the next comma.
        while (i < text.length && text[i] !== ',') i++;
        break;
      }
      i++;
      skip(/[\s,]/);
    }
  }
  return out;
}
