/**
 * RFC 2047 encoded-words in headers (`=?utf-8?B?...?=`, `=?iso-8859-1?Q?...?=`).
 *
 * - Whitespace between two encoded-words is dropped, as the RFC says.
 * - Adjacent words in the same charset are joined as bytes before decoding,
 *   so a multi-byte character split across two words survives; words in a
 *   stateful charset (ISO-2022-*, UTF-7), which each start and end in their
 *   own state, are decoded one by one instead.
 * - A Q word may hold a raw space (unfolding turns a fold inside a word into
 *   one); mailers write such words and every reader accepts them.
 * - One pass over the value: a header of thousands of words costs linear time.
 *
 * Charsets are read by {@link decodeCharset} (libmime's charset layer beyond
 * what `TextDecoder` knows).
 *
 * @module
 */

import { decodeCharset } from "./charset.ts";
import { decodeBase64 } from "./transfer_decoding.ts";

// "?" cannot occur inside an encoded text, so `[^?]*` never runs past the closing "?=".
const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?]*)\?=/g;
const STATEFUL = /^(?:iso-?2022|utf-?7|unicode-1-1-utf-7|csiso2022|jis)/;

/** Decodes every encoded-word in a header value; text around them is kept as is. */
export function decodeMimeWords(value: string): string {
  if (!value.includes("=?")) return value;
  let out = "";
  let last = 0;
  let run: { charset: string; chunks: Uint8Array[] } | null = null;
  const flush = () => {
    if (run) out += decodeCharset(joined(run.chunks), run.charset);
    run = null;
  };
  for (const match of value.matchAll(ENCODED_WORD)) {
    const between = value.slice(last, match.index);
    const adjacent = run !== null && isBlank(between);
    // RFC 2231 allows a language suffix: "utf-8*en".
    const charset = match[1]!.split("*")[0]!.toLowerCase();
    const bytes = match[2] === "B" || match[2] === "b"
      ? decodeBase64(asciiBytes(match[3]!))
      : decodeQEncoding(match[3]!);
    const current = run as { charset: string; chunks: Uint8Array[] } | null;
    if (adjacent && current!.charset === charset && !STATEFUL.test(charset)) {
      current!.chunks.push(bytes);
    } else {
      flush();
      if (!adjacent) out += between;
      run = { charset, chunks: [bytes] };
    }
    last = match.index + match[0].length;
  }
  flush();
  return out + value.slice(last);
}

function isBlank(text: string): boolean {
  return /^[ \t\r\n]*$/.test(text);
}

function decodeQEncoding(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x5f /* _ */) {
      out[length++] = 0x20;
      continue;
    }
    if (code === 0x3d /* = */) {
      const value = hex(text.charCodeAt(i + 1)) * 16 + hex(text.charCodeAt(i + 2));
      if (!Number.isNaN(value)) {
        out[length++] = value;
        i += 2;
        continue;
      }
    }
    out[length++] = code & 0xff;
  }
  return out.subarray(0, length);
}

function hex(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return Number.NaN;
}

function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

function joined(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
