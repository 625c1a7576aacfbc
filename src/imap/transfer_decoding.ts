/**
 * Content-Transfer-Encoding decoding that tolerates truncation: the producer
 * fetches only the first bytes of a text part, so base64 may stop mid-quantum
 * and quoted-printable mid-escape. Both decoders drop the incomplete tail
 * instead of failing.
 *
 * @module
 */

const BASE64_ALPHABET = /[^A-Za-z0-9+/]/g;

/** Decodes base64, ignoring line breaks, junk characters and an incomplete last quantum. */
export function decodeBase64(bytes: Uint8Array): Uint8Array {
  const clean = latin1Text(bytes).replace(BASE64_ALPHABET, "");
  const usable = clean.slice(0, clean.length - (clean.length % 4));
  // A remainder of 2 or 3 characters still carries 1 or 2 whole bytes.
  const rest = clean.slice(usable.length);
  const padded = rest.length >= 2 ? rest + "=".repeat(4 - rest.length) : "";
  try {
    return Uint8Array.from(atob(usable + padded), (c) => c.charCodeAt(0));
  } catch {
    return new Uint8Array();
  }
}

/**
 * Whether base64 content is clean: only the alphabet and line breaks, with
 * padding at the very end. (A truncated tail is fine.)
 */
export function isCleanBase64(bytes: Uint8Array): boolean {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(latin1Text(bytes).replace(/[\r\n \t]/g, ""));
}

/** Whether quoted-printable content has an `=` that is neither an escape nor a soft break. */
export function hasInvalidQuotedPrintable(bytes: Uint8Array): boolean {
  const text = latin1Text(bytes);
  // A lone "=" at the very end may be a truncated escape: not counted.
  return /=(?![0-9A-Fa-f]{2}|\r?\n|[0-9A-Fa-f]?$)/.test(text);
}

/** Decodes quoted-printable (RFC 2045 §6.7); a truncated `=X` at the end is dropped. */
export function decodeQuotedPrintable(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte !== 0x3d /* = */) {
      out[length++] = byte;
      continue;
    }
    if (i + 1 >= bytes.length) break; // truncated
    const next = bytes[i + 1]!;
    if (next === 0x0d || next === 0x0a) {
      // Soft line break: "=\r\n" or "=\n".
      i += next === 0x0d && bytes[i + 2] === 0x0a ? 2 : 1;
      continue;
    }
    if (i + 2 >= bytes.length) break; // truncated escape
    const value = hexValue(next) * 16 + hexValue(bytes[i + 2]!);
    if (Number.isNaN(value)) {
      out[length++] = byte; // not an escape: keep the "=" literally, as most readers do
      continue;
    }
    out[length++] = value;
    i += 2;
  }
  return out.subarray(0, length);
}

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

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return Number.NaN;
}

/** Bytes as a string of code points 0–255 (lossless, for byte-oriented parsing). */
export function latin1Text(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}
