/**
 * A tokenizer for the data of one untagged FETCH response, as imapflow's
 * line reader hands it over: the line's bytes with each literal's `{n}\r\n`
 * marker left in place, and the literals' contents apart, in order.
 *
 * It exists because imapflow's own tokenizer costs ≈ 66 µs a row plus ≈ 60 µs
 * for the first literal (docs/PRODUCER_PROFILE.md), most of it generic work
 * (an async state machine per character class, the line decoded to a string
 * first, every key recompiled afterwards). This one reads bytes in one pass
 * and hands literals over as the slices imapflow already holds.
 *
 * Values have the shape imapflow's parser gives them (`{ type, value }`,
 * `null` for NIL, arrays for lists), so imapflow's BODYSTRUCTURE reader can
 * walk them. Nothing here throws on bad input: every reader returns
 * {@link BAD} instead, and the caller hands the row to imapflow's parser,
 * whose rules then apply (see `raw_fetch.ts`).
 *
 * @module
 */

/** An atom, a quoted string or a literal, as imapflow's parser shapes them. */
export interface ImapScalar {
  readonly type: "ATOM" | "STRING" | "LITERAL";
  /** Atoms and quoted strings are text (UTF-8, as imapflow decodes the line); literals bytes. */
  readonly value: string | Uint8Array;
}

/** A value in a FETCH response: NIL is `null`, a parenthesised list an array. */
export type ImapValue = ImapScalar | null | ImapValue[];

/** One data item of a FETCH response: `NAME[section]<origin> value`. */
export interface FetchItem {
  /** The item name, upper case (`UID`, `BODY`, `X-GM-LABELS`). */
  readonly name: string;
  /** The text between `[` and `]`, upper case, when the item had one (`HEADER`, `1.2`). */
  readonly section?: string;
  readonly value: ImapValue;
}

/** One untagged FETCH response. */
export interface FetchResponse {
  /** The message sequence number. */
  readonly seq: number;
  readonly items: FetchItem[];
}

/** What a reader returns for input it cannot read. */
export const BAD: unique symbol = Symbol("bad IMAP input");

/** Deepest list nesting read; deeper input is left to imapflow (which truncates the item). */
export const MAX_DEPTH = 64;

const SP = 0x20, QUOTE = 0x22, LPAREN = 0x28, RPAREN = 0x29, BACKSLASH = 0x5c;
const LBRACKET = 0x5b, RBRACKET = 0x5d, LT = 0x3c, GT = 0x3e, LBRACE = 0x7b, RBRACE = 0x7d;
const CR = 0x0d, LF = 0x0a, TILDE = 0x7e;
const utf8 = new TextDecoder();
// One character per byte: names, numbers and ASCII strings are sliced from this view of the line.
const bytewise = new TextDecoder("latin1");

/** Where reading is in one response. */
interface Cursor {
  readonly bytes: Uint8Array;
  /** `bytes` one character per byte (positions are the same). */
  readonly text: string;
  readonly literals: readonly Uint8Array[];
  pos: number;
  literal: number;
}

/**
 * Reads `* <seq> FETCH (<items>)`. Returns {@link BAD} when the line is not a
 * FETCH response or is malformed anywhere, including a literal marker without
 * its literal and unread literals left over.
 */
export function readFetchResponse(
  bytes: Uint8Array,
  literals: readonly Uint8Array[],
): FetchResponse | typeof BAD {
  if (bytes[0] !== 0x2a || bytes[1] !== SP) return BAD;
  const at: Cursor = { bytes, text: bytewise.decode(bytes), literals, pos: 0, literal: 0 };
  at.pos = 2;
  const seq = readNumber(at);
  if (seq === BAD || bytes[at.pos] !== SP) return BAD;
  at.pos++;
  if (!readKeyword(at, "FETCH") || bytes[at.pos] !== SP || bytes[at.pos + 1] !== LPAREN) {
    return BAD;
  }
  at.pos += 2;
  const items: FetchItem[] = [];
  skipSpaces(at);
  while (at.pos < bytes.length && bytes[at.pos] !== RPAREN) {
    const item = readItem(at);
    if (item === BAD) return BAD;
    items.push(item);
    skipSpaces(at);
  }
  if (bytes[at.pos] !== RPAREN) return BAD;
  at.pos++;
  skipSpaces(at);
  if (at.pos !== bytes.length || at.literal !== literals.length) return BAD;
  return { seq, items };
}

