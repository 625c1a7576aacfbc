/**
 * Phase 2 of a fetch: the first bytes of each message's text/plain and
 * text/html parts (`BODY.PEEK[n]<0.max>`), one UID FETCH per distinct part
 * layout. Each message leaves the `wanted` map once its parts arrived (or
 * the server refused them), so after a broken connection `wanted` holds
 * exactly the messages that are still incomplete.
 *
 * The first round asks for what usually holds the characters the payload
 * keeps (3 bytes a character: plain and quoted-printable Latin text, base64
 * of it); a part cut before it holds them is continued in a second round
 * (`BODY.PEEK[n]<start.rest>`) up to the worst case (12 bytes a character,
 * UTF-8 in quoted-printable). Asking for the worst case at once downloaded
 * 25 kB for each 2,000-character preview, most of it never read.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { FetchMessageObject, FetchQueryObject, MessageStructureObject } from "imapflow";
import type { AuthError, ImapError } from "../errors.ts";
import { toImapError } from "./imap_errors.ts";
import type { FetchLimits } from "./mailbox_session.ts";
import type { FetchedMessage } from "./message_payload.ts";
import { holdsChars, type PartBytes } from "./part_text.ts";
import { type BodyNode, planBody, type TextPartRef } from "./structure.ts";
import { uidSet } from "./uid_set.ts";

/** A text part to download and how much of it. */
export interface PartRequest {
  readonly role: "text" | "html";
  readonly ref: TextPartRef;
  /** Offset of the first byte asked for: 0, or where the first round stopped. */
  readonly start: number;
  /** Bytes asked for from `start`. */
  readonly maxLength: number;
  /** Characters the payload keeps of the part: the round after stops once they are in. */
  readonly wantedChars: number;
  /** Bytes that hold `wantedChars` characters in the worst case: no round asks beyond. */
  readonly fullLength: number;
}

/** Messages still waiting for their text parts, by UID. */
export type WantedParts = Map<number, { message: FetchedMessage; parts: PartRequest[] }>;

/** How phase 2 talks to the connection. */
export interface PartsConnection {
  /** Streams one UID FETCH into `into` (rows that arrived stay there on failure). */
  fetchInto(range: string, query: FetchQueryObject, into: FetchMessageObject[]): Promise<void>;
  /** The error that ends the batch, or `undefined` when the server only refused this command. */
  fatal(error: unknown, doing: string): ImapError | AuthError | undefined;
}

/**
 * Fetches the text parts of `wanted` (and their continuations, see the module
 * documentation), in order of each layout's lowest UID; returns the bytes.
 */
export async function fetchTextParts(
  wanted: WantedParts,
  connection: PartsConnection,
): Promise<number> {
  let bytes = 0;
  while (wanted.size > 0) bytes += await fetchRound(wanted, connection);
  return bytes;
}

/** One UID FETCH per layout of what `wanted` asks for now. */
async function fetchRound(wanted: WantedParts, connection: PartsConnection): Promise<number> {
  const groups = new Map<string, number[]>();
  for (const [uid, { parts }] of wanted) {
    const signature = parts.map((p) => `${p.ref.key}<${p.start}.${p.maxLength}>`).join(" ");
    let group = groups.get(signature);
    if (!group) groups.set(signature, group = []);
    group.push(uid);
  }
  let bytes = 0;
  for (const uids of groups.values()) {
    const parts = wanted.get(uids[0]!)!.parts;
    const query = {
      uid: true,
      bodyParts: parts.map((p) => ({ key: p.ref.key, start: p.start, maxLength: p.maxLength })),
    };
    const rows: FetchMessageObject[] = [];
    try {
      await connection.fetchInto(uidSet(uids), query, rows);
    } catch (error) {
      const fatal = connection.fatal(error, "UID FETCH BODY");
      if (fatal) {
        keepParts(wanted, rows); // what did arrive is kept
        throw fatal;
      }
      const reason = toImapError(error, "UID FETCH BODY").message;
      for (const uid of uids) {
        (wanted.get(uid)!.message.fetchProblems ??= []).push(reason);
        wanted.delete(uid);
      }
      continue;
    }
    const answered = new Set(rows.map((row) => row.uid));
    bytes += keepParts(wanted, rows);
    // A UID the server did not answer for (expunged meanwhile) is complete without parts.
    for (const uid of uids) if (!answered.has(uid)) wanted.delete(uid);
  }
  return bytes;
}

/**
 * Puts fetched text parts on their messages; a message leaves `wanted` unless
 * a part was cut before it held what the payload keeps (it then waits for
 * the rest). Returns the bytes.
 */
function keepParts(wanted: WantedParts, rows: readonly FetchMessageObject[]): number {
  let bytes = 0;
  for (const row of rows) {
    const entry = wanted.get(row.uid);
    if (!entry) continue;
    const more: PartRequest[] = [];
    for (const request of entry.parts) {
      const data = row.bodyParts?.get(request.ref.key.toLowerCase());
      if (!data) continue;
      bytes += data.length;
      const earlier = request.start > 0 ? entry.message[request.role] : undefined;
      const end = request.start + request.maxLength;
      const joined = earlier ? Buffer.concat([earlier.bytes, data]) : data;
      const part: PartBytes = {
        part: request.ref,
        // A plain view, never a Buffer: the decoders' byte loops then see one kind of array
        // (see PartBytes).
        bytes: new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength),
        truncated: data.length >= request.maxLength && request.ref.size > end,
      };
      entry.message[request.role] = part;
      if (part.truncated && end < request.fullLength && !holdsChars(part, request.wantedChars)) {
        more.push({ ...request, start: end, maxLength: request.fullLength - end });
      }
    }
    if (more.length > 0) wanted.set(row.uid, { message: entry.message, parts: more });
    else wanted.delete(row.uid);
  }
  return bytes;
}

// Encoded bytes per decoded character: worst case UTF-8 (4) in quoted-printable (×3); usually
// asked for first, 3, which holds plain or quoted-printable Latin text and base64 of it.
const BYTES_PER_CHAR = 12;
const LIKELY_BYTES_PER_CHAR = 3;

/** The text parts worth downloading for a message of this structure, and how much of each. */
export function partRequests(
  structure: MessageStructureObject | BodyNode | undefined,
  limits: FetchLimits,
): PartRequest[] {
  const plan = planBody(structure as BodyNode | undefined);
  const requests: PartRequest[] = [];
  const request = (
    role: "text" | "html",
    ref: TextPartRef,
    wantedChars: number,
    maxLength: number,
    fullLength: number,
  ): PartRequest => ({ role, ref, start: 0, maxLength, wantedChars, fullLength });
  // A part the payload keeps `chars` characters of: the likely bytes first, the worst case at most.
  const kept = (role: "text" | "html", ref: TextPartRef, chars: number) =>
    request(role, ref, chars, chars * LIKELY_BYTES_PER_CHAR + 1024, chars * BYTES_PER_CHAR + 1024);
  if (plan.text && limits.bodyTextChars > 0) {
    requests.push(kept("text", plan.text, limits.bodyTextChars));
  }
  if (plan.html && plan.text && limits.bodyHtmlChars > 0) {
    requests.push(kept("html", plan.html, limits.bodyHtmlChars));
  } else if (plan.html && !plan.text && limits.bodyTextChars > 0) {
    // Without a text part the HTML also yields body_text, after markup and styles are dropped:
    // how much HTML that takes is not known from the characters, so one round asks for plenty.
    const bytes = limits.bodyTextChars * 64 + 1024;
    requests.push(request("html", plan.html, 0, bytes, bytes));
  }
  return requests;
}
