/**
 * Bytes → text in a message's declared charset. Mail in the wild declares
 * charsets that are misspelled, unknown or simply wrong, so decoding never
 * throws.
 *
 * - UTF-8, `us-ascii` (servers report it for messages with no Content-Type at
 *   all, and 8-bit UTF-8 behind it is common) and unknown labels are read as
 *   UTF-8; bytes that are not UTF-8 are read one by one as Windows-1252, so
 *   one stray Latin-1 byte costs one character, not the whole text.
 * - Labels the runtime's `TextDecoder` knows use it (the fast path: WHATWG's
 *   meaning, where `iso-8859-1` is Windows-1252 as browsers read it).
 * - Everything else goes through mailparser's own charset layer (libmime,
 *   which wraps iconv-lite and encoding-japanese): cp932, cp936, cp949, cp850,
 *   ibm437, utf-32, the ISO-2022-JP family (WHATWG's decoder emits U+FFFD
 *   between two escape sequences, which every folded Japanese subject has).
 *   UTF-7, which libmime refuses, is decoded by iconv-lite: the payload is
 *   text for consumers, never markup rendered unescaped.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import iconv from "iconv-lite";
import { decode as libmimeDecode, normalizeCharset } from "libmime/lib/charset.js";

type Reader = (bytes: Uint8Array) => string;

/** How a label is read: as UTF-8 with fallback, or by a reader; `unknown` when nothing knows it. */
type Resolved = { kind: "utf-8" } | { kind: "reader"; read: Reader } | { kind: "unknown" };

const UTF8_LIKE = new Set([
  "",
  "utf-8",
  "utf8",
  "unicode-1-1-utf-8",
  "us-ascii",
  "ascii",
  "ansi_x3.4-1968",
  "7bit",
  "8bit",
  "default",
]);
// Not WHATWG's decoder for these: see the module documentation.
const LIBRARY_FIRST = /^(?:iso-?2022-?jp|jis|csiso2022jp)/;
const UTF7 = /^(?:utf-?7|unicode-1-1-utf-7|csunicode11utf7)$/;

const resolved = new Map<string, Resolved>();

function resolve(label: string): Resolved {
  let found = resolved.get(label);
  if (found === undefined) {
    found = resolveUncached(label);
    if (resolved.size < 1_000) resolved.set(label, found); // labels come from mail: bound the cache
  }
  return found;
}

function resolveUncached(label: string): Resolved {
  if (UTF8_LIKE.has(label)) return { kind: "utf-8" };
  if (UTF7.test(label)) {
    return {
      kind: "reader",
      read: (bytes) => iconv.decode(asBuffer(bytes), "utf-7"),
    };
  }
  const whatwg = LIBRARY_FIRST.test(label) ? null : textDecoder(label);
  if (whatwg?.encoding === "utf-8") return { kind: "utf-8" };
  if (whatwg) return { kind: "reader", read: (bytes) => whatwg.decode(bytes) };
  if (LIBRARY_FIRST.test(label) || iconv.encodingExists(normalizeCharset(label))) {
    return { kind: "reader", read: (bytes) => libmimeDecode(asBuffer(bytes), label) };
  }
  return { kind: "unknown" };
}

function textDecoder(label: string): TextDecoder | null {
  const cp = /^cp-?(125\d)$/.exec(label);
  try {
    return new TextDecoder(cp ? `windows-${cp[1]}` : label === "ks_c_5601-1987" ? "euc-kr" : label);
  } catch {
    return null;
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function normalise(charset: string | null | undefined): string {
  return (charset ?? "").trim().toLowerCase().replace(/^["']|["']$/g, "");
}

/** Whether `label` names a charset that can be decoded (UTF-8-like labels included). */
export function isKnownCharset(label: string): boolean {
  return resolve(normalise(label)).kind !== "unknown";
}

const utf8Fatal = new TextDecoder("utf-8", { fatal: true });
const utf8Loose = new TextDecoder();

/**
 * `bytes` as UTF-8, or `null` when they are not valid UTF-8. The replacing
 * decoder is several times faster than the fatal one in Deno (2,500 ASCII
 * bytes: ≈ 0.5 µs against ≈ 2.4 µs); only text in which it left a U+FFFD
 * (an invalid sequence, or a real U+FFFD) is decoded again strictly.
 */
export function strictUtf8(bytes: Uint8Array): string | null {
  const text = utf8Loose.decode(bytes);
  if (!text.includes("\uFFFD")) return text;
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * Decodes `bytes` declared as `charset` (default UTF-8). Never throws.
 * `truncated` says the bytes were cut at an arbitrary offset (a partial
 * fetch), so an incomplete character at the end is dropped rather than
 * taken as proof of a wrong charset.
 */
export function decodeCharset(
  bytes: Uint8Array,
  charset?: string | null,
  truncated = false,
): string {
  const found = resolve(normalise(charset));
  if (found.kind !== "reader") {
    return decodeUtf8OrLatin1(truncated ? withoutIncompleteUtf8Tail(bytes) : bytes);
  }
  let text: string;
  try {
    text = found.read(bytes);
  } catch {
    return decodeUtf8OrLatin1(bytes);
  }
  return truncated ? text.replace(/\uFFFD+$/, "") : text;
}

/**
 * UTF-8 where the bytes are UTF-8; each byte that is not part of a valid
 * sequence is read as Windows-1252 (the commonest wrong label is Latin-1
 * declared as, or mixed into, UTF-8).
 */
export function decodeUtf8OrLatin1(bytes: Uint8Array): string {
  const whole = strictUtf8(bytes);
  if (whole !== null) return whole;
  // Mixed content: decode valid runs as UTF-8, stray bytes one by one.
  let text = "";
  let runStart = 0;
  for (let i = 0; i < bytes.length;) {
    const length = utf8SequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    if (runStart < i) text += utf8Fatal.decode(bytes.subarray(runStart, i));
    text += windows1252Char(bytes[i]!);
    runStart = ++i;
  }
  if (runStart < bytes.length) text += utf8Fatal.decode(bytes.subarray(runStart));
  return text;
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when none starts there. */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const lead = bytes[i]!;
  if (lead < 0x80) return 1;
  let length: number, low = 0x80, high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0; // no overlong forms
    if (lead === 0xed) high = 0x9f; // no surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90;
    if (lead === 0xf4) high = 0x8f;
  } else return 0;
  if (i + length > bytes.length) return 0;
  const second = bytes[i + 1]!;
  if (second < low || second > high) return 0;
  for (let k = 2; k < length; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return 0;
  return length;
}

const latin1 = new TextDecoder("windows-1252");
const WINDOWS_1252_HIGH = latin1.decode(Uint8Array.from({ length: 128 }, (_, i) => 0x80 + i));

function windows1252Char(byte: number): string {
  return byte < 0x80 ? String.fromCharCode(byte) : WINDOWS_1252_HIGH[byte - 0x80]!;
}

/** `bytes` without a UTF-8 sequence that starts near the end but is not complete. */
function withoutIncompleteUtf8Tail(bytes: Uint8Array): Uint8Array {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? bytes.subarray(0, bytes.length - back) : bytes;
  }
  return bytes;
}
