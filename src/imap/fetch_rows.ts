/**
 * One untagged FETCH response read by our tokenizer (`fetch_tokens.ts`) into
 * the object imapflow's `fetch()` would have made of it, for the items the
 * producer asks for: UID, FLAGS, RFC822.SIZE, INTERNALDATE, BODYSTRUCTURE,
 * BODY[HEADER], BODY[<part>], X-GM-MSGID/THRID/LABELS, EMAILID/THREADID and
 * MODSEQ. Values are read by imapflow's own helpers (`imapflow/lib/tools`)
 * and BODYSTRUCTURE by a copy of imapflow's walk with a fast path for plain
 * parameters (`fetch_structure.ts`), so a row means the same whichever
 * parser read it (`fetch_rows_test.ts` checks it against imapflow's).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { FetchMessageObject, ImapFlow } from "imapflow";
import { decodePath, getStringList, parseBigIntValue, parseUintValue } from "imapflow/lib/tools.js";
import { readBodyStructure } from "./fetch_structure.ts";
import { BAD, type FetchItem, type ImapValue, readFetchResponse } from "./fetch_tokens.ts";

/** What decoding a label needs of the connection (whether UTF8=ACCEPT is on). */
export type LabelContext = Pick<ImapFlow, "enabled" | "capabilities">;

/** The parts of a {@link FetchMessageObject} this reader fills. */
export type FetchRow = Pick<
  FetchMessageObject,
  | "seq"
  | "uid"
  | "flags"
  | "size"
  | "internalDate"
  | "bodyStructure"
  | "headers"
  | "bodyParts"
  | "emailId"
  | "threadId"
  | "labels"
  | "modseq"
>;

const MAX_UINT32_DIGITS = 10;

/**
 * Reads one untagged FETCH response (`payload` with its `literals`, as
 * imapflow's line reader splits them). Returns `undefined` for anything it
 * does not read with certainty (malformed input, an item it does not know,
 * a row without a usable UID); the caller then leaves the row to imapflow.
 * Never throws.
 */
export function readFetchRow(
  payload: Uint8Array,
  literals: readonly Uint8Array[],
  labels: LabelContext,
): FetchRow | undefined {
  try {
    const response = readFetchResponse(payload, literals);
    if (response === BAD) return undefined;
    const row: FetchRow = { seq: response.seq, uid: 0 };
    for (const item of response.items) {
      if (!readItem(row, item, labels)) return undefined;
    }
    return row.uid > 0 ? row : undefined;
  } catch {
    // imapflow's helpers are written not to throw; if one ever does, imapflow gets the row.
    return undefined;
  }
}

/** Puts one item on `row`; `false` for an item this reader does not know. */
function readItem(row: FetchRow, item: FetchItem, labels: LabelContext): boolean {
  const { value } = item;
  if (item.section !== undefined) return readSection(row, item);
  switch (item.name) {
    case "UID":
      row.uid = parseUintValue(text(value), MAX_UINT32_DIGITS) || 0;
      return true;
    case "FLAGS":
      row.flags = new Set(getStringList(value));
      return true;
    case "RFC822.SIZE":
      row.size = parseUintValue(text(value)) || 0;
      return true;
    case "INTERNALDATE": {
      const raw = text(value) ?? "";
      const date = new Date(raw);
      row.internalDate = Number.isNaN(date.getTime()) ? raw : date;
      return true;
    }
    case "BODYSTRUCTURE":
      if (Array.isArray(value)) row.bodyStructure = readBodyStructure(value);
      return true;
    case "X-GM-MSGID":
      row.emailId = text(value);
      return true;
    case "X-GM-THRID":
      row.threadId = text(value);
      return true;
    case "EMAILID":
      row.emailId = getStringList(value)[0];
      return true;
    case "THREADID":
      row.threadId = getStringList(value)[0];
      return true;
    case "X-GM-LABELS":
      // Labels are mailbox names: modified UTF-7 unless UTF8=ACCEPT is on.
      row.labels = new Set(
        getStringList(value).map((label) => decodePath(labels as ImapFlow, label)),
      );
      return true;
    case "MODSEQ": {
      const modseq = parseBigIntValue(getStringList(value)[0]);
      if (modseq !== false) row.modseq = modseq;
      return true;
    }
    default:
      return false;
  }
}

/** `BODY[HEADER]` and `BODY[<part>]` (the origin of a partial fetch is not kept). */
function readSection(row: FetchRow, item: FetchItem): boolean {
  if (item.name !== "BODY") return false; // BINARY[...] is never asked for
  const bytes = bytesOf(item.value);
  const key = item.section!.toLowerCase();
  if (key === "header") {
    row.headers = bytes;
    return true;
  }
  if (!/^\d+(\.\d+)*$/.test(key)) return false;
  if (bytes) (row.bodyParts ??= new Map()).set(key, bytes);
  return true;
}

/** An atom's or string's text (a literal's as UTF-8); `undefined` for NIL and lists. */
function text(value: ImapValue): string | undefined {
  if (value === null || Array.isArray(value)) return undefined;
  return typeof value.value === "string" ? value.value : Buffer.from(value.value).toString();
}

/**
 * A section's bytes: a literal as the Buffer imapflow's reader holds, a quoted
 * string (which some servers send for small parts) as its UTF-8 bytes, as
 * imapflow does; NIL is `undefined`.
 */
function bytesOf(value: ImapValue): Buffer | undefined {
  if (value === null || Array.isArray(value)) return undefined;
  if (typeof value.value === "string") return Buffer.from(value.value);
  const bytes = value.value;
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
