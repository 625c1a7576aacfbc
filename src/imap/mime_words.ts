/**
 * RFC 2047 encoded-words in headers (`=?utf-8?B?...?=`, `=?iso-8859-1?Q?...?=`).
 * Adjacent encoded-words in the same charset are joined before decoding, so a
 * multi-byte character split across two words survives; whitespace between
 * encoded-words is dropped as the RFC says.
 *
 * @module
 */

import { decodeCharset } from "./charset.ts";
import { decodeBase64 } from "./transfer_decoding.ts";

const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

/** Decodes every encoded-word in a header value; text around them is kept as is. */
export function decodeMimeWords(value: string): string {
  if (!value.includes("=?")) return value;
  const pieces: Array<{ charset: string; bytes: Uint8Array } | string> = [];
  let last = 0;
  for (const match of value.matchAll(ENCODED_WORD)) {
    const between = value.slice(last, match.index);
    const previous = pieces.at(-1);
    // Linear whitespace between two encoded-words is not part of the text.
    if (!(typeof previous === "object" && /^\s*$/.test(between))) {
      if (between) pieces.push(between);
    }
    // RFC 2231 allows a language suffix: "utf-8*en".
    const charset = match[1]!.split("*")[0]!.toLowerCase();
    const bytes = match[2]!.toUpperCase() === "B"
      ? decodeBase64(asciiBytes(match[3]!))
      : decodeQEncoding(match[3]!);
    if (typeof previous === "object" && previous.charset === charset && /^\s*$/.test(between)) {
      previous.bytes = concat(previous.bytes, bytes);
    } else {
      pieces.push({ charset, bytes });
    }
    last = match.index + match[0].length;
  }
  if (last < value.length) pieces.push(value.slice(last));
  return pieces.map((piece) =>
    typeof piece === "string" ? piece : decodeCharset(piece.bytes, piece.charset)
  ).join("");
}

function decodeQEncoding(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === "_") {
      out.push(0x20);
    } else if (char === "=" && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(char.charCodeAt(0) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

function asciiBytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
