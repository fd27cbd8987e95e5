// Cuts a top-level member out of JSON text without re-serializing it, so every other byte stays as it was sent.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isWhitespace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

const skipWhitespace = (text: string, from: number): number => {
  let i = from;
  while (i < text.length && isWhitespace(text.charCodeAt(i))) i += 1;
  return i;
};

const expect = (text: string, at: number, char: string): void => {
  if (text[at] !== char) throw new Error(`expected ${JSON.stringify(char)} at offset ${at}`);
};

/** Offset just after the JSON string that opens at `start`: the first quote not escaped by a backslash. */
const stringEnd = (text: string, start: number): number => {
  let quote = text.indexOf('"', start + 1);
  while (quote !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return quote + 1;
    quote = text.indexOf('"', quote + 1);
  }
  throw new Error(`unterminated string at offset ${start}`);
};

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

/** Offset just after the JSON value that starts at `start`. */
const valueEnd = (text: string, start: number): number => {
  const first = text.charCodeAt(start);
  if (first === QUOTE) return stringEnd(text, start);
  if (first === OPEN_OBJECT || first === OPEN_ARRAY) {
    let depth = 0;
    for (let i = start; i < text.length; i += 1) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) i = stringEnd(text, i) - 1;
      else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth += 1;
      else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        depth -= 1;
        if (depth === 0) return i + 1;
      }
    }
    throw new Error(`unterminated value at offset ${start}`);
  }
  // A number, true, false or null: it runs to the next separator.
  let i = start;
  for (; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (isWhitespace(c) || c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY) break;
  }
  return i;
};

interface Member {
  readonly start: number;
  readonly end: number;
  readonly cut: boolean;
}

/**
 * The JSON text of an object without its top-level member `name` (every one, if the key repeats), each cut with
 * one separator beside it; the rest is kept byte for byte, so numbers JSON.parse would round survive. A key
 * spelled with escapes (`"tok\u0065n"`) is the same key, as JSON.parse reads it. `json` must already have parsed
 * as an object: the scanner trusts its syntax.
 */
export const withoutTopLevelMember = (json: string, name: string): string => {
  let i = skipWhitespace(json, 0);
  expect(json, i, '{');
  i = skipWhitespace(json, i + 1);
  const members: Member[] = [];
  while (json[i] !== '}') {
    const keyEnd = stringEnd(json, i);
    const rawKey = json.slice(i + 1, keyEnd - 1);
    const key = rawKey.includes('\\') ? (JSON.parse(json.slice(i, keyEnd)) as string) : rawKey;
    let next = skipWhitespace(json, keyEnd);
    expect(json, next, ':');
    const end = valueEnd(json, skipWhitespace(json, next + 1));
    members.push({ start: i, end, cut: key === name });
    next = skipWhitespace(json, end);
    i = json[next] === ',' ? skipWhitespace(json, next + 1) : next;
  }
  const first = members[0];
  const last = members.at(-1);
  if (first === undefined || last === undefined || !members.some((m) => m.cut)) return json;

  // Each kept member after the first kept one takes the separator that preceded it in the original.
  let out = json.slice(0, first.start);
  let keptOne = false;
  members.forEach((member, k) => {
    if (member.cut) return;
    const previous = members[k - 1];
    if (keptOne && previous !== undefined) out += json.slice(previous.end, member.start);
    out += json.slice(member.start, member.end);
    keptOne = true;
  });
  return out + json.slice(last.end);
};