/** `NAME[section]<origin> value`. */
function readItem(at: Cursor): FetchItem | typeof BAD {
  const { bytes } = at;
  const start = at.pos;
  while (at.pos < bytes.length) {
    const c = bytes[at.pos]!;
    if (c === SP || c === LBRACKET || c === LPAREN || c === RPAREN || c < SP || c > 0x7e) break;
    at.pos++;
  }
  if (at.pos === start) return BAD;
  const name = at.text.slice(start, at.pos).toUpperCase();
  let section: string | undefined;
  if (bytes[at.pos] === LBRACKET) {
    const open = ++at.pos;
    let depth = 0;
    while (at.pos < bytes.length && (bytes[at.pos] !== RBRACKET || depth > 0)) {
      const c = bytes[at.pos]!;
      if (c === LPAREN) depth++;
      else if (c === RPAREN && --depth < 0) return BAD;
      else if (c === CR || c === LF || c === LBRACE || c === QUOTE) return BAD; // left to imapflow
      at.pos++;
    }
    if (at.pos >= bytes.length) return BAD;
    section = at.text.slice(open, at.pos++).toUpperCase();
    if (bytes[at.pos] === LT) {
      // The origin of a partial fetch (`<0>`): which bytes these are, not needed here.
      at.pos++;
      if (readNumber(at) === BAD || bytes[at.pos] !== GT) return BAD;
      at.pos++;
    }
  }
  if (bytes[at.pos] !== SP) return BAD;
  at.pos++;
  const value = readValue(at, 0);
  if (value === BAD) return BAD;
  return section === undefined ? { name, value } : { name, section, value };
}

/** One value: a list, a quoted string, a literal, NIL or an atom. */
function readValue(at: Cursor, depth: number): ImapValue | typeof BAD {
  const { bytes } = at;
  const c = bytes[at.pos];
  if (c === undefined) return BAD;
  if (c === LPAREN) return readList(at, depth + 1);
  if (c === QUOTE) return readQuoted(at);
  if (c === LBRACE || (c === TILDE && bytes[at.pos + 1] === LBRACE)) return readLiteral(at);
  return readAtom(at);
}

function readList(at: Cursor, depth: number): ImapValue[] | typeof BAD {
  if (depth > MAX_DEPTH) return BAD;
  const { bytes } = at;
  at.pos++; // "("
  const list: ImapValue[] = [];
  skipSpaces(at);
  while (at.pos < bytes.length && bytes[at.pos] !== RPAREN) {
    const value = readValue(at, depth);
    if (value === BAD) return BAD;
    list.push(value);
    const next = bytes[at.pos];
    if (next !== SP && next !== RPAREN && next !== LPAREN) return BAD; // `)(` between parts
    skipSpaces(at);
  }
  if (bytes[at.pos] !== RPAREN) return BAD;
  at.pos++;
  return list;
}

function readQuoted(at: Cursor): ImapScalar | typeof BAD {
  const { bytes } = at;
  const start = ++at.pos;
  let escaped = false;
  let plain = true;
  for (; at.pos < bytes.length; at.pos++) {
    const c = bytes[at.pos]!;
    if (c === BACKSLASH) {
      escaped = true;
      if (bytes[++at.pos]! > 0x7e) plain = false; // the escaped byte, whatever it is
      continue;
    }
    if (c === QUOTE) break;
    if (c === CR || c === LF) return BAD;
    if (c > 0x7e) plain = false;
  }
  if (at.pos >= bytes.length) return BAD;
  const end = at.pos++;
  let value = plain ? at.text.slice(start, end) : utf8.decode(bytes.subarray(start, end));
  if (escaped) value = value.replace(/\\(.)/gs, "$1");
  return { type: "STRING", value };
}

function readLiteral(at: Cursor): ImapScalar | typeof BAD {
  const { bytes } = at;
  if (bytes[at.pos] === TILDE) at.pos++;
  at.pos++; // "{"
  const length = readNumber(at);
  if (length === BAD || bytes[at.pos] !== RBRACE) return BAD;
  at.pos++;
  if (bytes[at.pos] === CR) at.pos++;
  if (bytes[at.pos] !== LF) return BAD;
  at.pos++;
  const value = at.literals[at.literal++];
  if (value === undefined || value.length !== length) return BAD;
  return { type: "LITERAL", value };
}

function readAtom(at: Cursor): ImapScalar | null | typeof BAD {
  const { bytes } = at;
  const start = at.pos;
  let plain = true;
  let brackets = 0;
  for (; at.pos < bytes.length; at.pos++) {
    const c = bytes[at.pos]!;
    if (c === LBRACKET) brackets++;
    else if (c === RBRACKET) brackets--;
    else if ((c === SP && brackets <= 0) || c === RPAREN || c === LPAREN) break;
    else if (c === QUOTE || c === LBRACE || c < SP || c === 0x7f) return BAD;
    else if (c > 0x7f) plain = false;
  }
  if (at.pos === start || brackets !== 0) return BAD;
  const value = plain ? at.text.slice(start, at.pos) : utf8.decode(bytes.subarray(start, at.pos));
  if (value.length === 3 && value.toUpperCase() === "NIL") return null;
  return { type: "ATOM", value };
}

function readNumber(at: Cursor): number | typeof BAD {
  const { bytes } = at;
  const start = at.pos;
  let value = 0;
  while (at.pos < bytes.length) {
    const c = bytes[at.pos]!;
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
    at.pos++;
  }
  if (at.pos === start || at.pos - start > 15) return BAD;
  return value;
}

function readKeyword(at: Cursor, keyword: string): boolean {
  for (let i = 0; i < keyword.length; i++) {
    if ((at.bytes[at.pos + i]! | 0x20) !== (keyword.charCodeAt(i) | 0x20)) return false;
  }
  at.pos += keyword.length;
  return true;
}

function skipSpaces(at: Cursor): void {
  while (at.bytes[at.pos] === SP) at.pos++;
}
