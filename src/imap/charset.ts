/**
 * Bytes → text in a message's declared charset. Mail in the wild declares
 * charsets that are misspelled, unknown or simply wrong, so decoding never
 * throws: an unknown label falls back to UTF-8 when the bytes are valid UTF-8
 * and to Windows-1252 (the WHATWG meaning of "latin1") otherwise.
 *
 * @module
 */

const decoders = new Map<string, TextDecoder | null>();

/** A TextDecoder for `label`, or `null` when the label is unknown. Cached per label. */
function decoderFor(label: string): TextDecoder | null {
  const key = label.trim().toLowerCase();
  let decoder = decoders.get(key);
  if (decoder === undefined) {
    try {
      decoder = new TextDecoder(normaliseLabel(key));
    } catch {
      decoder = null;
    }
    decoders.set(key, decoder);
  }
  return decoder;
}

// Labels seen in real mail that WHATWG does not know under that spelling.
function normaliseLabel(label: string): string {
  if (label === "utf8" || label === "unicode-1-1-utf-8") return "utf-8";
  if (label === "ascii" || label === "us-ascii" || label === "ansi_x3.4-1968") {
    return "windows-1252";
  }
  if (/^cp-?125\d$/.test(label)) return `windows-${label.replace(/\D/g, "")}`;
  if (label === "ks_c_5601-1987") return "euc-kr";
  return label;
}

/** Whether `label` names a charset this runtime can decode. */
export function isKnownCharset(label: string): boolean {
  return decoderFor(label) !== null;
}

const utf8Fatal = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("windows-1252");

/**
 * Decodes `bytes` declared as `charset` (default UTF-8). Never throws.
 * Invalid sequences become U+FFFD, except that bytes which are not valid
 * UTF-8 under an unknown or UTF-8 label are read as Windows-1252 instead.
 * `truncated` says the bytes were cut at an arbitrary offset (a partial
 * fetch), so an incomplete character at the end is dropped rather than
 * taken as proof of a wrong charset.
 */
export function decodeCharset(
  bytes: Uint8Array,
  charset?: string | null,
  truncated = false,
): string {
  const label = (charset ?? "").trim().toLowerCase() || "utf-8";
  const decoder = decoderFor(label);
  if (decoder === null || decoder.encoding === "utf-8") {
    const whole = truncated ? withoutIncompleteUtf8Tail(bytes) : bytes;
    try {
      return utf8Fatal.decode(whole);
    } catch {
      // Not UTF-8 after all: the commonest wrong label is latin1 declared as utf-8.
      return latin1.decode(bytes);
    }
  }
  const text = decoder.decode(bytes);
  return truncated ? text.replace(/\uFFFD+$/, "") : text;
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
