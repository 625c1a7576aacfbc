/**
 * Phase 2 of a fetch: the first bytes of each message's text/plain and
 * text/html parts (`BODY.PEEK[n]<0.max>`), one UID FETCH per distinct part
 * layout. Each message leaves the `wanted` map once its parts arrived (or
 * the server refused them), so after a broken connection `wanted` holds
 * exactly the messages that are still incomplete.
 *
 * @module
 */

import type { FetchMessageObject, FetchQueryObject, MessageStructureObject } from "imapflow";
import type { AuthError, ImapError } from "../errors.ts";
import { toImapError } from "./imap_errors.ts";
import type { FetchLimits } from "./mailbox_session.ts";
import type { FetchedMessage, PartBytes } from "./message_payload.ts";
import { type BodyNode, planBody, type TextPartRef } from "./structure.ts";
import { uidSet } from "./uid_set.ts";

/** A text part to download and how much of it. */
export interface PartRequest {
  readonly role: "text" | "html";
  readonly ref: TextPartRef;
  readonly maxLength: number;
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

/** Fetches the text parts of `wanted`, in order of each layout's lowest UID; returns the bytes. */
export async function fetchTextParts(
  wanted: WantedParts,
  connection: PartsConnection,
): Promise<number> {
  const groups = new Map<string, number[]>();
  for (const [uid, { parts }] of wanted) {
    const signature = parts.map((p) => `${p.ref.key}<${p.maxLength}>`).join(" ");
    let group = groups.get(signature);
    if (!group) groups.set(signature, group = []);
    group.push(uid);
  }
  let bytes = 0;
  for (const uids of groups.values()) {
    const parts = wanted.get(uids[0]!)!.parts;
    const query = {
      uid: true,
      bodyParts: parts.map((p) => ({ key: p.ref.key, maxLength: p.maxLength })),
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
    bytes += keepParts(wanted, rows);
    // A UID the server did not answer for (expunged meanwhile) is complete without parts.
    for (const uid of uids) wanted.delete(uid);
  }
  return bytes;
}

/** Puts fetched text parts on their messages, removes them from `wanted`; returns the bytes. */
function keepParts(wanted: WantedParts, rows: readonly FetchMessageObject[]): number {
  let bytes = 0;
  for (const row of rows) {
    const entry = wanted.get(row.uid);
    if (!entry) continue;
    for (const request of entry.parts) {
      const data = row.bodyParts?.get(request.ref.key.toLowerCase());
      if (!data) continue;
      bytes += data.length;
      const part: PartBytes = {
        part: request.ref,
        bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        truncated: data.length >= request.maxLength && request.ref.size > request.maxLength,
      };
      if (request.role === "text") entry.message.text = part;
      else entry.message.html = part;
    }
    wanted.delete(row.uid);
  }
  return bytes;
}

// Encoded bytes per decoded character, worst case: UTF-8 (4) in quoted-printable (×3).
const BYTES_PER_CHAR = 12;

/** The text parts worth downloading for a message of this structure, and how much of each. */
export function partRequests(
  structure: MessageStructureObject | BodyNode | undefined,
  limits: FetchLimits,
): PartRequest[] {
  const plan = planBody(structure as BodyNode | undefined);
  const requests: PartRequest[] = [];
  const textBytes = limits.bodyTextChars * BYTES_PER_CHAR + 1024;
  if (plan.text && limits.bodyTextChars > 0) {
    requests.push({ role: "text", ref: plan.text, maxLength: textBytes });
  }
  if (plan.html) {
    // Without a text part the HTML also yields body_text, after markup and styles are dropped.
    const needed = plan.text ? limits.bodyHtmlChars * BYTES_PER_CHAR : limits.bodyTextChars * 64;
    if (needed > 0) requests.push({ role: "html", ref: plan.html, maxLength: needed + 1024 });
  }
  return requests;
}
