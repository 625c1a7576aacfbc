/**
 * The whole-message fallback: for the few messages whose BODYSTRUCTURE cannot
 * be trusted (see `structure_doubt.ts`), the full source is fetched and parsed
 * with mailparser, the parser the design names; the payload then says
 * `parsed_by: "full"`. mailparser is loaded on first use, so the fast path
 * never pays for it.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { ImapFlow } from "imapflow";
import type { AttachmentInfo } from "../stream/entry.ts";
import { parseAddressList } from "./address_list.ts";
import { classifyImapFailure, toImapError } from "./imap_errors.ts";
import { mailDate } from "./mail_date.ts";
import type { FetchedMessage } from "./message_payload.ts";
import { uidSet } from "./uid_set.ts";

/** What mailparser read from a whole message, in the payload's terms. */
export interface WholeMessage {
  /** Subject, decoded; `null` when absent. */
  readonly subject: string | null;
  /** From addr-specs. */
  readonly from: string[];
  /** To addr-specs. */
  readonly to: string[];
  /** Cc addr-specs. */
  readonly cc: string[];
  /** Reply-To addr-specs. */
  readonly replyTo: string[];
  /** The Date header; `null` when absent or unreadable. */
  readonly date: Date | null;
  /** Text body; mailparser's text from the HTML when there is no text part. */
  readonly text: string;
  /** HTML body; empty when none. */
  readonly html: string;
  /** Files, with sizes as mailparser decoded them. */
  readonly attachments: AttachmentInfo[];
}

interface AddressEntry {
  address?: string;
  group?: AddressEntry[];
}
interface AddressValue {
  value: AddressEntry[];
}

/** Parses a whole message with mailparser's `simpleParser`. Throws what mailparser throws. */
export async function parseWholeMessage(source: Uint8Array): Promise<WholeMessage> {
  const { simpleParser } = await import("mailparser");
  const parsed = await simpleParser(
    Buffer.from(source.buffer, source.byteOffset, source.byteLength),
    { skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true },
  );
  return {
    subject: parsed.subject ?? null,
    from: addressesOf(parsed.from),
    to: addressesOf(parsed.to),
    cc: addressesOf(parsed.cc),
    replyTo: addressesOf(parsed.replyTo),
    date: dateOf(parsed.headerLines),
    text: parsed.text ?? "",
    html: typeof parsed.html === "string" ? parsed.html : "",
    attachments: parsed.attachments.map((attachment) => ({
      filename: attachment.filename ?? null,
      content_type: (attachment.contentType || "application/octet-stream").toLowerCase(),
      size: attachment.size,
    })),
  };
}

/**
 * The Date header read by our own rules: mailparser puts the current time
 * where it cannot read one, which would pass for a real date.
 */
function dateOf(lines: ReadonlyArray<{ key: string; line: string }>): Date | null {
  const line = lines.find((header) => header.key === "date")?.line;
  return line ? mailDate(line.slice(line.indexOf(":") + 1)) : null;
}

function addressesOf(value: AddressValue | AddressValue[] | undefined): string[] {
  const out: string[] = [];
  const visit = (entry: AddressEntry): void => {
    if (entry.group) entry.group.forEach(visit);
    // Re-read through our own address rules, so the fallback keeps the fast path's addr-spec form.
    else if (entry.address) out.push(...parseAddressList(entry.address));
  };
  for (const object of Array.isArray(value) ? value : value ? [value] : []) {
    object.value.forEach(visit);
  }
  return out;
}

/**
 * Fetches the full source of `messages` and attaches mailparser's reading as
 * `message.whole`. A server refusal is recorded in the message's
 * `fetchProblems`; other failures throw like every other fetch. Returns the
 * bytes downloaded.
 */
export async function fetchWholeMessages(
  client: ImapFlow,
  messages: readonly FetchedMessage[],
): Promise<number> {
  if (messages.length === 0) return 0;
  const byUid = new Map(messages.map((message) => [message.uid, message]));
  let rows;
  try {
    rows = await client.fetchAll(uidSet([...byUid.keys()]), { uid: true, source: true }, {
      uid: true,
    });
  } catch (error) {
    if (classifyImapFailure(error) !== "refused") throw toImapError(error, "UID FETCH BODY[]");
    const reason = toImapError(error, "UID FETCH BODY[]").message;
    for (const message of messages) (message.fetchProblems ??= []).push(reason);
    return 0;
  }
  let bytes = 0;
  for (const row of rows) {
    const message = byUid.get(row.uid);
    if (!message || !row.source) continue;
    bytes += row.source.length;
    try {
      message.whole = await parseWholeMessage(row.source);
    } catch (error) {
      (message.fetchProblems ??= []).push(
        `whole message: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return bytes;
}
