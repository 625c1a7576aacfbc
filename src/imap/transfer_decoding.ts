/**
 * Content-Transfer-Encoding decoding that tolerates truncation: the producer
 * fetches only the first bytes of a text part, so base64 may stop mid-quantum
 * and quoted-printable mid-escape. Both decoders drop the incomplete tail
 * instead of failing.
 *
 * @module
 */

const NOT_BASE64 = /[^A-Za-z0-9+/]/g;
// Base64 needs ASCII only; this native decoder maps every byte to one character, and none of
// the bytes above 0x7f to a base64 letter, so it is a fast lossless-enough view for base64.
const asciiView = new TextDecoder("windows-1252");

/**
 * Decodes base64, ignoring line breaks, junk characters and an incomplete last
 * quantum (a remainder of 2 or 3 characters still carries 1 or 2 whole bytes).
 * Clean input goes straight to the built-in `Uint8Array.fromBase64`.
 */
export function decodeBase64(bytes: Uint8Array): Uint8Array {
  const text = asciiView.decode(bytes);
  if (base64Letters(bytes) % 4 !== 1) {
    try {
      return Uint8Array.fromBase64(text, { lastChunkHandling: "loose" });
    } catch {
      // Junk characters or padding in the middle: clean up and try again.
    }
  }
  const clean = text.replace(NOT_BASE64, "");
  try {
    return Uint8Array.fromBase64(clean.slice(0, clean.length - (clean.length % 4 === 1 ? 1 : 0)), {
      lastChunkHandling: "loose",
    });
  } catch {
    return new Uint8Array();
  }
}

/** How many bytes of `bytes` are base64 letters (`A–Z a–z 0–9 + /`). */
function base64Letters(bytes: Uint8Array): number {
  let letters = 0;
  for (let i = 0; i < bytes.length; i++) if (BASE64_LETTER[bytes[i]!] === 1) letters++;
  return letters;
}

const BASE64_LETTER = new Uint8Array(256);
for (const char of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") {
  BASE64_LETTER[char.charCodeAt(0)] = 1;
}

/**
 * Whether base64 content is clean: only the alphabet and line breaks, with
 * padding at the very end. (A truncated tail is fine.)
 */
export function isCleanBase64(bytes: Uint8Array): boolean {
  let padding = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === 0x0d || byte === 0x0a || byte === 0x20 || byte === 0x09) continue;
    if (byte === 0x3d /* = */) {
      if (++padding > 2) return false;
    } else if (padding > 0 || BASE64_LETTER[byte] !== 1) return false;
  }
  return true;
}

/** Whether the base64 alphabet letters of `bytes` leave one over: no base64 encoder writes that. */
export function isImpossibleBase64(bytes: Uint8Array): boolean {
  return base64Letters(bytes) % 4 === 1;
}

/** Decodes quoted-printable (RFC 2045 §6.7); a truncated `=X` at the end is dropped. */
export function decodeQuotedPrintable(bytes: Uint8Array): Uint8Array {
  return readQuotedPrintable(bytes).bytes;
}

/** Quoted-printable decoded, and whether it had an `=` that is neither an escape nor a soft break. */
export interface QuotedPrintableReading {
  /** The decoded bytes. */
  readonly bytes: Uint8Array;
  /** An `=` was neither an escape nor a soft break (kept literally, as most readers do). */
  readonly invalid: boolean;
}

/**
 * Decodes quoted-printable and checks it in the same pass. What may be a cut
 * at the very end (`=`, `=X` with X a hex digit, `=` CR) is dropped and not
 * counted as invalid: the producer fetches only the first bytes of a part.
 *
 * With `into` at least as long as `bytes`, the result is written there and is
 * a view of it (valid until `into` is written again): a new typed array costs
 * Deno ≈ 2 µs, as much as decoding 2 kB.
 */
export function readQuotedPrintable(
  bytes: Uint8Array,
  into?: Uint8Array,
): QuotedPrintableReading {
  const out = into !== undefined && into.length >= bytes.length
    ? into
    : new Uint8Array(bytes.length);
  const end = bytes.length;
  let length = 0;
  let invalid = false;
  for (let i = 0; i < end; i++) {
    const byte = bytes[i]!;
    if (byte !== 0x3d /* = */) {
      out[length++] = byte;
      continue;
    }
    const rest = end - i - 1;
    if (rest === 0) break; // truncated
    const next = bytes[i + 1]!;
    if (next === 0x0d || next === 0x0a) {
      // Soft line break: "=\r\n" or "=\n"; a bare CR inside the text is not one, but is read so.
      const crlf = next === 0x0d && bytes[i + 2] === 0x0a;
      if (next === 0x0d && !crlf && rest > 1) invalid = true;
      i += crlf ? 2 : 1;
      continue;
    }
    const high = HEX_VALUE[next]!;
    if (rest === 1) {
      if (high < 0) invalid = true;
      break; // truncated escape
    }
    const low = HEX_VALUE[bytes[i + 2]!]!;
    if ((high | low) < 0) {
      invalid = true;
      out[length++] = byte; // not an escape: keep the "=" literally, as most readers do
      continue;
    }
    out[length++] = (high << 4) | low;
    i += 2;
  }
  return { bytes: out.subarray(0, length), invalid };
}

/** Each byte's value as a hex digit (`0–9 A–F a–f`), -1 for any other byte. */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX_VALUE[0x41 + i] = HEX_VALUE[0x61 + i] = 10 + i;

/** Decodes a part body by its Content-Transfer-Encoding; unknown encodings pass through. */
export function decodeTransferEncoding(bytes: Uint8Array, encoding?: string | null): Uint8Array {
  switch ((encoding ?? "").trim().toLowerCase()) {
    case "base64":
      return decodeBase64(bytes);
    case "quoted-printable":
      return decodeQuotedPrintable(bytes);
    default:
      return bytes;
  }
}

/** Bytes as a string of code points 0–255 (lossless, for byte-oriented parsing). */
export function latin1Text(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}
