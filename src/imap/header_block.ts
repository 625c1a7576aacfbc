/**
 * Parsing of a raw RFC 5322 header block (what `BODY.PEEK[HEADER]` returns):
 * unfolding, raw UTF-8 (RFC 6532) or 8-bit bytes, encoded-words, and the
 * address and message-id lists the payload needs. Malformed lines are skipped,
 * never fatal. The block is split as bytes and each field is decoded on its
 * own, so one stray Latin-1 byte in one field does not turn a raw-UTF-8
 * Subject into mojibake.
 *
 * @module
 */

import { decodeUtf8OrLatin1, strictUtf8 } from "./charset.ts";
import { decodeMimeWords } from "./mime_words.ts";
import { latin1Text } from "./transfer_decoding.ts";

/** One header field, decoded. `name` keeps the case the message used. */
export interface HeaderField {
  readonly name: string;
  readonly value: string;
}

/** Limits of {@link headerRecord}. */
export interface HeaderRecordLimits {
  /** Longest value kept, in characters. Default 8,000. */
  maxValueChars?: number;
  /** Most distinct header names kept. Default 200. */
  maxFields?: number;
}

/**
 * Splits and decodes a header block. Stops at the first empty line. Lines that
 * are neither a field nor a continuation are skipped and, when `problems` is
 * given, reported there.
 */
export function parseHeaderBlock(raw: Uint8Array, problems?: string[]): HeaderField[] {
  let junk = 0;
  // Valid UTF-8 (ASCII included) as a whole, the usual case, is decoded at once natively.
  // Otherwise one code point per byte, lossless, so that each field is decoded on its own.
  const utf8 = strictUtf8(raw);
  const text = utf8 ?? latin1Text(raw);
  const fields: HeaderField[] = [];
  let name: string | undefined;
  let value = "";
  const flush = () => {
    if (name !== undefined) {
      const raw = value.trim();
      fields.push({ name, value: decodeMimeWords(utf8 === null ? fieldText(raw) : raw) });
    }
    name = undefined;
    value = "";
  };
  for (let line of text.split(/\r?\n/)) {
    if (line === "") break; // end of the header block
    // A folded continuation; on the very first line, a field some mailer indented.
    if (/^[ \t]/.test(line) && (name !== undefined || fields.length > 0 || junk > 0)) {
      if (name !== undefined) value += " " + line.trim();
      continue;
    }
    flush();
    line = line.trimStart();
    const colon = line.indexOf(":");
    // A field name is printable ASCII without spaces; anything else is junk we skip.
    if (colon > 0 && /^[!-9;-~]+$/.test(line.slice(0, colon))) {
      name = line.slice(0, colon);
      value = line.slice(colon + 1);
    } else {
      junk++;
    }
  }
  flush();
  if (junk > 0) problems?.push(`${junk} malformed header line${junk === 1 ? "" : "s"} skipped`);
  return fields;
}

/** A field value (one code point per byte) as text: raw 8-bit bytes read as UTF-8, else Latin-1. */
function fieldText(value: string): string {
  if (!/[\x80-\xff]/.test(value)) return value;
  return decodeUtf8OrLatin1(Uint8Array.from(value, (char) => char.charCodeAt(0)));
}

/**
 * Header fields as a record for the payload: names as first seen, repeated
 * fields (e.g. `Received`) joined with a newline, long values cut.
 */
export function headerRecord(
  fields: readonly HeaderField[],
  limits: HeaderRecordLimits = {},
): Record<string, string> {
  const maxValue = limits.maxValueChars ?? 8_000;
  const maxFields = limits.maxFields ?? 200;
  const record: Record<string, string> = {};
  const namesByLower = new Map<string, string>();
  for (const field of fields) {
    const lower = field.name.toLowerCase();
    let name = namesByLower.get(lower);
    if (name === undefined) {
      if (namesByLower.size >= maxFields) continue;
      name = field.name;
      namesByLower.set(lower, name);
      record[name] = field.value.slice(0, maxValue);
    } else if (record[name]!.length < maxValue) {
      record[name] = `${record[name]}\n${field.value}`.slice(0, maxValue);
    }
  }
  return record;
}

/** The first value of a header, case-insensitively; `null` when absent. */
export function firstHeader(fields: readonly HeaderField[], name: string): string | null {
  const lower = name.toLowerCase();
  // The length check first: most fields differ in length, and lower-casing each costs.
  return fields.find((field) =>
    field.name.length === lower.length && field.name.toLowerCase() === lower
  )?.value ?? null;
}

/** Every `<id>` in a Message-ID, In-Reply-To or References value. */
export function messageIds(value: string | null): string[] {
  if (!value) return [];
  return value.match(/<[^<>\s]+>/g) ?? [];
}
